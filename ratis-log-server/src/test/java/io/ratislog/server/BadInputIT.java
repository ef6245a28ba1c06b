package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordMetadata;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.CreateTopicRequest;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every kind of bad request gets its error code, loses nothing, and leaves the node serving. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {
  private Path dir;
  private MiniCluster cluster;
  private ManagedChannel channel;
  private LogServiceGrpc.LogServiceBlockingStub log;
  private AdminServiceGrpc.AdminServiceBlockingStub admin;
  private Map<String, RecordMetadata> acked;

  @BeforeAll
  void start() throws Exception {
    dir = java.nio.file.Files.createTempDirectory("badinput");
    Properties p = new Properties();
    p.setProperty("max.record.bytes", "1024");
    p.setProperty("max.batch.bytes", "65536");
    p.setProperty("max.partitions.per.node", "8");
    cluster = new MiniCluster(dir, 3, p).startAll();
    try (Admin a = admin(cluster); Producer producer = producer(cluster)) {
      a.createTopic("t", 1, 3);
      acked = produceAll(producer, "t", "good", 100);
    }
    int leader = leaderOf(cluster, "t", 0);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.clientPort(leader)).usePlaintext().build();
    log = LogServiceGrpc.newBlockingStub(channel);
    admin = AdminServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  void stop() throws Exception {
    channel.shutdownNow();
    cluster.close();
    org.apache.ratis.util.FileUtils.deleteFully(dir);
  }

  private ErrorCode produce(ProduceRequest r) {
    ProduceResponse resp = log.produce(r);
    assertTrue(resp.getError().getCode() == ErrorCode.NONE || !resp.getError().getMessage().isEmpty(),
        "every error has a readable message: " + resp);
    return resp.getError().getCode();
  }

  @Test
  void produceErrors() {
    assertEquals(ErrorCode.NONE, produce(batch("t", 0, records(2, 10), 2).build()));
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, produce(batch("nope", 0, records(1, 10), 1).build()));
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, produce(batch("t", 7, records(1, 10), 1).build()));
    assertEquals(ErrorCode.INVALID_REQUEST, produce(batch("t", -1, records(1, 10), 1).build()));
    assertEquals(ErrorCode.INVALID_REQUEST, produce(batch("", 0, records(1, 10), 1).build()));
    assertEquals(ErrorCode.RECORD_TOO_LARGE, produce(batch("t", 0, records(1, 4000), 1).build()));
    assertEquals(ErrorCode.RECORD_TOO_LARGE, produce(batch("t", 0, records(100, 1000), 100).build()));
    assertEquals(ErrorCode.CORRUPT_BATCH, produce(batch("t", 0, records(3, 10), 3).setCrc32C(12345).build()));
    assertEquals(ErrorCode.CORRUPT_BATCH, produce(batch("t", 0, records(3, 10), 2).build()));
    assertEquals(ErrorCode.INVALID_REQUEST, produce(batch("t", 0, records(1, 10), 0).build()));
    assertEquals(ErrorCode.INVALID_REQUEST, produce(batch("t", 0, ByteString.EMPTY, 1).build()));
    byte[] garbage = new byte[200];
    new Random(7).nextBytes(garbage);
    garbage[0] = (byte) 0xff; // an invalid protobuf tag
    assertEquals(ErrorCode.CORRUPT_BATCH, produce(batch("t", 0, ByteString.copyFrom(garbage), 1).build()));
  }

  @Test
  void fetchErrors() {
    assertEquals(ErrorCode.INVALID_REQUEST, log.fetch(FetchRequest.newBuilder().setTopic("t").setOffset(-1).build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_REQUEST, log.fetch(FetchRequest.newBuilder().setTopic("t").setMaxBytes(-5).build()).getError().getCode());
    assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, log.fetch(FetchRequest.newBuilder().setTopic("t").setOffset(1_000_000).build()).getError().getCode());
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, log.fetch(FetchRequest.newBuilder().setTopic("nope").build()).getError().getCode());
  }

  @Test
  void adminErrors() {
    assertEquals(ErrorCode.INVALID_TOPIC, admin.createTopic(CreateTopicRequest.newBuilder().setName("bad name!").setPartitions(1).build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_TOPIC, admin.createTopic(CreateTopicRequest.newBuilder().setName("").setPartitions(1).build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_PARTITIONS, admin.createTopic(CreateTopicRequest.newBuilder().setName("x").setPartitions(0).build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_REPLICATION_FACTOR, admin.createTopic(CreateTopicRequest.newBuilder().setName("x").setPartitions(1).setReplicationFactor(4).build()).getError().getCode());
    assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS, admin.createTopic(CreateTopicRequest.newBuilder().setName("t").setPartitions(1).build()).getError().getCode());
    try (Admin a = admin(cluster)) {
      RatislogException e = assertThrows(RatislogException.class, () -> a.deleteTopic("never-created"));
      assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, e.code());
    }
  }

  @Test
  void aTopicBeyondTheNodesReplicaLimitIsRefusedAndNothingIsCreated() throws Exception {
    try (Admin a = admin(cluster)) {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (!a.describeCluster().getNodesList().stream().allMatch(n -> n.getMaxReplicas() == 8)) {
        assertTrue(System.nanoTime() < deadline, "every node registers its limit: " + a.describeCluster());
        Thread.sleep(100);
      }
      RatislogException e = assertThrows(RatislogException.class, () -> a.createTopic("too-many", 8, 3));
      assertEquals(ErrorCode.REPLICA_LIMIT_EXCEEDED, e.code());
      assertTrue(e.getMessage().contains("takes at most 8 (its max.partitions.per.node)"), e.getMessage());
      assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          assertThrows(RatislogException.class, () -> a.describeTopic("too-many")).code());
      assertTrue(a.describeCluster().getNodesList().stream().allMatch(n -> n.getReplicaCount() == 1),
          "only topic t's replicas are placed: " + a.describeCluster());
    }
  }

  @Test
  void limitsAndUnknownEnumsAreRefusedBeforeAnythingIsWritten() {
    // An unknown reset target used to fall through to TO_OFFSET without its offset check: a negative committed offset.
    var groups = io.ratislog.proto.GroupServiceGrpc.newBlockingStub(channel);
    assertEquals(ErrorCode.INVALID_REQUEST, groups.resetOffsets(io.ratislog.proto.ResetOffsetsRequest.newBuilder()
        .setGroup("g").setTopic("t").setTargetValue(77).setOffset(-5).build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_REQUEST, log.listOffsets(io.ratislog.proto.ListOffsetsRequest.newBuilder()
        .setTopic("t").setSpecValue(9).build()).getError().getCode());
    CreateTopicRequest.Builder many = CreateTopicRequest.newBuilder().setName("many-configs").setPartitions(1);
    for (int i = 0; i < 101; i++) {
      many.putConfigs("k" + i, "v");
    }
    assertEquals(ErrorCode.INVALID_CONFIG, admin.createTopic(many.build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_CONFIG, admin.createTopic(CreateTopicRequest.newBuilder().setName("big-config")
        .setPartitions(1).putConfigs("k", "v".repeat(5000)).build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_TOPIC, admin.deleteTopic(io.ratislog.proto.DeleteTopicRequest.newBuilder()
        .setName("no way").build()).getError().getCode());
    assertEquals(ErrorCode.INVALID_REQUEST, groups.joinGroup(io.ratislog.proto.JoinGroupRequest.newBuilder().setGroup("g")
        .addAllTopics(java.util.Collections.nCopies(1001, "t")).setSessionTimeoutMs(5000).build()).getError().getCode());
    // A huge topic name is refused without being echoed back.
    ProduceResponse r = log.produce(ProduceRequest.newBuilder().setTopic("x".repeat(200_000)).build());
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, r.getError().getCode());
    assertTrue(r.getError().getMessage().length() < 500, r.getError().getMessage());
  }

  @Test
  void undecodableRequestsAreAnsweredInvalidRequest() {
    MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(LogServiceGrpc.getFetchMethod().getFullMethodName())
        .setRequestMarshaller(new BytesMarshaller())
        .setResponseMarshaller(new BytesMarshaller())
        .build();
    byte[] truncated = {0x0a, 0x7f, 't'}; // field 1 claims 127 bytes, 1 follows
    byte[] answer = ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT, truncated);
    try {
      io.ratislog.proto.FetchResponse r = io.ratislog.proto.FetchResponse.parseFrom(answer);
      assertEquals(ErrorCode.INVALID_REQUEST, r.getError().getCode());
      assertTrue(r.getError().getMessage().contains("does not decode as Fetch's request"), r.getError().getMessage());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void malformedProtobufIsRefusedAndTheNodeStaysUp() throws Exception {
    MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(LogServiceGrpc.getProduceMethod().getFullMethodName())
        .setRequestMarshaller(new BytesMarshaller())
        .setResponseMarshaller(new BytesMarshaller())
        .build();
    Random random = new Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] junk = new byte[1 + random.nextInt(300)];
      random.nextBytes(junk);
      try {
        byte[] answer = ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT, junk);
        ProduceResponse r = ProduceResponse.parseFrom(answer);
        assertTrue(r.getError().getCode() != ErrorCode.NONE || r.getBaseOffset() >= 0);
      } catch (StatusRuntimeException refused) {
        // gRPC itself refuses bytes that are not a ProduceRequest: fine, as long as the node lives.
      }
    }
    try (Producer producer = producer(cluster)) {
      acked.putAll(produceAll(producer, "t", "still-up", 50));
    }
    List<ConsumerRecord> read = readAll(cluster, "t", 1, acked.size());
    assertAllAckedReadAtTheirOffsets(acked, read);
  }

  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
