package io.ratislog.server.txn;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AbortExpiredTxnCommand;
import io.ratislog.server.entries.AddTxnPartitionsCommand;
import io.ratislog.server.entries.CompleteTxnCommand;
import io.ratislog.server.entries.EndTxnCommand;
import io.ratislog.server.entries.InitTxnCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.TransactionRecord;
import io.ratislog.server.entries.TxnPartition;
import io.ratislog.server.entries.TxnState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The transaction coordinator's state, held by the metadata group's state machine: per transactional id, its
 * producer id and epoch, and the state of its current transaction.
 *
 * <p>States: EMPTY (no transaction open) → ONGOING (at the first AddPartitions) → PREPARE_COMMIT or
 * PREPARE_ABORT (the decision, at EndTxn, at a timeout, or when a new session fences an open transaction) →
 * COMPLETE_COMMIT or COMPLETE_ABORT (once the coordinator wrote a marker into every participant partition).
 * Every decision bumps the epoch: the markers carry the new epoch, so a batch of the finished transaction that
 * reaches a partition late is fenced there, and the producer continues with the epoch EndTxn answers.
 *
 * <p>{@code last_end_epoch} is the epoch the last EndTxn or timeout abort ended: an EndTxn retried with it is
 * answered as the first one was (or with TRANSACTION_ABORTED when the coordinator aborted on a timeout). A
 * new session (InitTxn) clears it: the old session is then simply fenced.
 *
 * <p>Deterministic: nothing reads a clock, times come from the commands; producer ids come from the metadata
 * state's counter. Not thread-safe: {@link io.ratislog.server.metadata.MetadataState} serialises access.
 */
public final class TransactionTable {
  public static final int DEFAULT_TIMEOUT_MS = 60_000;
  public static final int MIN_TIMEOUT_MS = 1_000;
  public static final int MAX_TIMEOUT_MS = 900_000;
  public static final int MAX_ID_LENGTH = 249;
  public static final int MAX_PARTITIONS = 10_000;
  public static final int MAX_INIT_TOKEN_LENGTH = 64;
  private static final Pattern LEGAL_ID = Pattern.compile("[A-Za-z0-9._:-]+");
  private static final Comparator<TxnPartition> ORDER = Comparator.comparing(TxnPartition::getTopic)
      .thenComparingLong(TxnPartition::getTopicId).thenComparingInt(TxnPartition::getPartition);

  private final Map<String, TransactionRecord> txns = new TreeMap<>();

  /** What a transactional id may be, or null when it is fine. */
  public static String idProblem(String id) {
    if (id.isEmpty()) {
      return "transactional id is empty";
    }
    if (id.length() > MAX_ID_LENGTH) {
      return "transactional id is longer than " + MAX_ID_LENGTH + " characters";
    }
    if (!LEGAL_ID.matcher(id).matches()) {
      return "transactional id '" + id + "' has characters outside [A-Za-z0-9._:-]";
    }
    return null;
  }

