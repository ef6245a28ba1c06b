package io.ratislog.server.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.CommitOffsetEntry;
import io.ratislog.server.entries.OffsetCommitResult;
import io.ratislog.server.entries.ResetOffsetEntry;
import org.junit.jupiter.api.Test;

class CommittedOffsetTableTest {
  private static CommitOffsetEntry commit(long offset, long generation, long known) {
    return CommitOffsetEntry.newBuilder().setGroup("g").setOffset(offset).setGeneration(generation)
        .setKnownGeneration(known).setMemberId("m").setCommitTimeMs(1).build();
  }

  private static int code(OffsetCommitResult r) {
    return r.getErrorCode();
  }

  @Test
  void offsetsNeverGoBackExceptByAReset() {
    CommittedOffsetTable t = new CommittedOffsetTable();
    assertEquals(0, code(t.commit(commit(5, 1, 1), 10)));
    assertEquals(0, code(t.commit(commit(5, 1, 1), 10)), "the same offset again (a retry) is fine");
    OffsetCommitResult back = t.commit(commit(3, 1, 1), 10);
    assertEquals(ErrorCode.INVALID_COMMIT_VALUE, code(back));
    assertEquals(5, back.getCommittedOffset());
    assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE_VALUE, code(t.commit(commit(11, 1, 1), 10)), "beyond the log end");
    assertEquals(ErrorCode.INVALID_REQUEST_VALUE, code(t.commit(commit(-1, 1, 1), 10)));
    assertEquals(0, code(t.reset(ResetOffsetEntry.newBuilder().setGroup("g").setOffset(2).build(), 10)));
    assertEquals(2, t.get("g").orElseThrow().offset());
    assertEquals(1, t.get("g").orElseThrow().highestGeneration(), "a reset keeps the fencing generation");
    assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE_VALUE,
        code(t.reset(ResetOffsetEntry.newBuilder().setGroup("g").setOffset(11).build(), 10)));
  }

  @Test
  void anOlderGenerationIsFencedAndLearnedGenerationsOnlyRise() {
    CommittedOffsetTable t = new CommittedOffsetTable();
    assertEquals(0, code(t.commit(commit(4, 2, 2), 10)));
    OffsetCommitResult zombie = t.commit(commit(9, 1, 1), 10);
    assertEquals(ErrorCode.FENCED_GENERATION_VALUE, code(zombie));
    assertEquals(4, t.get("g").orElseThrow().offset(), "a fenced commit does not move the offset");
    // The proposer's metadata replica knew generation 3: a commit at 2 is fenced even before any commit at 3.
    assertEquals(ErrorCode.FENCED_GENERATION_VALUE, code(t.commit(commit(6, 2, 3), 10)));
    assertEquals(ErrorCode.FENCED_GENERATION_VALUE, code(t.commit(commit(6, 2, 2), 10)), "generation 3 was learned");
    assertEquals(0, code(t.commit(commit(6, 3, 3), 10)));
  }

  @Test
  void snapshotRecordsRoundTripAndTwoTablesDecideAlike() {
    CommittedOffsetTable a = new CommittedOffsetTable();
    CommittedOffsetTable b = new CommittedOffsetTable();
    long[][] ops = {{1, 1, 1}, {3, 1, 1}, {2, 1, 1}, {5, 0, 2}, {5, 2, 2}, {9, 2, 2}, {20, 2, 2}, {10, 3, 1}};
    for (long[] op : ops) {
      assertEquals(a.commit(commit(op[0], op[1], op[2]), 12), b.commit(commit(op[0], op[1], op[2]), 12));
    }
    assertEquals(a.toRecords(), b.toRecords());
    assertEquals(a.toRecords(), CommittedOffsetTable.fromRecords(a.toRecords()).toRecords());
    assertEquals(10, a.get("g").orElseThrow().offset());
    assertEquals(3, a.get("g").orElseThrow().highestGeneration());
  }
}
