package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.assertAllAckedReadAtTheirOffsets;
import static io.ratislog.server.ClusterTestSupport.produceAll;
import static io.ratislog.server.ClusterTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.RecordMetadata;
import io.ratislog.proto.*;
import io.ratislog.server.security.SecureClusters;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends {@code fuzz.requests} (default 100,000) random and mutated requests to a 3-node cluster, spread over every
 * RPC and every node: valid requests with bit flips, inserted, deleted and overwritten bytes, truncations, huge
 * varints and unknown fields; valid messages with hostile field values; pure garbage; plus raw garbage on the TCP
 * port. Meanwhile a real producer writes. Afterwards every node is up, every acknowledged record is read back at its
 * offset, and no request made a service throw (gRPC status UNKNOWN): bad input gets an error answer, not a crash.
 *
 * <p>{@code -Dfuzz.requests=N} (default 100,000), {@code -Dfuzz.budget.seconds=S} (default 100: sending stops
 * there on a slow machine, and the count sent is printed), {@code -Dfuzz.seed=N} replays a run.
 */
class FuzzIT {
  private static final int REQUESTS = Integer.getInteger("fuzz.requests", 100_000);
  private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
  /** Sending stops after this long even if fewer requests went out (CI time bound on a loaded machine); logged. */
  private static final int BUDGET_SECONDS = Integer.getInteger("fuzz.budget.seconds", 100);
  private static final int IN_FLIGHT = 64;
  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  @TempDir Path dir;

  private record Target(MethodDescriptor<byte[], byte[]> method, Message seed) {
  }

  @Test
  void randomAndMutatedRequestsLoseNothingAndCrashNothing() throws Exception {
    System.out.println("fuzz seed " + SEED + ", " + REQUESTS + " requests");
    SplittableRandom random = new SplittableRandom(SEED);
    Properties p = new Properties();
    p.setProperty("max.fetch.wait.ms", "200");
    p.setProperty("max.batch.bytes", String.valueOf(256 * 1024));
    p.setProperty("max.record.bytes", String.valueOf(64 * 1024));
    try (MiniCluster c = new MiniCluster(dir, 3, p).startAll()) {
      SecureClusters.awaitMetadataLeader(c);
      try (Admin a = Admin.create(c.bootstrap(), java.time.Duration.ofSeconds(60))) {
        SecureClusters.createTopic(a, "acked-data", 2, 3);
        SecureClusters.createTopic(a, "fz-target", 1, 3);
      }
      Map<String, RecordMetadata> acked = new ConcurrentHashMap<>();
      List<ManagedChannel> channels = new ArrayList<>();
      for (int id : c.ids()) {
        channels.add(NettyChannelBuilder.forAddress("127.0.0.1", c.clientPort(id)).usePlaintext()
            .maxInboundMessageSize(64 * 1024 * 1024).build());
      }
      List<Target> targets = targets();
      Map<Status.Code, AtomicLong> statuses = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<String> crashes = new ConcurrentLinkedQueue<>();
      Semaphore window = new Semaphore(IN_FLIGHT);
      AtomicLong sent = new AtomicLong();
      long start = System.nanoTime();
      try (Producer producer = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(5).build())) {
        Thread writer = new Thread(() -> {
          try {
            for (int round = 0; round < 10; round++) {
              acked.putAll(produceAll(producer, "acked-data", "r" + round, 200));
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, "fuzz-writer");
        writer.start();
        long budgetEnd = start + TimeUnit.SECONDS.toNanos(BUDGET_SECONDS);
        for (int i = 0; i < REQUESTS; i++) {
          if (System.nanoTime() > budgetEnd) {
            System.out.printf("fuzz: time budget of %d s used up after %d of %d requests%n", BUDGET_SECONDS, i, REQUESTS);
            break;
          }
          sent.incrementAndGet();
          if (i % 500 == 0) {
            rawGarbage(c.clientPort(c.ids().get(random.nextInt(c.ids().size()))), random);
          }
          Target t = targets.get(random.nextInt(targets.size()));
          byte[] body = body(t, random);
          if (body == null) {
            continue;
          }
          window.acquire();
          send(channels.get(random.nextInt(channels.size())), t.method(), body, statuses, crashes, window);
        }
        window.acquire(IN_FLIGHT);
        window.release(IN_FLIGHT);
        writer.join(120_000);
        assertTrue(!writer.isAlive(), "the producer finished");
      }
      double secs = (System.nanoTime() - start) / 1e9;
      System.out.printf("fuzz: %d requests in %.1f s (%.0f/s), statuses %s%n", sent.get(), secs, sent.get() / secs, statuses);
      assertTrue(sent.get() >= Math.min(REQUESTS, 10_000), "at least 10,000 requests within the budget: " + sent.get());
      assertTrue(crashes.isEmpty(), "requests that made a service throw: " + crashes.stream().limit(10).toList());

      for (int id : c.ids()) {
        PingResponse pong = AdminServiceGrpc.newBlockingStub(channels.get(id - 1)).withDeadlineAfter(10, TimeUnit.SECONDS)
            .ping(PingRequest.getDefaultInstance());
        assertEquals(id, pong.getNodeId(), "node " + id + " is up");
      }
      assertEquals(2000, acked.size());
      assertAllAckedReadAtTheirOffsets(acked, readAll(c, "acked-data", 2, acked.size()));
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private static void send(ManagedChannel ch, MethodDescriptor<byte[], byte[]> method, byte[] body,
                           Map<Status.Code, AtomicLong> statuses, ConcurrentLinkedQueue<String> crashes, Semaphore window) {
    // A subscription streams until cancelled: give it a short life.
    long deadlineMs = method.getType() == MethodDescriptor.MethodType.UNARY ? 5_000 : 300;
    ClientCall<byte[], byte[]> call = ch.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        statuses.computeIfAbsent(status.getCode(), k -> new AtomicLong()).incrementAndGet();
        if (status.getCode() == Status.Code.UNKNOWN) {
          crashes.add(method.getBareMethodName() + ": " + status.getDescription());
        }
        window.release();
      }
    }, new Metadata());
    call.request(Integer.MAX_VALUE);
    call.sendMessage(body);
    call.halfClose();
  }

  /** Random bytes on a fresh TCP connection (sometimes after a valid HTTP/2 preface), then close. */
  private static void rawGarbage(int port, SplittableRandom random) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(200);
      OutputStream out = s.getOutputStream();
      if (random.nextBoolean()) {
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      byte[] junk = new byte[random.nextInt(1, 4096)];
      random.nextBytes(junk);
      out.write(junk);
      out.flush();
    } catch (IOException e) {
      // the server may reset the connection: that is the point
    }
  }

