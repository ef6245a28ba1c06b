package io.ratislog.client;

import io.ratislog.proto.CommitOffsetRequest;
import io.ratislog.proto.CommitOffsetResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchCommittedOffsetRequest;
import io.ratislog.proto.FetchCommittedOffsetResponse;
import io.ratislog.proto.HeartbeatRequest;
import io.ratislog.proto.HeartbeatResponse;
import io.ratislog.proto.JoinGroupRequest;
import io.ratislog.proto.JoinGroupResponse;
import io.ratislog.proto.LeaveGroupRequest;
import io.ratislog.proto.LeaveGroupResponse;
import io.ratislog.proto.SyncGroupRequest;
import io.ratislog.proto.SyncGroupResponse;
import io.ratislog.proto.TopicPartitions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member of a consumer group: the group spreads the subscribed topics' partitions over its members (each
 * partition read by one member per generation), and the member commits its progress per partition through the
 * partition's own Raft group.
 *
 * <p>Membership: the first {@link #poll} joins. A background thread heartbeats the metadata leader every
 * {@link GroupConsumerConfig#heartbeatIntervalMs()}; when a heartbeat answers that the generation moved
 * (another member joined, left or expired) the next poll fetches the new assignment, and when the member is
 * unknown (it was expired) the next poll joins again. On every new generation each assigned partition starts at
 * the group's committed offset, or per the auto-offset-reset policy when the group never committed there.
 *
 * <p>Delivery ({@link GroupConsumerConfig#delivery()}):
 * <ul>
 *   <li>AT_MOST_ONCE: poll commits the returned records' next offsets before returning them. A crash after
 *       the commit skips them; nothing is delivered twice. When the commit fails the records are not returned
 *       (FENCED_GENERATION and UNKNOWN_MEMBER_ID: the member re-joins and the new owner delivers them).</li>
 *   <li>AT_LEAST_ONCE: the application calls {@link #commit()} after processing; it commits the positions of
 *       the records already returned. A crash before the commit redelivers them; nothing is lost.</li>
 *   <li>EXACTLY_ONCE: reads READ_COMMITTED; the application commits the offsets in its transaction
 *       ({@link Producer#sendOffsetsToTransaction} with {@link #groupMetadata()}); after an aborted transaction
 *       it calls {@link #rewindToCommitted()} to read the records again.</li>
 * </ul>
 * A commit answered FENCED_GENERATION or UNKNOWN_MEMBER_ID (this member is a zombie) is never treated as a
 * success: {@link #commit()} throws it, and the next poll re-joins.
 *
 * <p>Not thread-safe: use a group consumer from one thread (the heartbeat thread is internal).
 */
public final class GroupConsumer implements AutoCloseable {
  /** The longest a poll waits for records before it checks for a rebalance. */
  private static final long REBALANCE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  private static final Logger LOG = LoggerFactory.getLogger(GroupConsumer.class);

  private final GroupConsumerConfig config;
  /** Assignment and start positions (and, in pull mode, the fetching). */
  private final Consumer consumer;
  /** Push mode: one subscription per assigned partition, replaced at every new assignment. */
  private final Map<TopicPartition, Subscription> subscriptions = new LinkedHashMap<>();
  private final ClusterConnection conn;
  private final GroupCalls calls;
  private final ScheduledExecutorService heartbeats;
  private final long timeoutMs;
  /** Next offset per partition of the records returned and not yet committed. */
  private final Map<TopicPartition, Long> returned = new LinkedHashMap<>();
  private volatile String memberId;
  private volatile long generation = -1;
  private volatile boolean needSync;
  private volatile boolean needJoin = true;
  private boolean closed;

  /**
   * Creates a group consumer; nothing is contacted before the first {@link #poll}.
   *
   * @param config the settings
   */
  public GroupConsumer(GroupConsumerConfig config) {
    this.config = config;
    this.consumer = new Consumer(config.consumer());
    ConsumerConfig cc = config.consumer();
    this.conn = new ClusterConnection(cc.bootstrap(), cc.requestTimeoutMs(), cc.channelFactory());
    this.timeoutMs = Math.max(cc.requestTimeoutMs(), 15_000);
    this.calls = new GroupCalls(conn, cc.requestTimeoutMs());
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ratislog-heartbeat-" + config.group());
      t.setDaemon(true);
      return t;
    });
    heartbeats.scheduleWithFixedDelay(this::heartbeat, config.heartbeatIntervalMs(), config.heartbeatIntervalMs(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * This member's id, or null before the first join.
   *
   * @return the member id
   */
  public String memberId() {
    return memberId;
  }

  /**
   * The generation of the assignment this member works with, or -1 before the first join.
   *
   * @return the generation
   */
  public long generation() {
    return generation;
  }

  /**
   * This member as a transactional producer's offset commit needs it.
   *
   * @return group, generation and member id
   * @throws IllegalArgumentException before the first poll joined the group
   */
  public ConsumerGroupMetadata groupMetadata() {
    return new ConsumerGroupMetadata(config.group(), generation, memberId == null ? "" : memberId);
  }

  /**
   * Moves every assigned partition back to the group's committed offset: after an aborted transaction, the
   * records it consumed are read again.
   */
  public void rewindToCommitted() {
    ensureOpen();
    returned.clear();
    seekToCommitted();
    if (config.pushWindow() > 0) {
      subscribeFromPositions();
    }
  }

  private void refuseInExactlyOnce() {
    if (config.delivery() == DeliveryMode.EXACTLY_ONCE) {
      throw new RatislogException(ErrorCode.INVALID_REQUEST, "an EXACTLY_ONCE group consumer commits through a"
          + " transactional producer: Producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata())");
    }
  }

  /**
   * The partitions this member reads in its generation.
   *
   * @return the assignment
   */
  public Set<TopicPartition> assignment() {
    return consumer.assignment();
  }

  /**
   * Joins or re-syncs when needed, then returns records of the assigned partitions (see the class comment for
   * when they are committed).
   *
   * @param timeout how long to wait when nothing is available
   * @return the records, per partition in offset order; empty on timeout or right after a rebalance
   * @throws RatislogException a non-retriable error, or (AT_MOST_ONCE) a commit that failed — its records are
   *                           then not delivered
   */
  public List<ConsumerRecord> poll(Duration timeout) {
    ensureOpen();
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    while (true) {
      long left = deadline - System.nanoTime();
      // Short slices: a rebalance the heartbeat thread learns of (e.g. the partitions of an expired member
      // moving here) is acted on within a slice, not after the whole timeout.
      List<ConsumerRecord> records = pollOnce(Duration.ofNanos(Math.min(Math.max(0, left), REBALANCE_CHECK_NANOS)));
      if (!records.isEmpty() || System.nanoTime() - deadline >= 0) {
        return records;
      }
    }
  }

  private List<ConsumerRecord> pollOnce(Duration timeout) {
    ensureMembership();
    List<ConsumerRecord> records = config.pushWindow() > 0 ? pollPushed(timeout) : consumer.poll(timeout);
    if (records.isEmpty() || needJoin || needSync) {
      if (!records.isEmpty()) {
        seekToCommitted(); // the assignment moved meanwhile: hand nothing over, re-read after the re-sync
        if (config.pushWindow() > 0) {
          subscribeFromPositions();
        }
      }
      return records.isEmpty() ? records : List.of();
    }
    Map<TopicPartition, Long> next = new LinkedHashMap<>();
    for (ConsumerRecord r : records) {
      next.put(r.topicPartition(), r.offset() + 1);
    }
    if (config.delivery() == DeliveryMode.AT_MOST_ONCE) {
      try {
        commitOffsets(next);
      } catch (RatislogException e) {
        if (e.code() == ErrorCode.FENCED_GENERATION || e.code() == ErrorCode.UNKNOWN_MEMBER_ID) {
          return List.of(); // re-joins on the next poll; the partition's owner delivers these
        }
        throw e;
      }
    } else {
      returned.putAll(next);
    }
    return records;
  }

  /**
   * Commits the positions of the records already returned (AT_LEAST_ONCE: call after processing them).
   *
   * @throws RatislogException FENCED_GENERATION or UNKNOWN_MEMBER_ID when this member no longer owns a
   *                           partition in the current generation (it re-joins on the next poll; the records
   *                           are redelivered by the partition's owner), or any other non-retriable error
   */
  public void commit() {
    ensureOpen();
    refuseInExactlyOnce();
    if (returned.isEmpty()) {
      return;
    }
    commitOffsets(new LinkedHashMap<>(returned));
    returned.clear();
  }

  /**
   * Commits the given next offsets: for an application that processed only part of what {@link #poll}
   * returned (it stops part-way, or processes record by record). Each offset should be at most the position of
   * the records returned for its partition; a partition committed up to its position is no longer pending.
   *
   * @param nextOffsets per partition, the offset after the last processed record
   */
  public void commit(Map<TopicPartition, Long> nextOffsets) {
    ensureOpen();
    refuseInExactlyOnce();
    if (nextOffsets.isEmpty()) {
      return;
    }
    commitOffsets(new LinkedHashMap<>(nextOffsets));
  }

  private void commitOffsets(Map<TopicPartition, Long> offsets) {
    String member = memberId;
    long gen = generation;
    for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
      TopicPartition tp = e.getKey();
      CommitOffsetRequest req = CommitOffsetRequest.newBuilder().setGroup(config.group()).setTopic(tp.topic())
          .setPartition(tp.partition()).setOffset(e.getValue()).setGeneration(gen).setMemberId(member).build();
      CommitOffsetResponse r = calls.partition("CommitOffset", tp, s -> s.commitOffset(req),
          CommitOffsetResponse::getError, x -> x.hasLeader() ? x.getLeader() : null, timeoutMs);
      ErrorCode code = r.getError().getCode();
      if (code == ErrorCode.NONE) {
        returned.remove(tp, e.getValue());
        continue;
      }
      if (code == ErrorCode.FENCED_GENERATION || code == ErrorCode.UNKNOWN_MEMBER_ID) {
        LOG.info("group {}: commit on {} refused ({}), re-joining", config.group(), tp, r.getError().getMessage());
        if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
          needJoin = true;
        } else {
          needSync = true;
        }
        returned.clear();
      }
      throw new RatislogException(code, "commit of offset " + e.getValue() + " on " + tp + " for group "
          + config.group() + ": " + r.getError().getMessage());
    }
  }

  private void ensureMembership() {
    if (needJoin || memberId == null) {
      join();
    } else if (needSync) {
      sync();
    }
  }

  private void join() {
    JoinGroupRequest req = JoinGroupRequest.newBuilder().setGroup(config.group())
        .setMemberId("") // a new member: the old id (if any) was expired or fenced
        .addAllTopics(config.topics()).setSessionTimeoutMs(config.sessionTimeoutMs()).setAssignor(config.assignor())
        .setClientId(config.clientId()).build();
    JoinGroupResponse r = calls.coordinator("JoinGroup", s -> s.joinGroup(req), JoinGroupResponse::getError,
        null, timeoutMs);
    if (r.getError().getCode() != ErrorCode.NONE) {
      throw new RatislogException(r.getError().getCode(), "JoinGroup " + config.group() + ": " + r.getError().getMessage());
    }
    memberId = r.getMemberId();
    needJoin = false;
    needSync = false;
    apply(r.getGeneration(), r.getAssignmentList());
  }

  private void sync() {
    SyncGroupRequest req = SyncGroupRequest.newBuilder().setGroup(config.group()).setMemberId(memberId).build();
    needSync = false;
    SyncGroupResponse r = calls.coordinator("SyncGroup", s -> s.syncGroup(req), SyncGroupResponse::getError,
        null, timeoutMs);
    ErrorCode code = r.getError().getCode();
    if (code == ErrorCode.UNKNOWN_MEMBER_ID || code == ErrorCode.UNKNOWN_GROUP) {
      join();
      return;
    }
    if (code != ErrorCode.NONE) {
      needSync = true;
      throw new RatislogException(code, "SyncGroup " + config.group() + ": " + r.getError().getMessage());
    }
    apply(r.getGeneration(), r.getAssignmentList());
  }

  /** Takes a generation's assignment; every partition starts at the group's committed offset. */
  private void apply(long gen, List<TopicPartitions> assignment) {
    Set<TopicPartition> tps = new LinkedHashSet<>();
    for (TopicPartitions a : assignment) {
      a.getPartitionsList().forEach(p -> tps.add(new TopicPartition(a.getTopic(), p)));
    }
    LOG.info("group {}: member {} has generation {}: {}", config.group(), memberId, gen, tps);
    returned.clear();
    generation = gen;
    consumer.assign(tps);
    try {
      seekToCommitted();
    } catch (RuntimeException e) {
      // The positions are not the committed ones: nothing may be read before the next poll re-syncs and seeks.
      needSync = true;
      throw e;
    }
    if (config.pushWindow() > 0) {
      subscribeFromPositions();
    }
  }

  /** Push mode: (re)subscribes every assigned partition from its start position. */
  private void subscribeFromPositions() {
    closeSubscriptions();
    for (TopicPartition tp : consumer.assignment()) {
      subscriptions.put(tp, new Subscription(conn, false, tp, consumer.position(tp), config.pushWindow()));
    }
  }

  private void closeSubscriptions() {
    subscriptions.values().forEach(Subscription::close);
    subscriptions.clear();
  }

  /** Push mode: what the subscriptions received, waiting up to {@code timeout} for the first record. */
  private List<ConsumerRecord> pollPushed(Duration timeout) {
    List<ConsumerRecord> out = new ArrayList<>();
    if (subscriptions.isEmpty()) {
      sleepQuietly(timeout);
      return out;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    Duration slice = Duration.ofNanos(Math.max(1_000_000, timeout.toNanos() / subscriptions.size()));
    do {
      for (Subscription s : subscriptions.values()) {
        out.addAll(s.poll(out.isEmpty() ? slice : Duration.ZERO, 1000));
      }
    } while (out.isEmpty() && System.nanoTime() - deadline < 0);
    return out;
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(Math.max(0, d.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void seekToCommitted() {
    List<TopicPartition> reset = new ArrayList<>();
    for (TopicPartition tp : consumer.assignment()) {
      // With our generation: the partition fences older generations' commits from here on, and answers
      // UNSTABLE_OFFSET_COMMIT (retried) while a transaction of the previous owner still holds an offset commit.
      FetchCommittedOffsetRequest req = FetchCommittedOffsetRequest.newBuilder().setGroup(config.group())
          .setTopic(tp.topic()).setPartition(tp.partition()).setGeneration(generation).setMemberId(memberId == null ? "" : memberId).build();
      FetchCommittedOffsetResponse r = calls.partition("FetchCommittedOffset", tp, s -> s.fetchCommittedOffset(req),
          FetchCommittedOffsetResponse::getError, x -> x.hasLeader() ? x.getLeader() : null, timeoutMs);
      if (r.getError().getCode() != ErrorCode.NONE) {
        throw new RatislogException(r.getError().getCode(), "FetchCommittedOffset " + tp + ": " + r.getError().getMessage());
      }
      if (r.getOffset() >= 0) {
        consumer.seek(tp, r.getOffset());
      } else {
        reset.add(tp);
      }
    }
    if (!reset.isEmpty()) {
      switch (config.consumer().autoOffsetReset()) {
        case LATEST -> consumer.seekToEnd(reset);
        case NONE -> throw new RatislogException(ErrorCode.OFFSET_OUT_OF_RANGE, "group " + config.group()
            + " has no committed offset on " + reset + " and autoOffsetReset is NONE");
        default -> consumer.seekToBeginning(reset);
      }
    }
  }

  private void heartbeat() {
    String member = memberId;
    if (member == null || needJoin || closed) {
      return;
    }
    try {
      HeartbeatRequest req = HeartbeatRequest.newBuilder().setGroup(config.group()).setMemberId(member)
          .setGeneration(generation).build();
      HeartbeatResponse r = calls.coordinator("Heartbeat", s -> s.heartbeat(req), HeartbeatResponse::getError,
          x -> x.hasLeader() ? x.getLeader() : null, config.heartbeatIntervalMs());
      switch (r.getError().getCode()) {
        case NONE -> { }
        case REBALANCE_IN_PROGRESS, FENCED_GENERATION -> needSync = true;
        case UNKNOWN_MEMBER_ID, UNKNOWN_GROUP -> needJoin = true;
        default -> LOG.debug("heartbeat of {}: {}", member, r.getError().getMessage());
      }
    } catch (RuntimeException e) {
      LOG.debug("heartbeat of {} failed: {}", member, e.toString());
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("group consumer is closed");
    }
  }

  /** Leaves the group (its partitions move to the other members at once), then closes the connections. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    heartbeats.shutdownNow();
    String member = memberId;
    if (member != null) {
      try {
        LeaveGroupRequest req = LeaveGroupRequest.newBuilder().setGroup(config.group()).setMemberId(member).build();
        calls.coordinator("LeaveGroup", s -> s.leaveGroup(req), LeaveGroupResponse::getError, null, 5_000);
      } catch (RuntimeException e) {
        LOG.info("group {}: leaving failed ({}); the session timeout will expire member {}", config.group(),
            e.getMessage(), member);
      }
    }
    closeWithoutLeaving();
  }

  /**
   * Stops heartbeating and closes the connections without leaving the group: what a crashed process looks like
   * to the cluster. The member's partitions move only once its session times out.
   */
  public void closeWithoutLeaving() {
    closed = true;
    heartbeats.shutdownNow();
    closeSubscriptions();
    consumer.close();
    conn.close();
  }
}
