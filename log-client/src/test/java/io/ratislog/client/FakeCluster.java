package io.ratislog.client;

import com.google.protobuf.ByteString;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.CreateTopicRequest;
import io.ratislog.proto.CreateTopicResponse;
import io.ratislog.proto.DeleteTopicRequest;
import io.ratislog.proto.DeleteTopicResponse;
import io.ratislog.proto.DescribeClusterRequest;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.DescribeTopicRequest;
import io.ratislog.proto.DescribeTopicResponse;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.FetchResponse;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.ListOffsetsRequest;
import io.ratislog.proto.ListOffsetsResponse;
import io.ratislog.proto.ListTopicsRequest;
import io.ratislog.proto.ListTopicsResponse;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.Node;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.OffsetSpec;
import io.ratislog.proto.PartitionDescription;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import io.ratislog.proto.TopicDescription;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny in-memory stand-in for a ratislog cluster (test only): nodes {@code 1..n}, each a gRPC
 * server on a loopback ephemeral port, addressed by clients as {@code node<id>:<id>} (the channel
 * factory from {@link #channels()} maps those names to the real ports; grpc-java 1.83 moved the
 * in-process transport out of grpc-core, so loopback Netty stands in for it). Each partition has a real leader;
 * requests to other nodes get NOT_LEADER with the leader as hint. DescribeTopic may report a stale
 * leader, and errors can be injected per node.
 */
final class FakeCluster implements AutoCloseable {
  final int size;
  final List<Server> servers = new ArrayList<>();
  final Map<String, FakeTopic> topics = new ConcurrentHashMap<>();
  /** Per node: errors to answer the next LogService requests with (then behave normally). */
  final Map<Integer, Deque<ErrorCode>> injected = new ConcurrentHashMap<>();
  final Map<Integer, AtomicInteger> produceCalls = new ConcurrentHashMap<>();
  final Map<Integer, AtomicInteger> fetchCalls = new ConcurrentHashMap<>();
  volatile int metadataLeader = 1;
  /** When >= 0, DescribeTopic reports this node as every partition's leader (stale metadata). */
  volatile int reportedLeaderOverride = -1;
  /** When true, NOT_LEADER responses carry no hint. */
  volatile boolean withholdHints;

  static final class FakeTopic {
    final String name;
    final int rf;
    final int[] leader;
    final List<List<FetchedBatch>> logs = new ArrayList<>();
    final long[] end;
    final Map<String, String> configs = new java.util.TreeMap<>();

    FakeTopic(String name, int partitions, int rf, int size) {
      this.name = name;
      this.rf = rf;
      this.leader = new int[partitions];
      this.end = new long[partitions];
      for (int p = 0; p < partitions; p++) {
        leader[p] = (p % size) + 1;
        logs.add(new ArrayList<>());
      }
    }

    List<Integer> replicas(int p, int size) {
      List<Integer> r = new ArrayList<>();
      for (int i = 0; i < rf; i++) {
        r.add(((p + i) % size) + 1);
      }
      return r;
    }
  }

  FakeCluster(int size) throws IOException {
    this.size = size;
    for (int id = 1; id <= size; id++) {
      injected.put(id, new ArrayDeque<>());
      produceCalls.put(id, new AtomicInteger());
      fetchCalls.put(id, new AtomicInteger());
      servers.add(Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
          .addService(new Log(id)).addService(new AdminImpl(id)).build().start());
    }
  }

  static HostPort address(int id) {
    return new HostPort("node" + id, id);
  }

  static Node node(int id) {
    return Node.newBuilder().setId(id).setHost("node" + id).setClientPort(id).build();
  }

  String bootstrap(int... ids) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      sb.append(sb.length() == 0 ? "" : ",").append(address(id));
    }
    return sb.toString();
  }

  /** Channels to the fake nodes; an address that is no node gets a refused port (UNAVAILABLE). */
  ChannelFactory channels() {
    return hp -> {
      int port = 1; // nothing listens there: connection refused
      if (hp.host().equals("node" + hp.port()) && hp.port() >= 1 && hp.port() <= size
          && !servers.get(hp.port() - 1).isShutdown()) {
        port = servers.get(hp.port() - 1).getPort();
      }
      return ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    };
  }

  /** Stops one node (its address then refuses connections). */
  void stop(int id) {
    servers.get(id - 1).shutdownNow();
  }

  synchronized FakeTopic createTopic(String name, int partitions, int rf) {
    FakeTopic t = new FakeTopic(name, partitions, rf, size);
    topics.put(name, t);
    return t;
  }

  /** Appends a batch as is (possibly with a wrong CRC). */
  synchronized long appendRaw(String topic, int p, ByteString records, int crc, int count) {
    FakeTopic t = topics.get(topic);
    long base = t.end[p];
    t.logs.get(p).add(FetchedBatch.newBuilder().setBaseOffset(base).setRecordCount(count)
        .setLogAppendTimeMs(System.currentTimeMillis()).setRecords(records).setCrc32C(crc).build());
    t.end[p] += count;
    return base;
  }

  /** Appends values as one well-formed batch. */
  long appendValues(String topic, int p, String... values) {
    List<Record> rs = new ArrayList<>();
    for (String v : values) {
      rs.add(Record.newBuilder().setValue(ByteString.copyFromUtf8(v)).build());
    }
    RecordCodec.Encoded enc = RecordCodec.encode(rs);
    return appendRaw(topic, p, enc.bytes(), enc.crc32c(), enc.count());
  }

  synchronized List<String> values(String topic, int p) {
    List<String> out = new ArrayList<>();
    for (FetchedBatch b : topics.get(topic).logs.get(p)) {
      try {
        for (Record r : RecordSet.parseFrom(RecordCompression.records(b.getRecords(), Integer.MAX_VALUE, "batch"))
            .getRecordsList()) {
          out.add(r.getValue().toStringUtf8());
        }
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
    return out;
  }

  TopicDescription describe(FakeTopic t) {
    TopicDescription.Builder b = TopicDescription.newBuilder().setName(t.name).setTopicId(t.name.hashCode())
        .setReplicationFactor(t.rf).putAllConfigs(t.configs);
    for (int p = 0; p < t.leader.length; p++) {
      int reported = reportedLeaderOverride >= 0 ? reportedLeaderOverride : t.leader[p];
      b.addPartitions(PartitionDescription.newBuilder().setPartition(p).setLeader(reported)
          .addAllReplicas(t.replicas(p, size)).setRaftGroupId("g-" + p));
    }
    return b.build();
  }

  private static Error err(ErrorCode c, String m) {
    return Error.newBuilder().setCode(c).setMessage(m).build();
  }

  private static final Error OK = Error.getDefaultInstance();

  @Override
  public void close() {
    servers.forEach(Server::shutdownNow);
  }

  /** Next expected sequence per producer id, topic and partition (idempotent sessions). */
  private final java.util.Map<String, Integer> sequences = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong producerIds = new java.util.concurrent.atomic.AtomicLong();

  private final class Log extends LogServiceGrpc.LogServiceImplBase {
    private final int id;

    Log(int id) {
      this.id = id;
    }

    private ErrorCode nextInjected() {
      Deque<ErrorCode> q = injected.get(id);
      synchronized (q) {
        return q.pollFirst();
      }
    }

    private Node hint(FakeTopic t, int p) {
      return withholdHints ? null : node(t.leader[p]);
    }

    @Override
    public void produce(ProduceRequest req, StreamObserver<ProduceResponse> obs) {
      produceCalls.get(id).incrementAndGet();
      ProduceResponse.Builder r = ProduceResponse.newBuilder();
      FakeTopic t = topics.get(req.getTopic());
      ErrorCode inj = nextInjected();
      if (inj != null) {
        r.setError(err(inj, "injected " + inj));
      } else if (t == null || req.getPartition() >= t.leader.length) {
        r.setError(err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no such topic " + req.getTopic()));
      } else if (t.leader[req.getPartition()] != id) {
        r.setError(err(ErrorCode.NOT_LEADER, "node " + id + " is not the leader"));
        Node h = hint(t, req.getPartition());
        if (h != null) {
          r.setLeader(h);
        }
      } else if (RecordCodec.crc32c(req.getRecords()) != req.getCrc32C()) {
        r.setError(err(ErrorCode.CORRUPT_BATCH, "crc mismatch"));
      } else {
        // The sequence check and the append are one step, as in a partition's state machine: concurrent calls
        // (pipelined batches) must not interleave between them.
        synchronized (FakeCluster.this) {
          if (req.getProducerId() >= 0 && req.getBaseSequence() != expectedSequence(req)) {
            r.setError(err(ErrorCode.OUT_OF_ORDER_SEQUENCE, "expected sequence " + expectedSequence(req)
                + ", got " + req.getBaseSequence()));
          } else {
            if (req.getProducerId() >= 0) {
              sequences.put(req.getProducerId() + "/" + req.getTopic() + "/" + req.getPartition(),
                  req.getBaseSequence() + req.getRecordCount());
            }
            long base = appendRaw(req.getTopic(), req.getPartition(), req.getRecords(), req.getCrc32C(),
                req.getRecordCount());
            r.setError(OK).setBaseOffset(base).setLogAppendTimeMs(System.currentTimeMillis());
          }
        }
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }

    private int expectedSequence(ProduceRequest req) {
      return sequences.getOrDefault(req.getProducerId() + "/" + req.getTopic() + "/" + req.getPartition(), 0);
    }

    @Override
    public void initProducer(io.ratislog.proto.InitProducerRequest req,
                             StreamObserver<io.ratislog.proto.InitProducerResponse> obs) {
      obs.onNext(io.ratislog.proto.InitProducerResponse.newBuilder().setError(OK)
          .setProducerId(producerIds.incrementAndGet()).build());
      obs.onCompleted();
    }

    @Override
    public void fetch(FetchRequest req, StreamObserver<FetchResponse> obs) {
      fetchCalls.get(id).incrementAndGet();
      FetchResponse.Builder r = FetchResponse.newBuilder();
      FakeTopic t = topics.get(req.getTopic());
      ErrorCode inj = nextInjected();
      if (inj != null) {
        r.setError(err(inj, "injected " + inj));
      } else if (t == null || req.getPartition() >= t.leader.length) {
        r.setError(err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no such topic"));
      } else if (t.leader[req.getPartition()] != id) {
        r.setError(err(ErrorCode.NOT_LEADER, "not the leader"));
        Node h = hint(t, req.getPartition());
        if (h != null) {
          r.setLeader(h);
        }
      } else {
        int p = req.getPartition();
        long end;
        List<FetchedBatch> found = new ArrayList<>();
        synchronized (FakeCluster.this) {
          end = t.end[p];
          if (req.getOffset() > end) {
            r.setError(err(ErrorCode.OFFSET_OUT_OF_RANGE, "offset above end " + end));
          } else {
            for (FetchedBatch b : t.logs.get(p)) {
              if (b.getBaseOffset() + b.getRecordCount() > req.getOffset()) {
                found.add(b);
              }
            }
            r.setError(OK).addAllBatches(found);
          }
        }
        if (found.isEmpty() && r.getError().getCode() == ErrorCode.NONE) {
          try {
            Thread.sleep(Math.min(req.getMaxWaitMs(), 50));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        r.setLogEndOffset(end).setLogStartOffset(0);
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }

    @Override
    public void listOffsets(ListOffsetsRequest req, StreamObserver<ListOffsetsResponse> obs) {
      ListOffsetsResponse.Builder r = ListOffsetsResponse.newBuilder();
      FakeTopic t = topics.get(req.getTopic());
      if (t == null || req.getPartition() >= t.leader.length) {
        r.setError(err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no such topic"));
      } else if (t.leader[req.getPartition()] != id) {
        r.setError(err(ErrorCode.NOT_LEADER, "not the leader"));
        Node h = hint(t, req.getPartition());
        if (h != null) {
          r.setLeader(h);
        }
      } else {
        synchronized (FakeCluster.this) {
          long end = t.end[req.getPartition()];
          r.setError(OK).setOffset(req.getSpec() == OffsetSpec.EARLIEST ? 0 : end)
              .setLogStartOffset(0).setLogEndOffset(end);
        }
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }
  }

  private final class AdminImpl extends AdminServiceGrpc.AdminServiceImplBase {
    private final int id;

    AdminImpl(int id) {
      this.id = id;
    }

    @Override
    public void createTopic(CreateTopicRequest req, StreamObserver<CreateTopicResponse> obs) {
      CreateTopicResponse.Builder r = CreateTopicResponse.newBuilder();
      if (topics.containsKey(req.getName())) {
        r.setError(err(ErrorCode.TOPIC_ALREADY_EXISTS, "topic " + req.getName() + " already exists"));
      } else if (req.getPartitions() <= 0) {
        r.setError(err(ErrorCode.INVALID_PARTITIONS, "partitions must be > 0"));
      } else {
        int rf = req.getReplicationFactor() == 0 ? Math.min(3, size) : req.getReplicationFactor();
        r.setError(OK).setTopic(describe(FakeCluster.this.createTopic(req.getName(), req.getPartitions(), rf)));
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }

    @Override
    public void deleteTopic(DeleteTopicRequest req, StreamObserver<DeleteTopicResponse> obs) {
      DeleteTopicResponse.Builder r = DeleteTopicResponse.newBuilder();
      r.setError(topics.remove(req.getName()) == null
          ? err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no topic " + req.getName()) : OK);
      obs.onNext(r.build());
      obs.onCompleted();
    }

    @Override
    public void listTopics(ListTopicsRequest req, StreamObserver<ListTopicsResponse> obs) {
      ListTopicsResponse.Builder r = ListTopicsResponse.newBuilder().setError(OK);
      topics.values().forEach(t -> r.addTopics(describe(t)));
      obs.onNext(r.build());
      obs.onCompleted();
    }

    @Override
    public void describeTopic(DescribeTopicRequest req, StreamObserver<DescribeTopicResponse> obs) {
      DescribeTopicResponse.Builder r = DescribeTopicResponse.newBuilder();
      FakeTopic t = topics.get(req.getName());
      if (t == null) {
        r.setError(err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no topic " + req.getName()));
      } else {
        r.setError(OK).setTopic(describe(t));
        for (int i = 1; i <= size; i++) {
          r.addNodes(node(i));
        }
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }

    @Override
    public void alterTopicConfig(io.ratislog.proto.AlterTopicConfigRequest req,
                                 StreamObserver<io.ratislog.proto.AlterTopicConfigResponse> obs) {
      io.ratislog.proto.AlterTopicConfigResponse.Builder r = io.ratislog.proto.AlterTopicConfigResponse.newBuilder();
      FakeTopic t = topics.get(req.getName());
      if (t == null) {
        r.setError(err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no topic " + req.getName()));
      } else if (req.getSetMap().keySet().stream().anyMatch(k -> !k.startsWith("retention."))) {
        r.setError(err(ErrorCode.INVALID_CONFIG, "unknown topic config"));
      } else {
        t.configs.putAll(req.getSetMap());
        req.getRemoveList().forEach(t.configs::remove);
        r.setError(OK).setTopic(describe(t));
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }

    @Override
    public void describeCluster(DescribeClusterRequest req, StreamObserver<DescribeClusterResponse> obs) {
      DescribeClusterResponse.Builder r = DescribeClusterResponse.newBuilder().setError(OK)
          .setMetadataLeader(metadataLeader).setAnsweredBy(id);
      for (int i = 1; i <= size; i++) {
        r.addNodes(NodeStatus.newBuilder().setNode(node(i)).setUp(true).setMetadataVoter(i <= 3));
      }
      obs.onNext(r.build());
      obs.onCompleted();
    }
  }
}
