package io.ratislog.client;

import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends records to partition leaders, batching per partition.
 *
 * <p>{@link #send} picks the partition (explicit, key hash, or sticky round-robin for null keys)
 * and appends the record to the partition's open batch; a background sender thread sends a batch
 * once it is full or its linger expired, as one {@code ProduceRequest} to the partition's leader.
 * The acknowledgement's {@code base_offset} gives each record's offset (base + index). Retriable
 * failures are retried with backoff (50 ms doubling up to 1 s) until the delivery timeout,
 * following NOT_LEADER hints at once and re-resolving the leader otherwise. With
 * {@code maxInFlightPerPartition = 1} (the default outside exactly-once) a partition's next batch is sent only after the
 * previous one completed, so records of a partition are stored in send order. With more batches in flight,
 * exactly-once still stores them in send order (the partition accepts a session's batches only in sequence order;
 * a batch refused because its predecessor has not landed yet is resent), at-least-once may reorder them on a retry.
 *
 * <p>The {@link DeliveryMode} decides what a failure may cost: at-most-once never resends a batch that may
 * have been written, at-least-once retries, and exactly-once (the default) retries inside an idempotent
 * {@link ProducerSession} so that a retry of a written batch is answered with its original offsets.
 *
 * <p>Every future returned by {@link #send} completes, with the record's metadata or with a
 * {@link RatislogException}. Thread-safe.
 */
public final class Producer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Producer.class);
  private static final AtomicInteger IDS = new AtomicInteger();
  /** Delay before resending a batch the partition refused because its predecessor is still on its way. */
  private static final long SEQUENCE_GAP_RETRY_MS = 10;
  /** Resends of a batch refused for a sequence gap once no earlier batch of its session is incomplete. */
  private static final int MAX_GAP_RETRIES = 3;

  private final ProducerConfig config;
  private final ClusterConnection conn;
  private final Partitioner partitioner = new Partitioner();
  /** Topics whose metadata lookup failed with UNKNOWN_TOPIC_OR_PARTITION after the grace period. */
  private final java.util.Map<String, Long> unknownTopics = new java.util.concurrent.ConcurrentHashMap<>();
  private final RecordAccumulator accumulator;
  private final BufferPool bufferPool;
  private final ScheduledExecutorService retryScheduler;
  /** The idempotent session in EXACTLY_ONCE mode, else null. */
  private final ProducerSession session;
  /** The transaction state of a transactional producer, else null. */
  private final TransactionManager txn;
  private final Thread senderThread;
  private volatile boolean running = true;
  private volatile boolean closed;

  /**
   * Creates a producer and starts its sender thread.
   *
   * @param config the settings
   */
  public Producer(ProducerConfig config) {
    this.config = Objects.requireNonNull(config);
    this.conn = new ClusterConnection(config.bootstrap(), config.requestTimeoutMs(), config.channelFactory());
    this.accumulator = new RecordAccumulator(config.batchSizeBytes(), config.lingerMs(),
        config.deliveryTimeoutMs(), config.maxInFlightPerPartition());
    this.bufferPool = new BufferPool(config.bufferMemoryBytes());
    this.session = config.idempotent() ? new ProducerSession(conn, config.requestTimeoutMs(),
        config.deliveryTimeoutMs(), config.transactionalId(), config.transactionTimeoutMs()) : null;
    this.txn = config.transactionalId() == null ? null : new TransactionManager(config.transactionalId(), session, conn,
        config.requestTimeoutMs(), config.deliveryTimeoutMs());
    int id = IDS.incrementAndGet();
    this.retryScheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ratislog-producer-" + id + "-retry");
      t.setDaemon(true);
      return t;
    });
    this.senderThread = new Thread(this::runSender, "ratislog-producer-" + id + "-sender");
    senderThread.setDaemon(true);
    senderThread.start();
  }

  /**
   * Creates a producer with default settings.
   *
   * @param bootstrap {@code host:port,...}
   * @return the producer
   */
  public static Producer create(String bootstrap) {
    return new Producer(ProducerConfig.builder(bootstrap).build());
  }

  /**
   * Sends a record asynchronously. Blocks only while the topic's metadata is first fetched or the
   * buffer memory is used up (at most the delivery timeout).
   *
   * @param record the record
   * @return a future completed with the record's offset once the partition's Raft group committed
   *         it, or exceptionally with a {@link RatislogException} (e.g. UNKNOWN_TOPIC_OR_PARTITION,
   *         RECORD_TOO_LARGE, TIMEOUT when the delivery timeout expired)
   */
  public CompletableFuture<RecordMetadata> send(ProducerRecord record) {
    Objects.requireNonNull(record, "record");
    CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
    if (closed) {
      future.completeExceptionally(new RatislogException(ErrorCode.INVALID_REQUEST, "producer is closed"));
      return future;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.deliveryTimeoutMs());
    try {
      ClusterConnection.TopicMetadata md = awaitMetadata(record.topic(), deadline);
      int count = md.partitionCount();
      int p = record.partition() != null ? record.partition()
          : partitioner.partition(record.topic(), record.key(), count);
      if (p >= count) {
        throw new RatislogException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            String.format("topic %s has %d partitions, no partition %d", record.topic(), count, p));
      }
      long timestampMs = System.currentTimeMillis();
      long size = RecordSetWriter.encodedSize(record.key(), record.value(), timestampMs);
      if (size > bufferPool.total()) {
        throw new RatislogException(ErrorCode.RECORD_TOO_LARGE,
            "record of " + size + " bytes exceeds bufferMemoryBytes " + bufferPool.total());
      }
      if (!bufferPool.acquire(size, deadline)) {
        throw new RatislogException(ErrorCode.TIMEOUT,
            "buffer memory exhausted for " + config.deliveryTimeoutMs() + " ms");
      }
      TopicPartition tp = new TopicPartition(record.topic(), p);
      if (txn != null) {
        txn.ensureAdded(tp);
      }
      boolean full = accumulator.append(tp, record.key(), record.value(), timestampMs, size, future, System.nanoTime());
      if (full && record.partition() == null && record.key() == null) {
        partitioner.onBatchFull(record.topic(), p, count);
      }
      if (closed && !running) {
        // Raced with close(): make sure nothing is left behind.
        abortIncomplete(new RatislogException(ErrorCode.INVALID_REQUEST, "producer is closed"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.completeExceptionally(new RatislogException(ErrorCode.TIMEOUT, "interrupted", e));
    } catch (Throwable t) {
      future.completeExceptionally(RatislogException.wrap(t));
    }
    return future;
  }

  private ClusterConnection.TopicMetadata awaitMetadata(String topic, long deadline)
      throws InterruptedException {
    ClusterConnection.TopicMetadata md = conn.cached(topic);
    if (md != null) {
      return md;
    }
    long unknownSince = 0;
    Long knownUnknown = unknownTopics.get(topic);
    if (knownUnknown != null) {
      // The grace period already expired for this topic recently: one look, no waiting.
      unknownSince = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(config.unknownTopicRetryMs()) - 1;
    }
    int attempt = 0;
    while (true) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new RatislogException(ErrorCode.TIMEOUT, "no metadata for topic " + topic
            + " within " + config.deliveryTimeoutMs() + " ms");
      }
      RatislogException err;
      try {
        ClusterConnection.TopicMetadata fresh = conn.refresh(topic).get(remaining, TimeUnit.NANOSECONDS);
        unknownTopics.remove(topic);
        return fresh;
      } catch (ExecutionException e) {
        err = RatislogException.wrap(e);
      } catch (TimeoutException e) {
        continue;
      }
      long now = System.nanoTime();
      if (RetryPolicy.isRetriableWithinGrace(err.code()) && err.transportStatus() == null) {
        if (unknownSince == 0) {
          unknownSince = now;
        }
        if (now - unknownSince >= TimeUnit.MILLISECONDS.toNanos(config.unknownTopicRetryMs())) {
          unknownTopics.put(topic, now);
          throw err;
        }
      } else if (!RetryPolicy.isRetriable(err)) {
        throw err;
      }
      long sleep = Math.min(RetryPolicy.backoffMs(++attempt) * 1_000_000L, deadline - now);
      if (sleep > 0) {
        TimeUnit.NANOSECONDS.sleep(sleep);
      }
    }
  }

  // ------------------------------------------------------------------ transactions

  /**
   * Starts the transactional session: fences every older producer with this transactional id and waits until
   * the transaction it left open (if any) is aborted. Called by the first {@link #beginTransaction} when not
   * called before; call it again after an error that was not an abortable one to start over, or to give up on a
   * commit that ended without an answer (that transaction then stays committed if the commit was recorded, and is
   * aborted otherwise).
   *
   * @throws RatislogException TIMEOUT when the coordinator did not answer within the delivery timeout
   */
  public void initTransactions() {
    requireTransactional().init();
  }

  /**
   * Opens a transaction: until {@link #commitTransaction} or {@link #abortTransaction}, every {@link #send}
   * belongs to it (and blocks on the first record of each partition while the partition is added to it).
   */
  public void beginTransaction() {
    requireTransactional().begin();
  }

  /**
   * Commits a consumer group member's offsets in the open transaction: they take effect if and only if the
   * transaction commits (read-process-write exactly once). Fenced like the member's own commits.
   *
   * @param offsets per input partition, the next offset the group should read
   * @param group   the member, from {@link GroupConsumer#groupMetadata()}
   */
  public void sendOffsetsToTransaction(java.util.Map<TopicPartition, Long> offsets, ConsumerGroupMetadata group) {
    Objects.requireNonNull(group, "group");
    requireTransactional().sendOffsets(offsets, group);
  }

  /**
   * Flushes, then commits the open transaction: once this returns, read_committed consumers see every record
   * and the group sees every offset of it, or none of them if it throws.
   *
   * @throws RatislogException INVALID_TXN_STATE when a send of the transaction failed (abort instead),
   *                           TRANSACTION_ABORTED when the coordinator aborted it (timeout), PRODUCER_FENCED;
   *                           a retriable error (TIMEOUT, or no node reachable within the delivery timeout)
   *                           when the outcome is unknown: call commitTransaction again (abort is refused then)
   */
  public void commitTransaction() {
    TransactionManager t = requireTransactional();
    flush();
    t.end(true);
  }

  /** Waits for the sends in flight, then aborts the open transaction: none of its records or offsets count. */
  public void abortTransaction() {
    TransactionManager t = requireTransactional();
    flush();
    t.end(false);
  }

  private TransactionManager requireTransactional() {
    if (txn == null) {
      throw new RatislogException(ErrorCode.INVALID_REQUEST, "not a transactional producer (set a transactionalId)");
    }
    return txn;
  }

  /**
   * Sends every record whose {@link #send} returned before this call and waits until all of them
   * completed (acknowledged or failed).
   */
  public void flush() {
    accumulator.beginFlush();
    try {
      for (ProducerBatch b : accumulator.incomplete()) {
        b.done.join();
      }
    } finally {
      accumulator.endFlush();
    }
  }

  /** Flushes, then stops the sender and closes the channels. */
  @Override
  public void close() {
    close(Duration.ofMillis(Long.MAX_VALUE / 2_000_000));
  }

  /**
   * Flushes for at most {@code timeout}, fails whatever is still incomplete then, and closes.
   *
   * @param timeout the time to wait for outstanding records
   */
  public void close(Duration timeout) {
    if (closed && !running) {
      return;
    }
    closed = true;
    accumulator.close();
    long deadline = System.nanoTime() + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4);
    for (ProducerBatch b : accumulator.incomplete()) {
      long left = deadline - System.nanoTime();
      try {
        b.done.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    running = false;
    abortIncomplete(new RatislogException(ErrorCode.TIMEOUT, "producer closed before the record was acknowledged"));
    accumulator.wakeup();
    try {
      senderThread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    retryScheduler.shutdownNow();
    conn.close();
  }

  private void abortIncomplete(RatislogException e) {
    for (ProducerBatch b : accumulator.incomplete()) {
      fail(b, e);
    }
  }

  // ------------------------------------------------------------------ sender

  private void runSender() {
    while (running) {
      try {
        RecordAccumulator.Drained d = accumulator.drain(System.nanoTime());
        if (d.batches().isEmpty()) {
          accumulator.awaitChange(d, d.waitNanos());
          continue;
        }
        for (ProducerBatch b : d.batches()) {
          sendBatch(b);
        }
      } catch (InterruptedException e) {
        if (!running) {
          break;
        }
      } catch (Throwable t) {
        LOG.error("sender loop failure", t);
      }
    }
  }

  private int serverTimeoutMs() {
    long t = config.requestTimeoutMs();
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, t > 2_000 ? t - 1_000 : t / 2));
  }

  private void sendBatch(ProducerBatch b) {
    if (b.isFinished()) {
      return;
    }
    if (System.nanoTime() - b.deadlineNanos >= 0) {
      fail(b, deliveryTimeout(b));
      return;
    }
    if (!running) {
      fail(b, new RatislogException(ErrorCode.TIMEOUT, "producer closed before the record was acknowledged"));
      return;
    }
    ProduceRequest req;
    try {
      req = b.request(serverTimeoutMs(), session, config.compression());
    } catch (Throwable t) {
      fail(b, RatislogException.wrap(t));
      return;
    }
    int attempt = b.attempts;
    conn.route(b.tp, attempt)
        .thenCompose(hp -> {
          b.target = hp;
          return GrpcCalls.unary(conn.logStub(hp, config.requestTimeoutMs())::produce, req);
        })
        .whenComplete((resp, err) -> {
          try {
            onResponse(b, resp, err);
          } catch (Throwable t) {
            fail(b, RatislogException.wrap(t));
          }
        });
  }

  private void onResponse(ProducerBatch b, ProduceResponse resp, Throwable err) {
    if (b.isFinished()) {
      return;
    }
    b.attempts++;
    RatislogException e;
    boolean retry;
    long delayMs;
    if (err != null) {
      e = RatislogException.wrap(err);
      if (e.transportStatus() != null) {
        conn.onLeaderUnknown(b.tp);
        if (e.transportStatus() == io.grpc.Status.Code.UNAVAILABLE && b.target != null) {
          conn.onUnreachable(b.target);
        }
        // A transport failure may have happened after the server appended the batch.
        retry = config.retries() && RetryPolicy.isRetriable(e);
        // Unreachable (connection refused or reset: a node down): the leadership moves. Slow (deadline): back off.
        delayMs = e.transportStatus() == io.grpc.Status.Code.UNAVAILABLE || e.transportStatus() == io.grpc.Status.Code.CANCELLED
            ? RetryPolicy.leaderChangeBackoffMs(b.attempts) : RetryPolicy.backoffMs(b.attempts);
      } else {
        retry = retriableServerError(b, e.code());
        delayMs = RetryPolicy.backoffMs(b.attempts);
      }
    } else {
      ErrorCode code = resp.getError().getCode();
      if (code == ErrorCode.NONE) {
        succeed(b, resp.getBaseOffset());
        return;
      }
      e = new RatislogException(code, resp.getError().getMessage());
      delayMs = code == ErrorCode.NOT_LEADER || code == ErrorCode.LEADER_NOT_AVAILABLE
          ? RetryPolicy.leaderChangeBackoffMs(b.attempts) : RetryPolicy.backoffMs(b.attempts);
      if (code == ErrorCode.NOT_LEADER) {
        boolean hinted = conn.onNotLeader(b.tp, resp.hasLeader() ? resp.getLeader() : null);
        if (hinted && b.notLeaderStreak++ == 0) {
          delayMs = 0;
        }
      } else {
        b.notLeaderStreak = 0;
        if (code == ErrorCode.LEADER_NOT_AVAILABLE || code == ErrorCode.TIMEOUT
            || code == ErrorCode.INTERNAL_ERROR) {
          conn.onLeaderUnknown(b.tp);
        }
      }
      retry = retriableServerError(b, code);
      if (code == ErrorCode.OUT_OF_ORDER_SEQUENCE && sequenceGapMayClose(b)) {
        // Pipelined batches: an earlier batch of this session had not landed yet (it is being retried, or
        // reached the leader after this one). Resend once it may have; the partition keeps the order.
        retry = true;
        delayMs = SEQUENCE_GAP_RETRY_MS;
      }
    }
    if (!retry) {
      fail(b, e);
      return;
    }
    b.lastError = e;
    long left = TimeUnit.NANOSECONDS.toMillis(b.deadlineNanos - System.nanoTime());
    if (left <= 0) {
      fail(b, deliveryTimeout(b));
      return;
    }
    LOG.debug("retrying {} records of {} in {} ms after {}: {}", b.count(), b.tp, delayMs,
        e.codeName(), e.getMessage());
    try {
      if (delayMs <= 0) {
        sendBatch(b);
      } else {
        retryScheduler.schedule(() -> sendBatch(b), Math.min(delayMs, left), TimeUnit.MILLISECONDS);
      }
    } catch (RuntimeException rejected) {
      fail(b, e);
    }
  }

  /**
   * Whether a batch the partition refused for a sequence gap may be accepted later: its session is still the
   * current one (no earlier batch failed) and an earlier batch of it is still incomplete, or completed only while
   * this one was on its way (a few more tries cover that race).
   */
  private boolean sequenceGapMayClose(ProducerBatch b) {
    if (session == null || b.producerId < 0 || session.producerId() != b.producerId) {
      return false;
    }
    return accumulator.hasIncompletePredecessor(b) || b.gapRetriesWithoutPredecessor++ < MAX_GAP_RETRIES;
  }

  private RatislogException deliveryTimeout(ProducerBatch b) {
    RatislogException last = b.lastError;
    return new RatislogException(ErrorCode.TIMEOUT, "delivery timeout of " + config.deliveryTimeoutMs()
        + " ms expired for " + b.count() + " records of " + b.tp
        + (last == null ? "" : "; last error: " + last.codeName() + ": " + last.getMessage()), last);
  }

  private boolean retriableServerError(ProducerBatch b, ErrorCode code) {
    if (RetryPolicy.isRetriableWithinGrace(code)) {
      long now = System.nanoTime();
      if (b.firstUnknownTopicNanos == 0) {
        b.firstUnknownTopicNanos = now;
      }
      conn.invalidate(b.tp.topic());
      return now - b.firstUnknownTopicNanos < TimeUnit.MILLISECONDS.toNanos(config.unknownTopicRetryMs());
    }
    if (code == ErrorCode.NOT_LEADER || code == ErrorCode.LEADER_NOT_AVAILABLE) {
      return true; // certainly not appended: safe to resend even without retries
    }
    return config.retries() && RetryPolicy.isRetriable(code);
  }

  private void succeed(ProducerBatch b, long baseOffset) {
    if (!b.markFinished()) {
      return;
    }
    for (int i = 0; i < b.futures.size(); i++) {
      b.futures.get(i).complete(new RecordMetadata(b.tp.topic(), b.tp.partition(), baseOffset + i));
    }
    release(b);
    b.done.complete(null);
  }

  private void fail(ProducerBatch b, RatislogException e) {
    if (!b.markFinished()) {
      return;
    }
    if (session != null && b.producerId >= 0) {
      session.reset(b.producerId);
    }
    if (txn != null) {
      txn.onFailure(e);
    }
    for (CompletableFuture<RecordMetadata> f : b.futures) {
      f.completeExceptionally(e);
    }
    release(b);
    b.done.complete(null);
  }

  private void release(ProducerBatch b) {
    accumulator.completed(b);
    bufferPool.release(b.sizeBytes);
  }

  /** For tests: the number of batches of a partition in flight. */
  int inFlight(TopicPartition tp) {
    return accumulator.inFlight(tp);
  }

  /** For tests: the connection. */
  ClusterConnection connection() {
    return conn;
  }

  /** For tests: the configuration. */
  ProducerConfig config() {
    return config;
  }
}
