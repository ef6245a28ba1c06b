package io.ratislog.client;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.DescribeTopicRequest;
import io.ratislog.proto.DescribeTopicResponse;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's view of a cluster: one gRPC channel per node and a metadata cache (per topic: the
 * partition count, each partition's replicas and current leader; plus every node's client
 * address), filled through {@code AdminService.DescribeTopic} on any reachable node.
 *
 * <p>The cache is corrected on the fly: a {@code NOT_LEADER} answer carrying a leader hint updates
 * the partition's leader immediately ({@link #onNotLeader}), a leader-less error marks it unknown
 * and schedules a refresh ({@link #onLeaderUnknown}). Shared by {@link Admin}, {@link Producer} and
 * {@link Consumer}; thread-safe.
 */
public final class ClusterConnection implements AutoCloseable {
  /** Per-node deadline of an idempotent admin read (DescribeTopic, ...) before the next node is asked. */
  static final long READ_ATTEMPT_TIMEOUT_MS = 1_500;
  private static final Logger LOG = LoggerFactory.getLogger(ClusterConnection.class);
  /** A stale entry is refreshed at most this often. */
  private static final long MIN_REFRESH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final AtomicInteger THREADS = new AtomicInteger();
  /**
   * How long a node that a call could not reach (UNAVAILABLE: a refused or reset connection, typically a node that
   * just died) is tried last: {@link #route} and {@link #candidates} prefer the others, and a NOT_LEADER hint naming
   * it is not followed (the node that gave it has not noticed the death yet).
   */
  static final long UNREACHABLE_AVOID_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final List<HostPort> bootstrap;
  private final ChannelFactory channelFactory;
  private final long requestTimeoutMs;
  private final Map<HostPort, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Map<Integer, HostPort> nodes = new ConcurrentHashMap<>();
  private final Map<String, TopicMetadata> cache = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<TopicMetadata>> refreshing = new ConcurrentHashMap<>();
  private final ExecutorService metadataExecutor;
  private final AtomicInteger rotation = new AtomicInteger();
  private final Map<HostPort, Long> unreachableSince = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * Connects (lazily) to a cluster with plaintext channels and a 10 s request timeout.
   *
   * @param bootstrap {@code host:port,host:port,...}
   */
  public ClusterConnection(String bootstrap) {
    this(bootstrap, 10_000, ChannelFactory.plaintext());
  }

  /**
   * Connects (lazily) to a cluster.
   *
   * @param bootstrap        {@code host:port,host:port,...}
   * @param requestTimeoutMs the deadline of one metadata RPC and of one metadata refresh overall
   * @param channelFactory   opens the channel to each node
   */
  public ClusterConnection(String bootstrap, long requestTimeoutMs, ChannelFactory channelFactory) {
    this.bootstrap = HostPort.parseList(bootstrap);
    this.requestTimeoutMs = requestTimeoutMs;
    this.channelFactory = channelFactory;
    this.metadataExecutor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "ratislog-metadata-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * The bootstrap addresses.
   *
   * @return the parsed bootstrap list
   */
  public List<HostPort> bootstrap() {
    return bootstrap;
  }

  /**
   * The request timeout this connection was created with.
   *
   * @return milliseconds
   */
  public long requestTimeoutMs() {
    return requestTimeoutMs;
  }

  /**
   * The channel to an address, created on first use.
   *
   * @param address a node's client address
   * @return the channel
   */
  ManagedChannel channel(HostPort address) {
    if (closed) {
      throw new RatislogException(ErrorCode.INVALID_REQUEST, "connection is closed");
    }
    ManagedChannel ch = channels.computeIfAbsent(address, channelFactory::create);
    if (ch.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      // While gRPC waits to reconnect it fails every call at once, and its wait grows to two minutes. A node that
      // is back (restarted, or the new leader of a partition whose old leader this client saw die) would stay
      // unreachable for seconds: the failover benchmark's producer got UNAVAILABLE from a live new leader for
      // 1.2 s. Here the reconnection starts at once (this call may still fail, the next finds the node), paced by
      // the callers' own retry backoff.
      ch.resetConnectBackoff();
    }
    return ch;
  }

  /** An async LogService stub for a node with a deadline. */
  LogServiceGrpc.LogServiceStub logStub(HostPort address, long deadlineMs) {
    return LogServiceGrpc.newStub(channel(address)).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
  }

  /** A blocking GroupService stub for a node with a deadline. */
  io.ratislog.proto.TransactionServiceGrpc.TransactionServiceBlockingStub txnStub(HostPort address, long deadlineMs) {
    return io.ratislog.proto.TransactionServiceGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
  }

  io.ratislog.proto.GroupServiceGrpc.GroupServiceBlockingStub groupStub(HostPort address, long deadlineMs) {
    return io.ratislog.proto.GroupServiceGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Every address worth trying for a cluster-wide request, bootstrap addresses first then the known
   * node addresses, rotated so that successive calls start at different nodes.
   */
  List<HostPort> candidates() {
    Set<HostPort> all = new LinkedHashSet<>(bootstrap);
    all.addAll(nodes.values());
    List<HostPort> list = new ArrayList<>(all);
    int start = Math.floorMod(rotation.getAndIncrement(), list.size());
    List<HostPort> rotated = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      rotated.add(list.get((start + i) % list.size()));
    }
    return reachableFirst(rotated);
  }

  /** The same addresses, those not {@link #recentlyUnreachable} first, each part in its order. */
  private List<HostPort> reachableFirst(List<HostPort> list) {
    List<HostPort> sorted = new ArrayList<>(list.size());
    List<HostPort> last = new ArrayList<>();
    for (HostPort hp : list) {
      (recentlyUnreachable(hp) ? last : sorted).add(hp);
    }
    sorted.addAll(last);
    return sorted;
  }

  /**
   * A call to {@code hp} failed with UNAVAILABLE: for {@link #UNREACHABLE_AVOID_NANOS} it is tried last.
   *
   * @param hp the address the call went to
   */
  void onUnreachable(HostPort hp) {
    unreachableSince.put(hp, System.nanoTime());
  }

  boolean recentlyUnreachable(HostPort hp) {
    Long since = unreachableSince.get(hp);
    if (since == null) {
      return false;
    }
    if (System.nanoTime() - since > UNREACHABLE_AVOID_NANOS) {
      unreachableSince.remove(hp, since);
      return false;
    }
    return true;
  }

  /**
   * Runs an AdminService call on any node: on a transport failure (or a retriable error in the
   * response) the next node is tried, rounds separated by a backoff, until {@code timeoutMs}.
   *
   * @param op         a name for messages
   * @param call       the call on a blocking stub (which already carries a per-RPC deadline)
   * @param errorOf    extracts the response's error
   * @param idempotent whether the call may be repeated after an unknown outcome: when false only
   *                   {@code UNAVAILABLE}, {@code NOT_LEADER} and {@code LEADER_NOT_AVAILABLE}
   *                   (nothing was done) lead to a retry
   * @param timeoutMs  overall time budget
   * @param <T>        the response type
   * @return the first response without error
   * @throws RatislogException the response's error, or a transport error when no node answered
   */
  <T> T callAdmin(String op, Function<AdminServiceGrpc.AdminServiceBlockingStub, T> call,
      Function<T, Error> errorOf, boolean idempotent, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    RatislogException last = null;
    int round = 0;
    while (true) {
      for (HostPort hp : candidates()) {
        long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (remaining <= 0) {
          break;
        }
        try {
          // A read gives each node a short deadline: a hung node (paused, overloaded, half-partitioned) must
          // not hold up the answer another node would give at once.
          long perNode = idempotent ? Math.min(requestTimeoutMs, READ_ATTEMPT_TIMEOUT_MS) : requestTimeoutMs;
          AdminServiceGrpc.AdminServiceBlockingStub stub = AdminServiceGrpc.newBlockingStub(channel(hp))
              .withDeadlineAfter(Math.min(remaining, perNode), TimeUnit.MILLISECONDS);
          T resp = call.apply(stub);
          Error err = errorOf.apply(resp);
          if (err.getCode() == ErrorCode.NONE) {
            return resp;
          }
          RatislogException e = new RatislogException(err.getCode(), err.getMessage());
          boolean retry = idempotent ? RetryPolicy.isRetriable(err.getCode())
              : err.getCode() == ErrorCode.NOT_LEADER || err.getCode() == ErrorCode.LEADER_NOT_AVAILABLE;
          if (!retry) {
            throw e;
          }
          last = e;
          LOG.debug("{} on {}: {}", op, hp, e.getMessage());
        } catch (StatusRuntimeException sre) {
          Status.Code c = sre.getStatus().getCode();
          boolean retry = idempotent ? RetryPolicy.isRetriable(c) : c == Status.Code.UNAVAILABLE;
          RatislogException e = RatislogException.transport(sre.getStatus(), op + " on " + hp, sre);
          if (!retry) {
            throw e;
          }
          last = e;
          LOG.debug("{} on {} failed: {}", op, hp, e.getMessage());
        }
      }
      long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (remaining <= 0) {
        if (last == null) {
          last = new RatislogException(ErrorCode.TIMEOUT, op + ": no time left");
        }
        throw last;
      }
      sleep(Math.min(remaining, RetryPolicy.backoffMs(++round)));
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RatislogException(ErrorCode.TIMEOUT, "interrupted", e);
    }
  }

  /** Records a node's client address. */
  void learnNode(Node n) {
    if (n != null && n.getId() >= 0 && !n.getHost().isEmpty() && n.getClientPort() > 0) {
      nodes.put(n.getId(), new HostPort(n.getHost(), n.getClientPort()));
    }
  }

  /**
   * Describes a topic (blocking) from the answering node's replica of the metadata, updating the cache and the
   * node addresses.
   *
   * @param topic the topic
   * @return the response (error NONE)
   */
  DescribeTopicResponse describeTopic(String topic, long timeoutMs) {
    return describeTopic(topic, timeoutMs, false);
  }

  /**
   * Describes a topic (blocking), updating the cache and the node addresses.
   *
   * @param topic         the topic
   * @param linearizable  read through the metadata leader (sees every change committed before the call) rather
   *                      than from the answering node's replica, which may lag it
   * @return the response (error NONE)
   */
  DescribeTopicResponse describeTopic(String topic, long timeoutMs, boolean linearizable) {
    DescribeTopicRequest req = DescribeTopicRequest.newBuilder().setName(topic).setLinearizable(linearizable).build();
    try {
      DescribeTopicResponse resp = callAdmin("DescribeTopic(" + topic + ")",
          s -> s.describeTopic(req), DescribeTopicResponse::getError, true, timeoutMs);
      resp.getNodesList().forEach(this::learnNode);
      cache.put(topic, TopicMetadata.of(resp.getTopic()));
      return resp;
    } catch (RatislogException e) {
      if (e.code() == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        cache.remove(topic);
      }
      throw e;
    }
  }

  /**
   * The cached metadata of a topic, or null.
   *
   * @param topic the topic
   * @return the cached metadata or null
   */
  TopicMetadata cached(String topic) {
    return cache.get(topic);
  }

  /** The cached metadata when present, else a refresh. */
  CompletableFuture<TopicMetadata> metadata(String topic) {
    TopicMetadata md = cache.get(topic);
    return md != null ? CompletableFuture.completedFuture(md) : refresh(topic);
  }

  /**
   * Refreshes a topic's metadata asynchronously; concurrent refreshes of a topic are merged.
   *
   * @param topic the topic
   * @return the fresh metadata, or a failure (UNKNOWN_TOPIC_OR_PARTITION, transport, ...)
   */
  CompletableFuture<TopicMetadata> refresh(String topic) {
    CompletableFuture<TopicMetadata> f = new CompletableFuture<>();
    CompletableFuture<TopicMetadata> existing = refreshing.putIfAbsent(topic, f);
    if (existing != null) {
      return existing;
    }
    try {
      metadataExecutor.execute(() -> {
        try {
          describeTopic(topic, requestTimeoutMs);
          TopicMetadata md = cache.get(topic);
          refreshing.remove(topic, f);
          f.complete(md);
        } catch (Throwable t) {
          refreshing.remove(topic, f);
          f.completeExceptionally(RatislogException.wrap(t));
        }
      });
    } catch (RuntimeException e) {
      refreshing.remove(topic, f);
      f.completeExceptionally(new RatislogException(ErrorCode.INVALID_REQUEST, "connection is closed", e));
    }
    return f;
  }

  /**
   * Resolves where to send a request for a partition: its leader when known, else (leader unknown)
   * one of its replicas, rotating with {@code attempt}, which answers NOT_LEADER with a hint or
   * LEADER_NOT_AVAILABLE. Refreshes the metadata first when missing or marked stale.
   *
   * @param tp      the partition
   * @param attempt the attempt number, used to rotate over replicas
   * @return the address, or a failure (e.g. UNKNOWN_TOPIC_OR_PARTITION)
   */
  CompletableFuture<HostPort> route(TopicPartition tp, int attempt) {
    TopicMetadata md = cache.get(tp.topic());
    CompletableFuture<TopicMetadata> f;
    boolean leaderUnknown = md != null
        && (tp.partition() >= md.partitionCount() || md.leaders[tp.partition()] < 0);
    if (md == null || (leaderUnknown && System.nanoTime() - md.fetchedAtNanos > MIN_REFRESH_INTERVAL_NANOS)) {
      CompletableFuture<TopicMetadata> r = refresh(tp.topic());
      // When an entry exists, a failed refresh still lets us try the replicas.
      f = md == null ? r : r.exceptionally(t -> {
        TopicMetadata cur = cache.get(tp.topic());
        if (cur == null) {
          throw RatislogException.wrap(t);
        }
        return cur;
      });
    } else {
      f = CompletableFuture.completedFuture(md);
    }
    return f.thenApply(m -> pick(m, tp, attempt));
  }

  private HostPort pick(TopicMetadata md, TopicPartition tp, int attempt) {
    int p = tp.partition();
    if (p >= md.partitionCount()) {
      throw new RatislogException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, String.format(
          "topic %s has %d partitions, no partition %d", tp.topic(), md.partitionCount(), p));
    }
    int leader = md.leaders[p];
    if (leader >= 0) {
      HostPort hp = nodes.get(leader);
      if (hp != null && !recentlyUnreachable(hp)) {
        return hp;
      }
    }
    List<HostPort> options = new ArrayList<>();
    for (int id : md.replicas[p]) {
      HostPort hp = nodes.get(id);
      if (hp != null) {
        options.add(hp);
      }
    }
    if (options.isEmpty()) {
      options = candidates();
    }
    List<HostPort> reachable = options.stream().filter(hp -> !recentlyUnreachable(hp)).toList();
    if (!reachable.isEmpty()) {
      options = reachable;
    }
    return options.get(Math.floorMod(attempt, options.size()));
  }

  /**
   * Applies a NOT_LEADER answer: with a hint the partition's leader becomes the hinted node at once;
   * without one, or with one naming a node a call just failed to reach, the leader is marked unknown and the topic
   * refreshed on next use.
   *
   * @param tp   the partition
   * @param hint the response's leader field, or null when absent
   * @return true when a usable hint was applied (retry right away)
   */
  boolean onNotLeader(TopicPartition tp, Node hint) {
    if (hint == null || hint.getId() < 0 || hint.getHost().isEmpty() || hint.getClientPort() <= 0
        || recentlyUnreachable(new HostPort(hint.getHost(), hint.getClientPort()))) {
      onLeaderUnknown(tp);
      return false;
    }
    learnNode(hint);
    cache.computeIfPresent(tp.topic(), (t, md) -> md.withLeader(tp.partition(), hint.getId()));
    LOG.debug("leader of {} is now node {} ({})", tp, hint.getId(), nodes.get(hint.getId()));
    return true;
  }

  /**
   * Marks a partition's leader unknown (after LEADER_NOT_AVAILABLE, a timeout or a transport
   * failure); the topic's metadata is refreshed on the next {@link #route}.
   *
   * @param tp the partition
   */
  void onLeaderUnknown(TopicPartition tp) {
    cache.computeIfPresent(tp.topic(), (t, md) -> md.withLeader(tp.partition(), -1));
  }

  /**
   * Drops a topic from the cache.
   *
   * @param topic the topic
   */
  void invalidate(String topic) {
    cache.remove(topic);
  }

  /** Shuts every channel down (waiting up to 5 s in total) and stops the metadata threads. */
  @Override
  public void close() {
    closed = true;
    metadataExecutor.shutdownNow();
    for (ManagedChannel ch : channels.values()) {
      ch.shutdown();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (ManagedChannel ch : channels.values()) {
      try {
        if (!ch.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          ch.shutdownNow();
        }
      } catch (InterruptedException e) {
        ch.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    channels.clear();
  }

  /** Immutable cached metadata of one topic. */
  static final class TopicMetadata {
    final String name;
    final int[] leaders;
    final int[][] replicas;
    final long fetchedAtNanos;

    private TopicMetadata(String name, int[] leaders, int[][] replicas, long fetchedAtNanos) {
      this.name = name;
      this.leaders = leaders;
      this.replicas = replicas;
      this.fetchedAtNanos = fetchedAtNanos;
    }

    static TopicMetadata of(io.ratislog.proto.TopicDescription t) {
      int n = 0;
      for (var p : t.getPartitionsList()) {
        n = Math.max(n, p.getPartition() + 1);
      }
      int[] leaders = new int[n];
      Arrays.fill(leaders, -1);
      int[][] replicas = new int[n][];
      Arrays.fill(replicas, new int[0]);
      for (var p : t.getPartitionsList()) {
        leaders[p.getPartition()] = p.getLeader();
        replicas[p.getPartition()] = p.getReplicasList().stream().mapToInt(Integer::intValue).toArray();
      }
      return new TopicMetadata(t.getName(), leaders, replicas, System.nanoTime());
    }

    int partitionCount() {
      return leaders.length;
    }

    int leader(int partition) {
      return leaders[partition];
    }

    TopicMetadata withLeader(int partition, int leader) {
      if (partition >= leaders.length) {
        return this;
      }
      int[] l = leaders.clone();
      l[partition] = leader;
      return new TopicMetadata(name, l, replicas, fetchedAtNanos);
    }
  }
}
