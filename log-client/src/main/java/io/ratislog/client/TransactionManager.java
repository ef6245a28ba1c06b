package io.ratislog.client;

import io.ratislog.proto.AddPartitionsToTxnRequest;
import io.ratislog.proto.AddPartitionsToTxnResponse;
import io.ratislog.proto.EndTxnRequest;
import io.ratislog.proto.EndTxnResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.TopicPartitions;
import io.ratislog.proto.TxnOffsetCommitRequest;
import io.ratislog.proto.TxnOffsetCommitResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The client half of a transactional producer: its state, the partitions its open transaction added, and the
 * coordinator calls (AddPartitionsToTxn, TxnOffsetCommit, EndTxn).
 *
 * <p>States: UNINITIALISED → (initTransactions) READY → (begin) IN_TRANSACTION → (commit/abort) READY. A
 * failed batch or offset commit makes an open transaction ABORTABLE: only abort is accepted then. PRODUCER_FENCED
 * (a newer session of the transactional id exists) is FENCED for good: the producer must be closed.
 *
 * <p>A commit or abort that ends without an answer (TIMEOUT, or no coordinator reachable before the delivery
 * timeout) may or may not have been decided: the transaction stays open on this side, and only the same call is
 * accepted until one of its retries is answered (the coordinator answers a retry of a decision it recorded with that
 * decision). Without this, an abort after a commit that timed out could be refused only because the commit had
 * in fact gone through.
 *
 * <p>One application thread drives a transaction; the methods are synchronized so that a batch failing on the
 * sender thread is seen.
 */
final class TransactionManager {
  enum State { UNINITIALISED, READY, IN_TRANSACTION, ABORTABLE, FENCED }

  private final String transactionalId;
  private final ProducerSession session;
  private final ClusterConnection conn;
  private final GroupCalls calls;
  private final long opTimeoutMs;
  private final Set<TopicPartition> added = new HashSet<>();
  private State state = State.UNINITIALISED;
  private RatislogException cause;
  /** The commit or abort that failed without an answer and must be retried; null when none. */
  private Unanswered unanswered;

  /** An EndTxn that ended without an answer: whether it was the commit, and how it ended. */
  private record Unanswered(boolean commit, RatislogException cause) {
    String call() {
      return commit ? "commitTransaction" : "abortTransaction";
    }
  }

  TransactionManager(String transactionalId, ProducerSession session, ClusterConnection conn, long requestTimeoutMs,
                     long opTimeoutMs) {
    this.transactionalId = transactionalId;
    this.session = session;
    this.conn = conn;
    this.calls = new GroupCalls(conn, requestTimeoutMs);
    this.opTimeoutMs = opTimeoutMs;
  }

  /**
   * Starts the session: fences any older producer of the id and waits until its open transaction is aborted. After a
   * commit or abort that ended without an answer it starts over too: that transaction ends as the coordinator
   * decided (committed if the commit was recorded, else aborted by this call).
   */
  synchronized void init() {
    if ((state == State.IN_TRANSACTION || state == State.ABORTABLE) && unanswered == null) {
      throw new RatislogException(ErrorCode.INVALID_TXN_STATE, "a transaction is open: commit or abort it first");
    }
    session.initNow();
    added.clear();
    cause = null;
    unanswered = null;
    state = State.READY;
  }

  synchronized void begin() {
    if (state == State.UNINITIALISED) {
      init();
    }
    requireState(State.READY, "beginTransaction");
    added.clear();
    cause = null;
    state = State.IN_TRANSACTION;
  }

  /** Adds the partition to the open transaction (one coordinator call the first time). */
  synchronized void ensureAdded(TopicPartition tp) {
    requireState(State.IN_TRANSACTION, "send");
    if (!added.contains(tp)) {
      addPartitions(List.of(tp));
    }
  }

  /** Commits the group member's next offsets as part of the open transaction. */
  synchronized void sendOffsets(Map<TopicPartition, Long> offsets, ConsumerGroupMetadata group) {
    requireState(State.IN_TRANSACTION, "sendOffsetsToTransaction");
    List<TopicPartition> missing = new ArrayList<>();
    for (TopicPartition tp : offsets.keySet()) {
      if (!added.contains(tp)) {
        missing.add(tp);
      }
    }
    if (!missing.isEmpty()) {
      addPartitions(missing);
    }
    for (Map.Entry<TopicPartition, Long> e : new LinkedHashMap<>(offsets).entrySet()) {
      TopicPartition tp = e.getKey();
      TxnOffsetCommitRequest req = TxnOffsetCommitRequest.newBuilder().setTransactionalId(transactionalId)
          .setProducerId(session.producerId()).setProducerEpoch(session.epoch()).setGroup(group.group())
          .setTopic(tp.topic()).setPartition(tp.partition()).setOffset(e.getValue())
          .setGeneration(group.generation()).setMemberId(group.memberId()).build();
      TxnOffsetCommitResponse r = calls.partition(conn::txnStub, "TxnOffsetCommit", tp, s -> s.txnOffsetCommit(req),
          TxnOffsetCommitResponse::getError, x -> x.hasLeader() ? x.getLeader() : null, opTimeoutMs);
      check(r.getError().getCode(), r.getError().getMessage(), "TxnOffsetCommit " + tp);
    }
  }