  /** A new session for a transactional id: a producer id the first time, a bumped epoch every time. */
  public MetadataResult init(InitTxnCommand c, LongSupplier allocateProducerId) {
    String problem = idProblem(c.getTransactionalId());
    if (problem != null) {
      return error(ErrorCode.INVALID_REQUEST, problem);
    }
    if (c.getTimeoutMs() < MIN_TIMEOUT_MS || c.getTimeoutMs() > MAX_TIMEOUT_MS) {
      return error(ErrorCode.INVALID_REQUEST, "transaction timeout must be in " + MIN_TIMEOUT_MS + ".."
          + MAX_TIMEOUT_MS + " ms, got " + c.getTimeoutMs());
    }
    if (c.getInitToken().length() > MAX_INIT_TOKEN_LENGTH) {
      return error(ErrorCode.INVALID_REQUEST, "init token is longer than " + MAX_INIT_TOKEN_LENGTH + " characters");
    }
    TransactionRecord cur = txns.get(c.getTransactionalId());
    if (cur != null && !c.getInitToken().isEmpty() && c.getInitToken().equals(cur.getInitToken())) {
      // A retry of the call that started the current session, applied after it: that session stands.
      return ok(cur);
    }
    if (cur == null) {
      TransactionRecord r = TransactionRecord.newBuilder().setTransactionalId(c.getTransactionalId())
          .setInitToken(c.getInitToken())
          .setProducerId(allocateProducerId.getAsLong()).setProducerEpoch(0).setLastEndEpoch(-1)
          .setTimeoutMs(c.getTimeoutMs()).setState(TxnState.TXN_EMPTY).setUpdateMs(c.getNowMs()).build();
      txns.put(r.getTransactionalId(), r);
      return ok(r);
    }
    switch (cur.getState()) {
      case TXN_ONGOING -> {
        // The previous session left a transaction open: abort it (fencing that session), then let the caller
        // retry once the markers are written.
        TransactionRecord aborting = decide(cur, false, c.getNowMs(), "fenced by a new session of its transactional id")
            .setLastEndEpoch(-1).build();
        txns.put(aborting.getTransactionalId(), aborting);
        return concurrent(aborting);
      }
      case TXN_PREPARE_COMMIT, TXN_PREPARE_ABORT -> {
        return concurrent(cur);
      }
      default -> {
        TransactionRecord.Builder b = cur.toBuilder().setState(TxnState.TXN_EMPTY).clearPartitions()
            .setInitToken(c.getInitToken()).setLastEndEpoch(-1).setTimeoutMs(c.getTimeoutMs()).setUpdateMs(c.getNowMs()).setAbortReason("");
        if (cur.getProducerEpoch() == Integer.MAX_VALUE) {
          b.setProducerId(allocateProducerId.getAsLong()).setProducerEpoch(0);
        } else {
          b.setProducerEpoch(cur.getProducerEpoch() + 1);
        }
        TransactionRecord r = b.build();
        txns.put(r.getTransactionalId(), r);
        return ok(r);
      }
    }
  }

  /** Adds partitions to the session's transaction, opening one when none is open. */
  public MetadataResult addPartitions(AddTxnPartitionsCommand c) {
    TransactionRecord cur = txns.get(c.getTransactionalId());
    MetadataResult refused = checkSession(cur, c.getTransactionalId(), c.getProducerId(), c.getProducerEpoch());
    if (refused != null) {
      return refused;
    }
    if (c.getPartitionsCount() == 0) {
      return error(ErrorCode.INVALID_REQUEST, "no partition to add");
    }
    if (cur.getState() == TxnState.TXN_PREPARE_COMMIT || cur.getState() == TxnState.TXN_PREPARE_ABORT) {
      return concurrent(cur);
    }
    TreeSet<TxnPartition> all = new TreeSet<>(ORDER);
    TransactionRecord.Builder b = cur.toBuilder();
    if (cur.getState() == TxnState.TXN_ONGOING) {
      all.addAll(cur.getPartitionsList());
    } else {
      b.setState(TxnState.TXN_ONGOING).setStartMs(c.getNowMs()).setAbortReason("");
    }
    all.addAll(c.getPartitionsList());
    if (all.size() > MAX_PARTITIONS) {
      return error(ErrorCode.INVALID_REQUEST, "a transaction may touch at most " + MAX_PARTITIONS + " partitions");
    }
    TransactionRecord r = b.clearPartitions().addAllPartitions(all).setUpdateMs(c.getNowMs()).build();
    txns.put(r.getTransactionalId(), r);
    return ok(r);
  }

