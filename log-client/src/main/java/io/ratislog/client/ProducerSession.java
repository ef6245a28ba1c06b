package io.ratislog.client;

import io.grpc.StatusRuntimeException;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.InitProducerRequest;
import io.ratislog.proto.InitProducerResponse;
import io.ratislog.proto.LogServiceGrpc;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An idempotent producer session: the producer id and epoch from {@code InitProducer}, and the next
 * sequence number of each partition. A batch takes its sequence range once, when its request is first
 * built, and keeps it across retries, which is what lets the partition recognise a retry.
 *
 * <p>When a batch of the session fails, its sequence range may or may not be written, so no later batch can
 * continue that partition's sequence safely: the session is dropped and the next batch starts a new one
 * (a new producer id, sequences from 0). Thread-safe.
 */
final class ProducerSession {
  /** What a batch carries. */
  record Stamp(long producerId, int epoch, int baseSequence) {
  }

  private final ClusterConnection conn;
  private final long requestTimeoutMs;
  private final long initTimeoutMs;
  /** Null for a plain idempotent session. */
  private final String transactionalId;
  private final int transactionTimeoutMs;
  private long producerId = -1;
  private int epoch;
  private final Map<TopicPartition, Integer> nextSequence = new HashMap<>();

  ProducerSession(ClusterConnection conn, long requestTimeoutMs, long initTimeoutMs) {
    this(conn, requestTimeoutMs, initTimeoutMs, null, 0);
  }

  /**
   * A session; with a transactional id, the session of a transactional producer: its producer id survives
   * failures (a failed batch makes the transaction abortable instead), and only InitProducer or the end of a
   * transaction changes its epoch.
   */
  ProducerSession(ClusterConnection conn, long requestTimeoutMs, long initTimeoutMs, String transactionalId,
                  int transactionTimeoutMs) {
    this.conn = conn;
    this.requestTimeoutMs = requestTimeoutMs;
    this.initTimeoutMs = initTimeoutMs;
    this.transactionalId = transactionalId;
    this.transactionTimeoutMs = transactionTimeoutMs;
  }

  /** The transactional id, or null. */
  String transactionalId() {
    return transactionalId;
  }

  /** Starts (or restarts, fencing the previous one) the session now. */
  synchronized void initNow() {
    producerId = -1;
    nextSequence.clear();
    init();
  }

  /** The epoch the coordinator answered at the end of a transaction: sequences start again at 0. */
  synchronized void nextEpoch(int newEpoch) {
    epoch = newEpoch;
    nextSequence.clear();
  }

  synchronized int epoch() {
    return epoch;
  }

  /** Takes the next {@code count} sequence numbers of {@code tp}, starting a session first when there is none. */
  synchronized Stamp stamp(TopicPartition tp, int count) {
    if (producerId < 0) {
      if (transactionalId != null) {
        throw new RatislogException(ErrorCode.INVALID_TXN_STATE, "transactional producer not initialised");
      }
      init();
    }
    int base = nextSequence.getOrDefault(tp, 0);
    if ((long) base + count > Integer.MAX_VALUE && transactionalId != null) {
      throw new RatislogException(ErrorCode.INVALID_REQUEST, "a transaction may not write more than 2^31 records"
          + " to one partition");
    }
    if ((long) base + count > Integer.MAX_VALUE) {
      // Sequences do not wrap: a fresh session starts again at 0.
      producerId = -1;
      nextSequence.clear();
      init();
      base = 0;
    }
    nextSequence.put(tp, base + count);
    return new Stamp(producerId, epoch, base);
  }

  /** Drops the session a failed batch belonged to (if it is still the current one). */
  synchronized void reset(long failedProducerId) {
    if (failedProducerId == producerId && transactionalId == null) {
      producerId = -1;
      nextSequence.clear();
    }
  }

  synchronized long producerId() {
    return producerId;
  }

  private void init() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(initTimeoutMs);
    RatislogException last = null;
    // Every attempt of this call carries the same token: an attempt the client gave up on but the coordinator
    // applied later does not bump the epoch past the one the client was answered with.
    String initToken = java.util.UUID.randomUUID().toString();
    for (int attempt = 1; System.nanoTime() < deadline; attempt++) {
      for (HostPort hp : conn.candidates()) {
        try {
          InitProducerRequest.Builder req = InitProducerRequest.newBuilder();
          if (transactionalId != null) {
            req.setTransactionalId(transactionalId).setTransactionTimeoutMs(transactionTimeoutMs).setInitToken(initToken);
          }
          InitProducerResponse r = LogServiceGrpc.newBlockingStub(conn.channel(hp))
              .withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS)
              .initProducer(req.build());
          if (r.getError().getCode() == ErrorCode.NONE) {
            producerId = r.getProducerId();
            epoch = r.getProducerEpoch();
            return;
          }
          last = new RatislogException(r.getError().getCode(), r.getError().getMessage());
          if (!RetryPolicy.isRetriable(last.code())) {
            throw last;
          }
        } catch (StatusRuntimeException e) {
          last = RatislogException.wrap(e);
          if (!RetryPolicy.isRetriable(e)) {
            throw last;
          }
        }
      }
      try {
        Thread.sleep(RetryPolicy.backoffMs(attempt));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RatislogException(ErrorCode.TIMEOUT, "interrupted while starting a producer session", e);
      }
    }
    throw new RatislogException(ErrorCode.TIMEOUT, "could not start a producer session within " + initTimeoutMs
        + " ms" + (last == null ? "" : "; last error: " + last.codeName() + ": " + last.getMessage()), last);
  }
}