  private void addPartitions(List<TopicPartition> tps) {
    Map<String, TopicPartitions.Builder> byTopic = new LinkedHashMap<>();
    for (TopicPartition tp : tps) {
      byTopic.computeIfAbsent(tp.topic(), t -> TopicPartitions.newBuilder().setTopic(t)).addPartitions(tp.partition());
    }
    AddPartitionsToTxnRequest.Builder req = AddPartitionsToTxnRequest.newBuilder().setTransactionalId(transactionalId)
        .setProducerId(session.producerId()).setProducerEpoch(session.epoch());
    byTopic.values().forEach(req::addPartitions);
    AddPartitionsToTxnResponse r = calls.coordinator(conn::txnStub, "AddPartitionsToTxn",
        s -> s.addPartitionsToTxn(req.build()), AddPartitionsToTxnResponse::getError, null, opTimeoutMs);
    check(r.getError().getCode(), r.getError().getMessage(), "AddPartitionsToTxn");
    added.addAll(tps);
  }

  /**
   * Ends the open transaction. The caller flushed every batch first; a commit of an ABORTABLE transaction is
   * refused with the error that made it abortable.
   */
  synchronized void end(boolean commit) {
    if (state == State.FENCED) {
      throw new RatislogException(ErrorCode.PRODUCER_FENCED, "producer is fenced: " + (cause == null ? "" : cause.getMessage()), cause);
    }
    if (unanswered != null && unanswered.commit() != commit) {
      RatislogException c = unanswered.cause();
      throw new RatislogException(ErrorCode.INVALID_TXN_STATE, "the previous " + unanswered.call() + " ended without an"
          + " answer (" + c.codeName() + ": " + c.getMessage() + "), so it may have been decided: call "
          + unanswered.call() + " again", c);
    }
    if (commit && state == State.ABORTABLE) {
      ErrorCode code = cause != null && cause.code() == ErrorCode.TRANSACTION_ABORTED
          ? ErrorCode.TRANSACTION_ABORTED : ErrorCode.INVALID_TXN_STATE;
      throw new RatislogException(code, "the transaction failed and can only be aborted: "
          + (cause == null ? "" : cause.codeName() + ": " + cause.getMessage()), cause);
    }
    if (state != State.IN_TRANSACTION && state != State.ABORTABLE) {
      throw new RatislogException(ErrorCode.INVALID_TXN_STATE, (commit ? "commit" : "abort")
          + "Transaction without an open transaction (state " + state + ")");
    }
    EndTxnRequest req = EndTxnRequest.newBuilder().setTransactionalId(transactionalId)
        .setProducerId(session.producerId()).setProducerEpoch(session.epoch()).setCommit(commit).build();
    EndTxnResponse r;
    try {
      r = calls.coordinator(conn::txnStub, commit ? "EndTxn(commit)" : "EndTxn(abort)",
          s -> s.endTxn(req), EndTxnResponse::getError, null, opTimeoutMs);
    } catch (RatislogException e) {
      if (RetryPolicy.isRetriable(e)) {
        unanswered = new Unanswered(commit, e);
      }
      throw e;
    }
    unanswered = null;
    ErrorCode code = r.getError().getCode();
    if (code == ErrorCode.TRANSACTION_ABORTED && commit) {
      state = State.ABORTABLE;
      cause = new RatislogException(code, r.getError().getMessage());
      throw cause;
    }
    if (code == ErrorCode.PRODUCER_FENCED) {
      fence(new RatislogException(code, r.getError().getMessage()));
    }
    if (code != ErrorCode.NONE) {
      throw new RatislogException(code, "EndTxn: " + r.getError().getMessage());
    }
    session.nextEpoch(r.getProducerEpoch());
    added.clear();
    cause = null;
    state = State.READY;
  }

  /** A batch or call of the open transaction failed: only abort is possible now (or nothing, when fenced). */
  synchronized void onFailure(RatislogException e) {
    if (e.code() == ErrorCode.PRODUCER_FENCED) {
      state = State.FENCED;
      cause = e;
    } else if (state == State.IN_TRANSACTION) {
      state = State.ABORTABLE;
      cause = e;
    }
  }

  private void check(ErrorCode code, String message, String op) {
    if (code == ErrorCode.NONE) {
      return;
    }
    RatislogException e = new RatislogException(code, op + ": " + message);
    if (code == ErrorCode.PRODUCER_FENCED) {
      fence(e);
    }
    onFailure(e);
    throw e;
  }

  private void fence(RatislogException e) {
    state = State.FENCED;
    cause = e;
    throw e;
  }

  private void requireState(State wanted, String op) {
    if (state == State.FENCED) {
      throw new RatislogException(ErrorCode.PRODUCER_FENCED, op + ": producer is fenced by a newer session of '"
          + transactionalId + "'" + (cause == null ? "" : ": " + cause.getMessage()), cause);
    }
    if (state == State.ABORTABLE) {
      throw new RatislogException(ErrorCode.INVALID_TXN_STATE, op + ": the transaction failed ("
          + (cause == null ? "?" : cause.codeName() + ": " + cause.getMessage()) + "); abort it", cause);
    }
    if (state != wanted) {
      throw new RatislogException(ErrorCode.INVALID_TXN_STATE, op + " needs state " + wanted + ", the producer is " + state
          + (state == State.READY ? " (call beginTransaction first)" : ""));
    }
  }
}