  /** The bytes to send: a mutated seed, a hostile variant of it, or garbage; null to skip. */
  private static byte[] body(Target t, SplittableRandom random) {
    int kind = random.nextInt(10);
    byte[] bytes;
    if (kind == 0) {
      bytes = new byte[random.nextInt(0, 512)];
      random.nextBytes(bytes);
    } else if (kind <= 3) {
      bytes = Hostile.variant(t.seed(), random).toByteArray();
    } else {
      bytes = Mutator.mutate(t.seed().toByteArray(), random);
    }
    // Heavy but legitimate requests are not bad input: a topic with thousands of partitions is load, not fuzz.
    if (t.method().getBareMethodName().equals("CreateTopic")) {
      try {
        CreateTopicRequest r = CreateTopicRequest.parseFrom(bytes);
        if (r.getPartitions() > 4 || r.getName().equals("acked-data")) {
          return null;
        }
      } catch (IOException e) {
        return bytes;
      }
    }
    if (t.method().getBareMethodName().equals("DeleteTopic")) {
      try {
        if (DeleteTopicRequest.parseFrom(bytes).getName().equals("acked-data")) {
          return null;
        }
      } catch (IOException e) {
        return bytes;
      }
    }
    return bytes;
  }

  private static List<Target> targets() {
    List<Target> list = new ArrayList<>();
    ByteString records = RecordSet.newBuilder()
        .addRecords(io.ratislog.proto.Record.newBuilder().setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("fuzz"))
            .addHeaders(Header.newBuilder().setKey("h").setValue(ByteString.copyFromUtf8("v"))))
        .addRecords(io.ratislog.proto.Record.newBuilder().setValue(ByteString.copyFromUtf8("fuzz2")).setTimestampMs(1)).build().toByteString();
    CRC32C crc = new CRC32C();
    crc.update(records.asReadOnlyByteBuffer());
    Map<String, Message> seeds = new java.util.LinkedHashMap<>();
    seeds.put("Produce", ProduceRequest.newBuilder().setTopic("fz-target").setRecords(records).setCrc32C((int) crc.getValue())
        .setRecordCount(2).setProducerId(-1).build());
    seeds.put("Fetch", FetchRequest.newBuilder().setTopic("fz-target").setOffset(0).setMaxBytes(4096).setMaxWaitMs(10).build());
    seeds.put("ListOffsets", ListOffsetsRequest.newBuilder().setTopic("fz-target").setSpec(OffsetSpec.LATEST).build());
    seeds.put("InitProducer", InitProducerRequest.getDefaultInstance());
    seeds.put("CreateTopic", CreateTopicRequest.newBuilder().setName("fz-new").setPartitions(1).setReplicationFactor(1)
        .putConfigs("retention.ms", "1000").build());
    seeds.put("DeleteTopic", DeleteTopicRequest.newBuilder().setName("fz-new").build());
    seeds.put("ListTopics", ListTopicsRequest.getDefaultInstance());
    seeds.put("DescribeTopic", DescribeTopicRequest.newBuilder().setName("fz-target").build());
    seeds.put("DescribeCluster", DescribeClusterRequest.getDefaultInstance());
    seeds.put("Ping", PingRequest.getDefaultInstance());
    AclBinding acl = AclBinding.newBuilder().setPrincipal("fz").setResourceType(AclResourceType.TOPIC).setResourceName("fz")
        .setOperation(AclOperation.READ).build();
    seeds.put("AddAcl", AddAclRequest.newBuilder().setBinding(acl).build());
    seeds.put("RemoveAcl", RemoveAclRequest.newBuilder().setBinding(acl).build());
    seeds.put("ListAcls", ListAclsRequest.getDefaultInstance());
    seeds.put("JoinGroup", JoinGroupRequest.newBuilder().setGroup("fz-group").addTopics("fz-target")
        .setSessionTimeoutMs(5000).setClientId("fz").build());
    seeds.put("Heartbeat", HeartbeatRequest.newBuilder().setGroup("fz-group").setMemberId("fz-1").setGeneration(1).build());
    seeds.put("SyncGroup", SyncGroupRequest.newBuilder().setGroup("fz-group").setMemberId("fz-1").build());
    seeds.put("LeaveGroup", LeaveGroupRequest.newBuilder().setGroup("fz-group").setMemberId("fz-1").build());
    seeds.put("ListGroups", ListGroupsRequest.getDefaultInstance());
    seeds.put("DescribeGroup", DescribeGroupRequest.newBuilder().setGroup("fz-group").build());
    seeds.put("CommitOffset", CommitOffsetRequest.newBuilder().setGroup("fz-group").setTopic("fz-target").setOffset(0)
        .setGeneration(1).setMemberId("fz-1").build());
    seeds.put("FetchCommittedOffset", FetchCommittedOffsetRequest.newBuilder().setGroup("fz-group").setTopic("fz-target").build());
    seeds.put("ResetOffsets", ResetOffsetsRequest.newBuilder().setGroup("fz-group").setTopic("fz-target")
        .setTarget(ResetTarget.TO_OFFSET).setOffset(0).build());
    seeds.put("Subscribe", SubscribeRequest.newBuilder().setStart(SubscribeStart.newBuilder().setTopic("fz-target")
        .setOffset(0).setCredits(10)).build());
    for (io.grpc.ServiceDescriptor service : List.of(LogServiceGrpc.getServiceDescriptor(),
        AdminServiceGrpc.getServiceDescriptor(), GroupServiceGrpc.getServiceDescriptor(),
        io.ratislog.proto.TransactionServiceGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> m : service.getMethods()) {
        Message seed = seeds.get(m.getBareMethodName());
        if (seed == null) {
          // An RPC added later: fuzz it from its empty request.
          seed = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller()).getMessagePrototype();
        }
        Target t = new Target(MethodDescriptor.<byte[], byte[]>newBuilder().setType(m.getType())
            .setFullMethodName(m.getFullMethodName()).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build(), seed);
        // Requests that may change the cluster (new Raft groups, metadata entries) are sent less often than reads.
        // Membership changes are left out: a well-formed random AddNode or ReassignPartition is a legitimate order
        // to move replicas onto nodes that do not exist, which is not what this test is about.
        int weight = switch (m.getBareMethodName()) {
          case "AddNode", "RemoveNode", "ReassignPartition" -> 0;
          case "CreateTopic", "DeleteTopic" -> 1;
          case "DescribeCluster", "Subscribe" -> 2;
          // Every node of this cluster votes, so no replacement can be valid: its checks are what is fuzzed.
          case "JoinGroup", "LeaveGroup", "AddAcl", "RemoveAcl", "InitProducer", "ResetOffsets", "CommitOffset",
               "ReplaceMetadataVoter" -> 4;
          default -> 10;
        };
        for (int w = 0; w < weight; w++) {
          list.add(t);
        }
      }
    }
    return list;
  }
}