  /** Records the commit or abort decision of the session's transaction (or answers a retry of it). */
  public MetadataResult end(EndTxnCommand c) {
    TransactionRecord cur = txns.get(c.getTransactionalId());
    if (cur != null && cur.getProducerId() == c.getProducerId() && c.getProducerEpoch() == cur.getLastEndEpoch()
        && c.getProducerEpoch() != cur.getProducerEpoch()) {
      return retriedEnd(cur, c.getCommit());
    }
    MetadataResult refused = checkSession(cur, c.getTransactionalId(), c.getProducerId(), c.getProducerEpoch());
    if (refused != null) {
      return refused;
    }
    return switch (cur.getState()) {
      case TXN_ONGOING -> {
        TransactionRecord r = decide(cur, c.getCommit(), c.getNowMs(), c.getCommit() ? "" : "aborted by the producer")
            .build();
        txns.put(r.getTransactionalId(), r);
        yield ok(r);
      }
      // Nothing was added in this epoch: there is nothing to commit or abort.
      case TXN_EMPTY, TXN_COMPLETE_COMMIT, TXN_COMPLETE_ABORT -> ok(cur);
      default -> concurrent(cur);
    };
  }

  private static MetadataResult retriedEnd(TransactionRecord cur, boolean commit) {
    boolean committed = cur.getState() == TxnState.TXN_PREPARE_COMMIT || cur.getState() == TxnState.TXN_COMPLETE_COMMIT;
    boolean aborted = cur.getState() == TxnState.TXN_PREPARE_ABORT || cur.getState() == TxnState.TXN_COMPLETE_ABORT;
    if (commit && committed || !commit && aborted) {
      return ok(cur);
    }
    if (commit && aborted) {
      return error(ErrorCode.TRANSACTION_ABORTED, "transaction of '" + cur.getTransactionalId() + "' was aborted: "
          + cur.getAbortReason() + "; abort it and begin a new one", cur);
    }
    if (!commit && committed) {
      return error(ErrorCode.INVALID_TXN_STATE, "transaction of '" + cur.getTransactionalId()
          + "' was already committed", cur);
    }
    return error(ErrorCode.INVALID_TXN_STATE, "transactional id '" + cur.getTransactionalId()
        + "' has moved on to a new transaction", cur);
  }

  /** Marks a decided transaction complete (every marker written). */
  public MetadataResult complete(CompleteTxnCommand c) {
    TransactionRecord cur = txns.get(c.getTransactionalId());
    if (cur == null || cur.getProducerId() != c.getProducerId() || cur.getProducerEpoch() != c.getProducerEpoch()) {
      return error(ErrorCode.INVALID_TXN_STATE, "no such transaction to complete");
    }
    TxnState next = switch (cur.getState()) {
      case TXN_PREPARE_COMMIT -> TxnState.TXN_COMPLETE_COMMIT;
      case TXN_PREPARE_ABORT -> TxnState.TXN_COMPLETE_ABORT;
      default -> null;
    };
    if (next == null) {
      return error(ErrorCode.INVALID_TXN_STATE, "transaction of '" + c.getTransactionalId() + "' is " + cur.getState());
    }
    TransactionRecord r = cur.toBuilder().setState(next).setUpdateMs(c.getNowMs()).build();
    txns.put(r.getTransactionalId(), r);
    return ok(r);
  }

  /** Aborts a transaction open for longer than its timeout at the command's time. */
  public MetadataResult abortExpired(AbortExpiredTxnCommand c) {
    TransactionRecord cur = txns.get(c.getTransactionalId());
    if (cur == null || cur.getProducerId() != c.getProducerId() || cur.getProducerEpoch() != c.getProducerEpoch()
        || cur.getState() != TxnState.TXN_ONGOING) {
      return error(ErrorCode.INVALID_TXN_STATE, "no such open transaction");
    }
    if (c.getNowMs() - cur.getStartMs() < cur.getTimeoutMs()) {
      return error(ErrorCode.INVALID_TXN_STATE, "transaction has not timed out yet");
    }
    TransactionRecord r = decide(cur, false, c.getNowMs(), "timed out after " + cur.getTimeoutMs() + " ms").build();
    txns.put(r.getTransactionalId(), r);
    return ok(r);
  }

