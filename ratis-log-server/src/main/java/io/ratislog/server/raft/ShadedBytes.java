package io.ratislog.server.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The one boundary between our protobuf (com.google.protobuf) and Ratis' shaded copy: Ratis messages carry a
 * shaded {@link ByteString}; our entries are unshaded messages. Conversions wrap without copying where the
 * bytes are not shared afterwards.
 */
public final class ShadedBytes {
  private ShadedBytes() {
  }

  /** A Ratis message holding a serialized protobuf message. */
  public static Message toMessage(MessageLite m) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(m.toByteArray()));
  }

  /** Parses a protobuf message from Ratis' shaded bytes. */
  public static <T> T parse(Parser<T> parser, ByteString bytes) throws InvalidProtocolBufferException {
    return parser.parseFrom(bytes.asReadOnlyByteBuffer());
  }
}
