package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.reflect.Proxy;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.junit.jupiter.api.Test;

class AppendReplyVerifierTest {
  private static final AppendEntriesReplyProto SUCCESS_UP_TO_12 = AppendEntriesReplyProto.newBuilder()
      .setResult(AppendResult.SUCCESS).setMatchIndex(12).setNextIndex(13).setTerm(3).build();

  /** Entries 10 to 12 of term 3. */
  private static AppendEntriesRequestProto append() {
    AppendEntriesRequestProto.Builder b = AppendEntriesRequestProto.newBuilder().setLeaderTerm(3);
    for (long i = 10; i <= 12; i++) {
      b.addEntries(LogEntryProto.newBuilder().setTerm(3).setIndex(i));
    }
    return b.build();
  }

  /** A log holding entries start..last (of term 3 unless {@code terms} says otherwise), forced up to flush. */
  private static RaftLog log(long start, long last, long flush, long snapshot, Map<Long, Long> terms) {
    return (RaftLog) Proxy.newProxyInstance(RaftLog.class.getClassLoader(), new Class<?>[] {RaftLog.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "getStartIndex" -> start;
          case "getNextIndex" -> last + 1;
          case "getFlushIndex" -> flush;
          case "getSnapshotIndex" -> snapshot;
          case "getTermIndex" -> {
            long i = (Long) args[0];
            yield i < start || i > last ? null : TermIndex.valueOf(terms.getOrDefault(i, 3L), i);
          }
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  @Test
  void aReplyForEntriesTheLogHoldsAndForcedStands() {
    assertSame(SUCCESS_UP_TO_12, AppendReplyVerifier.verify(append(), SUCCESS_UP_TO_12, log(0, 12, 12, -1, Map.of())));
    assertSame(SUCCESS_UP_TO_12, AppendReplyVerifier.verify(append(), SUCCESS_UP_TO_12, log(0, 20, 15, -1, Map.of())));
  }

  @Test
  void entriesPurgedAfterASnapshotWereCommittedAndTheReplyStands() {
    assertSame(SUCCESS_UP_TO_12, AppendReplyVerifier.verify(append(), SUCCESS_UP_TO_12, log(13, 20, 20, 12, Map.of())));
  }

  @Test
  void entriesNeverAppendedTurnTheReplyIntoInconsistencyFromTheLogsEnd() {
    AppendEntriesReplyProto r = AppendReplyVerifier.verify(append(), SUCCESS_UP_TO_12, log(0, 10, 10, -1, Map.of()));
    assertEquals(AppendResult.INCONSISTENCY, r.getResult());
    assertEquals(11, r.getNextIndex());
    assertEquals(RaftLog.INVALID_LOG_INDEX, r.getMatchIndex());
    assertEquals(3, r.getTerm());
  }

  @Test
  void entriesAppendedButNotForcedAreAskedForFromTheFirstUnforcedOne() {
    AppendEntriesReplyProto r = AppendReplyVerifier.verify(append(), SUCCESS_UP_TO_12, log(0, 12, 9, -1, Map.of()));
    assertEquals(AppendResult.INCONSISTENCY, r.getResult());
    assertEquals(10, r.getNextIndex());
  }

  @Test
  void anotherTermsEntryAtTheAcknowledgedIndexIsNotTheLeadersEntry() {
    AppendEntriesReplyProto r = AppendReplyVerifier.verify(append(), SUCCESS_UP_TO_12,
        log(0, 14, 14, -1, Map.of(12L, 4L)));
    assertEquals(AppendResult.INCONSISTENCY, r.getResult());
  }
}
