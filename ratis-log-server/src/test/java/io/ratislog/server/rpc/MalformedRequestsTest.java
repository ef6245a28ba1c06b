package io.ratislog.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.AlterTopicConfigRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class MalformedRequestsTest {
  private static final String METHOD = AdminServiceGrpc.getAlterTopicConfigMethod().getFullMethodName();

  @SuppressWarnings("unchecked")
  private static Object parse(byte[] wire) {
    ServerServiceDefinition lenient = MalformedRequests.lenient(new AdminServiceGrpc.AdminServiceImplBase() { }.bindService());
    MethodDescriptor<Object, Object> m = (MethodDescriptor<Object, Object>) lenient.getMethod(METHOD).getMethodDescriptor();
    return m.getRequestMarshaller().parse(new ByteArrayInputStream(wire));
  }

  private static byte[] withField(byte[] base, int wireType, byte[] payload) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(base);
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    c.writeUInt32NoTag((MalformedRequests.MARKER_FIELD << 3) | wireType);
    if (wireType == 2) {
      c.writeUInt32NoTag(payload.length);
      c.writeRawBytes(payload);
    } else {
      c.writeUInt64NoTag(7);
    }
    c.flush();
    return out.toByteArray();
  }

  @Test
  void undecodableRequestIsMarkedWithWhyItFailed() {
    String problem = MalformedRequests.problem(parse(new byte[] {0x0a, 0x7f, 0x01}));
    assertNotNull(problem);
    assertTrue(problem.startsWith("the request does not decode as AlterTopicConfig's request"), problem);
  }

  @Test
  void wellFormedRequestIsNotMarked() {
    byte[] wire = AlterTopicConfigRequest.newBuilder().setName("t").putSet("retention.ms", "1").build().toByteArray();
    assertNull(MalformedRequests.problem(parse(wire)));
  }

  /** A client's own field with the marker's number, as a varint: FuzzIT found the check threw (gRPC UNKNOWN). */
  @Test
  void markerFieldNumberSentAsVarintIsAnOrdinaryUnknownField() throws IOException {
    byte[] wire = withField(AlterTopicConfigRequest.newBuilder().setName("t").build().toByteArray(), 0, null);
    Object parsed = parse(wire);
    assertEquals("t", ((AlterTopicConfigRequest) parsed).getName());
    assertNull(MalformedRequests.problem(parsed));
  }

  @Test
  void markerFieldNumberSentLengthDelimitedCannotForgeARefusal() throws IOException {
    byte[] wire = withField(new byte[0], 2, ByteString.copyFromUtf8("forged").toByteArray());
    assertNull(MalformedRequests.problem(parse(wire)));
  }
}
