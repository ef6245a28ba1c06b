package io.ratislog.client;

import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.FetchResponse;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.ListOffsetsRequest;
import io.ratislog.proto.ListOffsetsResponse;
import io.ratislog.proto.Node;
import io.ratislog.proto.OffsetSpec;
import io.ratislog.proto.Record;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads records from assigned partitions.
 *
 * <p>{@link #poll} keeps one long-polling fetch ({@code FetchRequest.max_wait_ms}) outstanding per
 * assigned partition, sent to the partition's leader, and returns as soon as any of them brings
 * records (or at its timeout). Each fetched batch's CRC-32C is verified — a mismatch raises a
 * {@link RatislogException} with CORRUPT_BATCH and the partition's position stays at the corrupt
 * batch — records below the position are skipped, and positions advance past the returned records.
 * A partition without a position starts per {@link ConsumerConfig#autoOffsetReset()} (EARLIEST by
 * default), looked up with ListOffsets.
 *
 * <p>Not thread-safe: use a consumer from one thread.
 */
public final class Consumer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Consumer.class);

  private final ConsumerConfig config;
  private final ClusterConnection conn;
  private final Map<TopicPartition, PartitionState> states = new LinkedHashMap<>();
  private final LinkedBlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
  private RatislogException pendingError;
  private long epochs;
  private boolean closed;

  /** Per-partition fetch state. */
  private static final class PartitionState {
    final TopicPartition tp;
    /** Next offset to return, null while unknown. */
    Long position;
    /** A pending reset to resolve with ListOffsets, or null. */
    OffsetSpec pendingReset;
    /** Bumped on every seek: completions of older requests are discarded. */
    long epoch;
    /** Epoch of the outstanding request, or -1. */
    long inFlightEpoch = -1;
    long backoffUntilNanos;
    int failures;
    long unknownSinceNanos;

    PartitionState(TopicPartition tp) {
      this.tp = tp;
    }
  }

  /** A finished fetch or ListOffsets. */
  private record Completion(PartitionState state, long epoch, long requestedOffset,
      FetchResponse fetch, ListOffsetsResponse listOffsets, Throwable error) {}

  /**
   * Creates a consumer. Nothing is contacted until partitions are assigned and polled.
   *
   * @param config the settings
   */
  public Consumer(ConsumerConfig config) {
    this.config = Objects.requireNonNull(config);
    this.conn = new ClusterConnection(config.bootstrap(), config.requestTimeoutMs(), config.channelFactory());
  }

  /**
   * Creates a consumer with default settings.
   *
   * @param bootstrap {@code host:port,...}
   * @return the consumer
   */
  public static Consumer create(String bootstrap) {
    return new Consumer(ConsumerConfig.builder(bootstrap).build());
  }

  /**
   * The partitions of a topic, from the cluster's metadata.
   *
   * @param topic the topic
   * @return its partitions, in order
   * @throws RatislogException e.g. UNKNOWN_TOPIC_OR_PARTITION
   */
  public List<TopicPartition> partitionsFor(String topic) {
    int n = conn.describeTopic(topic, config.requestTimeoutMs()).getTopic().getPartitionsCount();
    List<TopicPartition> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new TopicPartition(topic, i));
    }
    return out;
  }

  /**
   * Replaces the assignment. Partitions kept keep their position; new ones start per
   * {@code autoOffsetReset}.
   *
   * @param partitions the partitions to read
   */
  public void assign(Collection<TopicPartition> partitions) {
    ensureOpen();
    Set<TopicPartition> wanted = new LinkedHashSet<>(partitions);
    states.keySet().retainAll(wanted);
    for (TopicPartition tp : wanted) {
      states.computeIfAbsent(tp, k -> {
        PartitionState s = new PartitionState(k);
        s.epoch = ++epochs;
        s.pendingReset = resetSpec();
        return s;
      });
    }
  }

  /**
   * The assigned partitions.
   *
   * @return the assignment, in assignment order
   */
  public Set<TopicPartition> assignment() {
    return new LinkedHashSet<>(states.keySet());
  }

  /**
   * Sets the next offset to read.
   *
   * @param tp     an assigned partition
   * @param offset the offset, not negative
   */
  public void seek(TopicPartition tp, long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be >= 0: " + offset);
    }
    PartitionState s = state(tp);
    s.position = offset;
    s.pendingReset = null;
    resetRequestState(s);
  }

  /**
   * Moves to the log start offset (resolved on the next {@link #poll} or {@link #position}).
   *
   * @param partitions assigned partitions
   */
  public void seekToBeginning(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      PartitionState s = state(tp);
      s.position = null;
      s.pendingReset = OffsetSpec.EARLIEST;
      resetRequestState(s);
    }
  }

  /**
   * Moves to the log end offset (resolved on the next {@link #poll} or {@link #position}).
   *
   * @param partitions assigned partitions
   */
  public void seekToEnd(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      PartitionState s = state(tp);
      s.position = null;
      s.pendingReset = OffsetSpec.LATEST;
      resetRequestState(s);
    }
  }

  /**
   * The next offset {@link #poll} returns for a partition; resolves a pending reset (ListOffsets,
   * retried up to the request timeout).
   *
   * @param tp an assigned partition
   * @return the position
   * @throws RatislogException when the position cannot be resolved
   */
  public long position(TopicPartition tp) {
    PartitionState s = state(tp);
    if (s.position == null) {
      if (s.pendingReset == null) {
        throw noPosition(tp);
      }
      long offset = listOffsetsBlocking(tp, s.pendingReset);
      s.position = offset;
      s.pendingReset = null;
      resetRequestState(s);
    }
    return s.position;
  }

  /**
   * Returns records of the assigned partitions, waiting at most {@code timeout} for some to arrive.
   * Returns as soon as any fetch brought records.
   *
   * @param timeout how long to wait when nothing is available
   * @return the records, per partition in offset order; empty on timeout
   * @throws RatislogException CORRUPT_BATCH on a CRC mismatch, OFFSET_OUT_OF_RANGE when out of range
   *                           with autoOffsetReset NONE, UNKNOWN_TOPIC_OR_PARTITION after the grace
   *                           period, or any other non-retriable error
   */
  public List<ConsumerRecord> poll(Duration timeout) {
    ensureOpen();
    if (pendingError != null) {
      RatislogException e = pendingError;
      pendingError = null;
      throw e;
    }
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    List<ConsumerRecord> out = new ArrayList<>();
    while (true) {
      long now = System.nanoTime();
      long nextBackoff = launchRequests(now, deadline);
      long wait = deadline - now;
      if (nextBackoff != Long.MAX_VALUE) {
        wait = Math.min(wait, nextBackoff - now);
      }
      Completion c;
      try {
        c = wait > 0 ? completions.poll(wait, TimeUnit.NANOSECONDS) : completions.poll();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return out;
      }
      while (c != null) {
        try {
          handle(c, out);
        } catch (RatislogException e) {
          if (out.isEmpty()) {
            throw e;
          }
          pendingError = e;
        }
        if (pendingError != null) {
          return out; // thrown by the next poll
        }
        c = completions.poll();
      }
      if (!out.isEmpty()) {
        prefetch();
        return out;
      }
      if (System.nanoTime() - deadline >= 0) {
        return out;
      }
    }
  }

  /**
   * Starts the next fetch of every partition that has a position and none in flight, so that it runs while the
   * caller processes what this poll returns (its answer waits for the next poll; a seek discards it).
   */
  private void prefetch() {
    long now = System.nanoTime();
    for (PartitionState s : states.values()) {
      if (s.inFlightEpoch != s.epoch && s.position != null && now - s.backoffUntilNanos >= 0) {
        startFetch(s, (int) config.maxWaitMs());
      }
    }
  }

  /** Starts the requests that can start; returns the earliest backoff expiry (or MAX). */
  private long launchRequests(long now, long deadline) {
    long nextBackoff = Long.MAX_VALUE;
    for (PartitionState s : states.values()) {
      if (s.inFlightEpoch == s.epoch) {
        continue;
      }
      if (now - s.backoffUntilNanos < 0) {
        nextBackoff = Math.min(nextBackoff, s.backoffUntilNanos);
        continue;
      }
      if (s.position == null) {
        if (s.pendingReset == null) {
          throw noPosition(s.tp);
        }
        startListOffsets(s);
      } else {
        int maxWait = (int) Math.max(0, Math.min(config.maxWaitMs(),
            TimeUnit.NANOSECONDS.toMillis(deadline - now)));
        startFetch(s, maxWait);
      }
    }
    return nextBackoff;
  }

  private void startFetch(PartitionState s, int maxWaitMs) {
    long epoch = s.epoch;
    long offset = s.position;
    s.inFlightEpoch = epoch;
    FetchRequest req = FetchRequest.newBuilder().setTopic(s.tp.topic()).setPartition(s.tp.partition())
        .setOffset(offset).setMaxBytes(config.maxBytesPerFetch()).setMaxWaitMs(maxWaitMs)
        .setIsolationLevel(config.isolationLevel()).build();
    conn.route(s.tp, s.failures)
        .thenCompose(hp -> GrpcCalls.unary(
            conn.logStub(hp, config.requestTimeoutMs() + maxWaitMs)::fetch, req))
        .whenComplete((resp, err) -> completions.add(new Completion(s, epoch, offset, resp, null, err)));
  }

  private void startListOffsets(PartitionState s) {
    long epoch = s.epoch;
    s.inFlightEpoch = epoch;
    ListOffsetsRequest req = ListOffsetsRequest.newBuilder().setTopic(s.tp.topic())
        .setPartition(s.tp.partition()).setSpec(s.pendingReset).setIsolationLevel(config.isolationLevel()).build();
    conn.route(s.tp, s.failures)
        .thenCompose(hp -> GrpcCalls.unary(conn.logStub(hp, config.requestTimeoutMs())::listOffsets, req))
        .whenComplete((resp, err) -> completions.add(new Completion(s, epoch, -1, null, resp, err)));
  }

  private void handle(Completion c, List<ConsumerRecord> out) {
    PartitionState s = c.state();
    if (s.inFlightEpoch == c.epoch()) {
      s.inFlightEpoch = -1;
    }
    if (c.epoch() != s.epoch || states.get(s.tp) != s) {
      return; // seeked or unassigned meanwhile
    }
    if (c.error() != null) {
      RatislogException e = RatislogException.wrap(c.error());
      onError(s, e, null);
      return;
    }
    if (c.listOffsets() != null) {
      ListOffsetsResponse r = c.listOffsets();
      if (r.getError().getCode() == ErrorCode.NONE) {
        s.position = r.getOffset();
        s.pendingReset = null;
        succeeded(s);
      } else {
        onError(s, new RatislogException(r.getError().getCode(), r.getError().getMessage()),
            r.hasLeader() ? r.getLeader() : null);
      }
      return;
    }
    FetchResponse r = c.fetch();
    ErrorCode code = r.getError().getCode();
    if (code == ErrorCode.OFFSET_OUT_OF_RANGE) {
      succeeded(s);
      String msg = String.format("offset %d out of range for %s (log start %d, log end %d): %s",
          c.requestedOffset(), s.tp, r.getLogStartOffset(), r.getLogEndOffset(), r.getError().getMessage());
      if (config.autoOffsetReset() == AutoOffsetReset.NONE) {
        throw new RatislogException(ErrorCode.OFFSET_OUT_OF_RANGE, msg);
      }
      LOG.info("{}; resetting to {}", msg, config.autoOffsetReset());
      s.position = null;
      s.pendingReset = resetSpec();
      s.epoch = ++epochs;
      return;
    }
    if (code != ErrorCode.NONE) {
      onError(s, new RatislogException(code, r.getError().getMessage()), r.hasLeader() ? r.getLeader() : null);
      return;
    }
    succeeded(s);
    appendRecords(s, r.getBatchesList(), out);
    int n = r.getBatchesCount();
    long returnedEnd = n == 0 ? c.requestedOffset() : r.getBatches(n - 1).getBaseOffset() + r.getBatches(n - 1).getRecordCount();
    if (r.getNextOffset() > s.position && s.position >= returnedEnd) {
      s.position = r.getNextOffset(); // past aborted transactions' batches the server skipped
    }
  }

  /**
   * Verifies and decodes the batches in order, returning the records at or above the position. At
   * a corrupt batch the position stops there: the error is thrown now when no record was collected
   * yet, else kept for the next poll (so that the good records before it are not lost).
   */
  private void appendRecords(PartitionState s, List<FetchedBatch> batches, List<ConsumerRecord> out) {
    long position = s.position;
    try {
      for (FetchedBatch b : batches) {
        if (b.getBaseOffset() + b.getRecordCount() <= position) {
          continue; // entirely below the position
        }
        for (ConsumerRecord r : RecordCodec.toConsumerRecords(s.tp, b, position)) {
          out.add(r);
          position = r.offset() + 1;
        }
      }
    } catch (RatislogException e) {
      s.position = position;
      if (out.isEmpty()) {
        throw e;
      }
      pendingError = e;
      return;
    }
    s.position = position;
  }

  private void succeeded(PartitionState s) {
    s.failures = 0;
    s.unknownSinceNanos = 0;
    s.backoffUntilNanos = 0;
  }

  private void onError(PartitionState s, RatislogException e, Node leaderHint) {
    long now = System.nanoTime();
    s.failures++;
    long delayMs = RetryPolicy.backoffMs(s.failures);
    if (e.transportStatus() == null && RetryPolicy.isRetriableWithinGrace(e.code())) {
      if (s.unknownSinceNanos == 0) {
        s.unknownSinceNanos = now;
      }
      if (now - s.unknownSinceNanos >= TimeUnit.MILLISECONDS.toNanos(config.unknownTopicRetryMs())) {
        succeeded(s);
        throw e;
      }
      conn.invalidate(s.tp.topic());
    } else if (!RetryPolicy.isRetriable(e)) {
      succeeded(s);
      throw e;
    } else if (e.transportStatus() == null && e.code() == ErrorCode.NOT_LEADER) {
      if (conn.onNotLeader(s.tp, leaderHint) && s.failures == 1) {
        delayMs = 0;
      }
    } else {
      conn.onLeaderUnknown(s.tp);
    }
    LOG.debug("{}: {} {}; retrying in {} ms", s.tp, e.codeName(), e.getMessage(), delayMs);
    s.backoffUntilNanos = now + TimeUnit.MILLISECONDS.toNanos(delayMs);
  }

  private long listOffsetsBlocking(TopicPartition tp, OffsetSpec spec) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMs());
    PartitionState probe = new PartitionState(tp);
    ListOffsetsRequest req = ListOffsetsRequest.newBuilder().setTopic(tp.topic())
        .setPartition(tp.partition()).setSpec(spec).setIsolationLevel(config.isolationLevel()).build();
    RatislogException last = null;
    while (true) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw last != null ? last : new RatislogException(ErrorCode.TIMEOUT, "ListOffsets timed out for " + tp);
      }
      try {
        CompletableFuture<ListOffsetsResponse> f = conn.route(tp, probe.failures).thenCompose(hp ->
            GrpcCalls.unary(conn.logStub(hp, config.requestTimeoutMs())::listOffsets, req));
        ListOffsetsResponse r = f.get(remaining, TimeUnit.NANOSECONDS);
        if (r.getError().getCode() == ErrorCode.NONE) {
          return r.getOffset();
        }
        last = new RatislogException(r.getError().getCode(), r.getError().getMessage());
        onError(probe, last, r.hasLeader() ? r.getLeader() : null);
      } catch (ExecutionException e) {
        last = RatislogException.wrap(e);
        onError(probe, last, null);
      } catch (TimeoutException e) {
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RatislogException(ErrorCode.TIMEOUT, "interrupted", e);
      }
      long sleep = Math.min(probe.backoffUntilNanos - System.nanoTime(), deadline - System.nanoTime());
      if (sleep > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(sleep);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RatislogException(ErrorCode.TIMEOUT, "interrupted", e);
        }
      }
    }
  }

  private OffsetSpec resetSpec() {
    switch (config.autoOffsetReset()) {
      case LATEST:
        return OffsetSpec.LATEST;
      case NONE:
        return null;
      default:
        return OffsetSpec.EARLIEST;
    }
  }

  private RatislogException noPosition(TopicPartition tp) {
    return new RatislogException(ErrorCode.OFFSET_OUT_OF_RANGE,
        "no position for " + tp + " and autoOffsetReset is NONE: seek first");
  }

  private void resetRequestState(PartitionState s) {
    s.epoch = ++epochs;
    succeeded(s);
  }

  private PartitionState state(TopicPartition tp) {
    ensureOpen();
    PartitionState s = states.get(tp);
    if (s == null) {
      throw new IllegalStateException(tp + " is not assigned");
    }
    return s;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("consumer is closed");
    }
  }

  /** Closes the channels; outstanding fetches are cancelled. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      conn.close();
    }
  }
}
