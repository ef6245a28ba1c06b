package io.ratislog.server.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TransactionTableTest {
  private final TransactionTable table = new TransactionTable();
  private final AtomicLong ids = new AtomicLong(100);

  private TransactionRecord init(String id) {
    MetadataResult r = table.init(InitTxnCommand.newBuilder().setTransactionalId(id).setTimeoutMs(10_000).setNowMs(1).build(),
        ids::incrementAndGet);
    assertEquals(0, r.getErrorCode(), r.getErrorMessage());
    return r.getTransaction();
  }

  private MetadataResult add(TransactionRecord t, int epoch, long now, int... partitions) {
    AddTxnPartitionsCommand.Builder c = AddTxnPartitionsCommand.newBuilder().setTransactionalId(t.getTransactionalId())
        .setProducerId(t.getProducerId()).setProducerEpoch(epoch).setNowMs(now);
    for (int p : partitions) {
      c.addPartitions(TxnPartition.newBuilder().setTopic("t").setTopicId(1).setPartition(p));
    }
    return table.addPartitions(c.build());
  }

  private MetadataResult end(TransactionRecord t, int epoch, boolean commit) {
    return table.end(EndTxnCommand.newBuilder().setTransactionalId(t.getTransactionalId()).setProducerId(t.getProducerId())
        .setProducerEpoch(epoch).setCommit(commit).setNowMs(5).build());
  }

  private MetadataResult complete(TransactionRecord t, int epoch) {
    return table.complete(CompleteTxnCommand.newBuilder().setTransactionalId(t.getTransactionalId())
        .setProducerId(t.getProducerId()).setProducerEpoch(epoch).setNowMs(6).build());
  }

  private static ErrorCode code(MetadataResult r) {
    return ErrorCode.forNumber(r.getErrorCode());
  }

  @Test
  void aTransactionGoesOngoingPrepareCompleteAndEveryDecisionBumpsTheEpoch() {
    TransactionRecord t = init("a");
    assertEquals(0, t.getProducerEpoch());
    assertEquals(TxnState.TXN_ONGOING, add(t, 0, 2, 0, 1).getTransaction().getState());
    assertEquals(2, add(t, 0, 3, 1, 2).getTransaction().getPartitionsCount() - 1, "partitions are a set");
    MetadataResult ended = end(t, 0, true);
    assertEquals(TxnState.TXN_PREPARE_COMMIT, ended.getTransaction().getState());
    assertEquals(1, ended.getTransaction().getProducerEpoch());
    assertEquals(ErrorCode.CONCURRENT_TRANSACTIONS, code(add(t, 1, 7, 0)), "markers are still being written");
    assertEquals(ErrorCode.NONE, code(end(t, 0, true)), "a retried EndTxn is answered again");
    assertEquals(ErrorCode.INVALID_TXN_STATE, code(end(t, 0, false)), "a retry cannot change the decision");
    assertEquals(TxnState.TXN_COMPLETE_COMMIT, complete(t, 1).getTransaction().getState());
    assertEquals(TxnState.TXN_ONGOING, add(t, 1, 8, 0).getTransaction().getState(), "the next transaction");
  }

  @Test
  void aNewSessionFencesTheOldOneAndAbortsItsOpenTransactionFirst() {
    TransactionRecord t = init("a");
    add(t, 0, 2, 0);
    MetadataResult second = table.init(InitTxnCommand.newBuilder().setTransactionalId("a").setTimeoutMs(10_000).setNowMs(3).build(),
        ids::incrementAndGet);
    assertEquals(ErrorCode.CONCURRENT_TRANSACTIONS, code(second));
    assertEquals(TxnState.TXN_PREPARE_ABORT, second.getTransaction().getState());
    assertEquals(ErrorCode.PRODUCER_FENCED, code(add(t, 0, 4, 1)));
    assertEquals(ErrorCode.PRODUCER_FENCED, code(end(t, 0, true)), "the old session is fenced, not answered as a retry");
    complete(t, 1);
    TransactionRecord again = init("a");
    assertEquals(t.getProducerId(), again.getProducerId(), "the transactional id keeps its producer id");
    assertEquals(2, again.getProducerEpoch());
    assertEquals(TxnState.TXN_EMPTY, again.getState());
  }

  @Test
  void aRetriedInitAppliedAfterTheSessionItStartedLeavesThatSessionStanding() {
    InitTxnCommand first = InitTxnCommand.newBuilder().setTransactionalId("a").setTimeoutMs(10_000).setNowMs(1)
        .setInitToken("call-1").build();
    TransactionRecord t = table.init(first, ids::incrementAndGet).getTransaction();
    add(t, 0, 2, 0);
    MetadataResult late = table.init(first.toBuilder().setNowMs(3).build(), ids::incrementAndGet);
    assertEquals(ErrorCode.NONE, code(late), late.getErrorMessage());
    assertEquals(0, late.getTransaction().getProducerEpoch(), "no new epoch: the caller's session is not fenced");
    assertEquals(TxnState.TXN_ONGOING, late.getTransaction().getState(), "its open transaction is not aborted");
    end(t, 0, true);
    complete(t, 1);
    assertEquals(1, table.init(first, ids::incrementAndGet).getTransaction().getProducerEpoch());
    MetadataResult next = table.init(first.toBuilder().setInitToken("call-2").build(), ids::incrementAndGet);
    assertEquals(2, next.getTransaction().getProducerEpoch(), "another call starts a new session");
    assertEquals(ErrorCode.INVALID_REQUEST, code(table.init(first.toBuilder().setInitToken("x".repeat(65)).build(),
        ids::incrementAndGet)));
  }

  @Test
  void aTimedOutTransactionIsAbortedAndTheProducerIsToldSo() {
    TransactionRecord t = init("a");
    add(t, 0, 1_000, 0);
    AbortExpiredTxnCommand early = AbortExpiredTxnCommand.newBuilder().setTransactionalId("a").setProducerId(t.getProducerId())
        .setProducerEpoch(0).setNowMs(10_999).build();
    assertEquals(ErrorCode.INVALID_TXN_STATE, code(table.abortExpired(early)), "not timed out yet");
    MetadataResult aborted = table.abortExpired(early.toBuilder().setNowMs(11_000).build());
    assertEquals(TxnState.TXN_PREPARE_ABORT, aborted.getTransaction().getState());
    assertEquals(ErrorCode.TRANSACTION_ABORTED, code(add(t, 0, 11_001, 1)));
    assertEquals(ErrorCode.TRANSACTION_ABORTED, code(end(t, 0, true)));
    MetadataResult abort = end(t, 0, false);
    assertEquals(ErrorCode.NONE, code(abort));
    assertEquals(1, abort.getTransaction().getProducerEpoch(), "the producer continues with the bumped epoch");
  }

  @Test
  void participantProblemAdmitsOnlyPartitionsOfTheOngoingTransactionAtItsEpoch() {
    TransactionRecord t = init("a");
    assertEquals(ErrorCode.INVALID_TXN_STATE.getNumber(),
        TransactionTable.participantProblem(t, "a", t.getProducerId(), 0, 1, 0).getErrorCode(), "nothing added yet");
    TransactionRecord ongoing = add(t, 0, 2, 0).getTransaction();
    assertEquals(null, TransactionTable.participantProblem(ongoing, "a", t.getProducerId(), 0, 1, 0));
    assertEquals(ErrorCode.INVALID_TXN_STATE.getNumber(),
        TransactionTable.participantProblem(ongoing, "a", t.getProducerId(), 0, 1, 1).getErrorCode(), "not added");
    assertEquals(ErrorCode.INVALID_TXN_STATE.getNumber(),
        TransactionTable.participantProblem(ongoing, "a", t.getProducerId(), 0, 2, 0).getErrorCode(), "other topic id");
    assertEquals(ErrorCode.PRODUCER_FENCED.getNumber(),
        TransactionTable.participantProblem(ongoing, "a", t.getProducerId() + 1, 0, 1, 0).getErrorCode());
  }

  @Test
  void badIdsAndTimeoutsAreRefused() {
    assertEquals(ErrorCode.INVALID_REQUEST, code(table.init(InitTxnCommand.newBuilder().setTransactionalId("")
        .setTimeoutMs(10_000).build(), ids::incrementAndGet)));
    assertEquals(ErrorCode.INVALID_REQUEST, code(table.init(InitTxnCommand.newBuilder().setTransactionalId("a b")
        .setTimeoutMs(10_000).build(), ids::incrementAndGet)));
    assertEquals(ErrorCode.INVALID_REQUEST, code(table.init(InitTxnCommand.newBuilder().setTransactionalId("a")
        .setTimeoutMs(999).build(), ids::incrementAndGet)));
    assertEquals(ErrorCode.INVALID_TXN_STATE, code(table.addPartitions(AddTxnPartitionsCommand.newBuilder()
        .setTransactionalId("nobody").setProducerId(1).build())));
  }
}
