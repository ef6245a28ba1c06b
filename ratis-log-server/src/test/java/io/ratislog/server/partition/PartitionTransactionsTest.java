package io.ratislog.server.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PartitionTransactionsTest {
  @Test
  void theLastStableOffsetIsTheFirstOffsetOfTheOldestOpenTransaction() {
    PartitionTransactions t = new PartitionTransactions();
    assertEquals(10, t.lastStableOffset(10));
    t.recordAppend(1, 0, 10, 5);
    t.recordAppend(2, 0, 15, 5);
    t.recordAppend(1, 0, 20, 5);
    assertEquals(10, t.lastStableOffset(25));
    t.end(1, true);
    assertEquals(15, t.lastStableOffset(25));
    t.end(2, false);
    assertEquals(25, t.lastStableOffset(25));
  }

  @Test
  void abortedBatchesAreRememberedExactlyAndCommittedOnesAreNot() {
    PartitionTransactions t = new PartitionTransactions();
    t.recordAppend(1, 0, 0, 3);
    t.recordAppend(2, 0, 3, 3);
    t.recordAppend(1, 0, 6, 3);
    t.end(1, false);
    t.end(2, true);
    assertTrue(t.isAborted(0));
    assertFalse(t.isAborted(3));
    assertTrue(t.isAborted(6));
    assertNull(t.end(1, false), "a repeated marker ends nothing");
    t.pruneBelow(6);
    assertFalse(t.isAborted(0), "below the log start");
    assertTrue(t.isAborted(6));
  }

  @Test
  void pendingOffsetsAreHandedOverOnlyOnCommitAndEverythingSurvivesASnapshot() {
    PartitionTransactions t = new PartitionTransactions();
    t.addPendingOffset(7, 2, new PartitionTransactions.PendingOffset("g", 42, 3, "m", 9));
    t.recordAppend(8, 0, 100, 1);
    assertEquals(100, t.lastStableOffset(200), "an offsets-only transaction does not hold back readers");
    PartitionTransactions copy = PartitionTransactions.fromRecords(t.openRecords(), t.abortedRecords());
    assertEquals(2, copy.openEpoch(7));
    assertEquals(100, copy.lastStableOffset(200));
    assertEquals(42, copy.end(7, true).pendingOffsets().get(0).offset());
    assertTrue(copy.end(8, false).pendingOffsets().isEmpty());
    PartitionTransactions again = PartitionTransactions.fromRecords(copy.openRecords(), copy.abortedRecords());
    assertTrue(again.isAborted(100));
    assertEquals(0, again.openCount());
  }
}