  private static TransactionRecord.Builder decide(TransactionRecord cur, boolean commit, long nowMs, String reason) {
    return cur.toBuilder().setState(commit ? TxnState.TXN_PREPARE_COMMIT : TxnState.TXN_PREPARE_ABORT)
        .setLastEndEpoch(cur.getProducerEpoch()).setProducerEpoch(cur.getProducerEpoch() + 1)
        .setUpdateMs(nowMs).setAbortReason(reason);
  }

  /**
   * Why a transactional batch or offset commit of (producer id, epoch) for the partition may not be written now,
   * as an error result, or null when the transaction is ONGOING at that epoch and holds the partition.
   */
  public static MetadataResult participantProblem(TransactionRecord cur, String id, long producerId, int epoch,
                                                  long topicId, int partition) {
    MetadataResult refused = checkSession(cur, id, producerId, epoch);
    if (refused != null) {
      return refused;
    }
    if (cur.getState() != TxnState.TXN_ONGOING) {
      return error(ErrorCode.INVALID_TXN_STATE, "transactional id '" + id + "' has no open transaction ("
          + cur.getState() + "): AddPartitionsToTxn first", cur);
    }
    for (TxnPartition p : cur.getPartitionsList()) {
      if (p.getTopicId() == topicId && p.getPartition() == partition) {
        return null;
      }
    }
    return error(ErrorCode.INVALID_TXN_STATE, "the transaction of '" + id + "' did not add this partition:"
        + " AddPartitionsToTxn first", cur);
  }

  /** Why the (producer id, epoch) may not act for the transactional id, or null when it may. */
  private static MetadataResult checkSession(TransactionRecord cur, String id, long producerId, int epoch) {
    if (cur == null) {
      return error(ErrorCode.INVALID_TXN_STATE, "unknown transactional id '" + id + "': InitProducer first");
    }
    if (producerId == cur.getProducerId() && epoch == cur.getLastEndEpoch() && epoch != cur.getProducerEpoch()
        && (cur.getState() == TxnState.TXN_PREPARE_ABORT || cur.getState() == TxnState.TXN_COMPLETE_ABORT)) {
      return error(ErrorCode.TRANSACTION_ABORTED, "transaction of '" + id + "' was aborted: " + cur.getAbortReason()
          + "; abort it and begin a new one", cur);
    }
    if (producerId != cur.getProducerId() || epoch < cur.getProducerEpoch()) {
      return error(ErrorCode.PRODUCER_FENCED, "transactional id '" + id + "' is now producer " + cur.getProducerId()
          + " epoch " + cur.getProducerEpoch() + "; producer " + producerId + " epoch " + epoch + " is fenced", cur);
    }
    if (epoch > cur.getProducerEpoch()) {
      return error(ErrorCode.INVALID_TXN_STATE, "transactional id '" + id + "' has no epoch " + epoch, cur);
    }
    return null;
  }

  public Optional<TransactionRecord> get(String id) {
    return Optional.ofNullable(txns.get(id));
  }

  /** Every transactional id's record, by id. */
  public List<TransactionRecord> all() {
    return new ArrayList<>(txns.values());
  }

  public void restore(List<TransactionRecord> records) {
    txns.clear();
    for (TransactionRecord r : records) {
      txns.put(r.getTransactionalId(), r);
    }
  }

  private static MetadataResult ok(TransactionRecord r) {
    return MetadataResult.newBuilder().setTransaction(r).build();
  }

  private static MetadataResult concurrent(TransactionRecord r) {
    return error(ErrorCode.CONCURRENT_TRANSACTIONS, "the previous transaction of '" + r.getTransactionalId()
        + "' is still completing (" + r.getState() + "): retry", r);
  }

  private static MetadataResult error(ErrorCode code, String message) {
    return MetadataResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message).build();
  }

  private static MetadataResult error(ErrorCode code, String message, TransactionRecord r) {
    return MetadataResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message).setTransaction(r).build();
  }
}
