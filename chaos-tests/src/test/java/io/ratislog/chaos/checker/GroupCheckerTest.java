package io.ratislog.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.workload.DeliveryMode;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer-group checks on hand-made histories: a clean one and each anomaly, and what must not count. */
class GroupCheckerTest {
  private static final Phase OK = Phase.OK;

  private static CheckResult check(HistoryBuilder h) {
    return Checker.check(h.ops(), DeliveryMode.AT_LEAST_ONCE, 5);
  }

  private static void assertOnly(CheckResult r, AnomalyKind kind, long n) {
    assertEquals(Set.of(kind), r.anomalies().keySet(), () -> r.summary() + " " + r.anomalies());
    assertEquals(n, r.count(kind), r::summary);
  }

  /** Five records on partition 0, sent and read by the final read. */
  private static HistoryBuilder sent() {
    HistoryBuilder h = new HistoryBuilder();
    for (int i = 0; i < 5; i++) {
      h.send("producer-0", "v" + i, 0, i);
    }
    return h;
  }

  private static HistoryBuilder finalRead(HistoryBuilder h) {
    return h.finalRead(0, 5, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3", 0, 4L, "v4");
  }

  /**
   * Member a reads 0-2 and commits 3, reads 3-4 and crashes before committing; member b (generation 2) starts
   * at the committed offset 3 and re-reads 3-4 (allowed at-least-once), commits 5; observations agree.
   */
  private static HistoryBuilder clean() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2");
    h.commit("member-0", "a", 1, 0, 3, OK);
    h.committed(Map.of(0, 3L));
    h.groupPoll("member-0", "a", 1, 0, 3L, "v3", 0, 4L, "v4");
    h.groupPoll("member-1", "b", 2, 0, 3L, "v3", 0, 4L, "v4");
    long late = h.invokeCommit("member-0", "a", 1, 0, 5); // a zombie's commit, fenced
    h.completeCommit("member-0", late, "a", 1, 0, 5, Phase.FAIL);
    h.commit("member-1", "b", 2, 0, 5, OK);
    h.committed(Map.of(0, 5L));
    return finalRead(h);
  }

  @Test
  void cleanGroupHistoryHasNoAnomalies() {
    CheckResult r = check(clean());
    assertTrue(r.valid(), r::summary);
    assertEquals(Map.of(), r.anomalies());
    assertEquals(2L, r.stats().get("group-commits-ok"));
    assertEquals(5L, r.stats().get("group-values-consumed"));
  }

  @Test
  void aCommitBelowAnEarlierCommitWentBack() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3", 0, 4L, "v4");
    h.commit("member-0", "a", 1, 0, 5, OK);
    h.commit("member-1", "b", 2, 0, 2, OK); // acknowledged although 5 was committed before
    CheckResult r = check(finalRead(h));
    assertOnly(r, AnomalyKind.COMMITTED_OFFSET_WENT_BACK, 1);
    assertTrue(r.anomalies().get(AnomalyKind.COMMITTED_OFFSET_WENT_BACK).examples().get(0).contains("\"earlier\":5"));
  }

  @Test
  void anObservedCommittedOffsetBelowACommitWentBack() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3", 0, 4L, "v4");
    h.commit("member-0", "a", 1, 0, 4, OK);
    h.committed(Map.of(0, 2L)); // e.g. a snapshot restored an old committed-offset table
    h.committed(Map.of(0, -1L)); // or lost it altogether
    h.commit("member-0", "a", 1, 0, 5, OK);
    assertOnly(check(finalRead(h)), AnomalyKind.COMMITTED_OFFSET_WENT_BACK, 2);
  }

  @Test
  void aResetMayMoveTheCommittedOffsetBack() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3", 0, 4L, "v4");
    h.commit("member-0", "a", 1, 0, 5, OK);
    h.reset(Map.of(0, 1L));
    h.committed(Map.of(0, 1L));
    h.groupPoll("member-0", "a", 2, 0, 1L, "v1", 0, 2L, "v2");
    h.commit("member-0", "a", 2, 0, 3, OK);
    CheckResult r = check(finalRead(h));
    assertEquals(Map.of(), r.anomalies(), r::summary);
    // without the reset, the same history goes back twice
    HistoryBuilder noReset = sent();
    noReset.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3", 0, 4L, "v4");
    noReset.commit("member-0", "a", 1, 0, 5, OK);
    noReset.committed(Map.of(0, 1L));
    noReset.commit("member-0", "a", 2, 0, 3, OK);
    assertOnly(check(finalRead(noReset)), AnomalyKind.COMMITTED_OFFSET_WENT_BACK, 2);
  }

  @Test
  void overlappingCommitsAreNotOrdered() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3", 0, 4L, "v4");
    long hi = h.invokeCommit("member-0", "a", 1, 0, 5);
    long lo = h.invokeCommit("member-1", "b", 1, 0, 3);
    h.completeCommit("member-0", hi, "a", 1, 0, 5, OK);
    h.completeCommit("member-1", lo, "b", 1, 0, 3, OK); // invoked before 5 completed: may have come first
    assertEquals(Map.of(), check(finalRead(h)).anomalies());
  }

  @Test
  void aNewOwnerStartingAboveTheCommittedOffsetSkips() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2");
    h.commit("member-0", "a", 1, 0, 2, OK); // committed 2: v2 not yet processed
    // a crashes; b gets the partition in generation 2 and starts at 4: v2 and v3 are skipped
    h.groupPoll("member-1", "b", 2, 0, 4L, "v4");
    h.commit("member-1", "b", 2, 0, 5, OK);
    CheckResult r = check(finalRead(h));
    assertEquals(Set.of(AnomalyKind.GROUP_POLL_SKIP, AnomalyKind.GROUP_LOST), r.anomalies().keySet(), r::summary);
    assertEquals(1, r.count(AnomalyKind.GROUP_POLL_SKIP));
    assertTrue(r.anomalies().get(AnomalyKind.GROUP_POLL_SKIP).examples().get(0).contains("\"skipped\":2"));
    assertEquals(1, r.count(AnomalyKind.GROUP_LOST), "v3 was never consumed (v2 was, by a)");
  }

  @Test
  void aMemberJumpingForwardWithinItsGenerationSkips() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1");
    h.groupPoll("member-0", "a", 1, 0, 3L, "v3", 0, 4L, "v4");
    // b takes over in generation 2 with nothing committed and reads v2 too: no group-lost, the skip remains
    h.groupPoll("member-1", "b", 2, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2");
    assertOnly(check(finalRead(h)), AnomalyKind.GROUP_POLL_SKIP, 1);
  }

  @Test
  void aStartAtAnOffsetACommitInFlightMayHaveSetIsNoSkip() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2");
    long c = h.invokeCommit("member-0", "a", 1, 0, 3); // its answer was lost: info
    h.groupPoll("member-1", "b", 2, 0, 3L, "v3", 0, 4L, "v4");
    h.completeCommit("member-0", c, "a", 1, 0, 3, Phase.INFO);
    assertEquals(Map.of(), check(finalRead(h)).anomalies());
  }

  @Test
  void anAcknowledgedRecordTheGroupNeverConsumedIsLost() {
    HistoryBuilder h = sent();
    h.groupPoll("member-0", "a", 1, 0, 0L, "v0", 0, 1L, "v1", 0, 2L, "v2", 0, 3L, "v3");
    h.commit("member-0", "a", 1, 0, 4, OK);
    h.committed(Map.of(0, 4L));
    CheckResult r = check(finalRead(h));
    assertOnly(r, AnomalyKind.GROUP_LOST, 1);
    assertTrue(r.anomalies().get(AnomalyKind.GROUP_LOST).examples().get(0).contains("\"value\":\"v4\""));
    assertTrue(r.anomalies().get(AnomalyKind.GROUP_LOST).examples().get(0)
        .contains("\"last-observed-committed\":4"));
  }

  @Test
  void groupAnomaliesCountInEveryModeAndHistoriesWithoutAGroupAreUnaffected() {
    for (AnomalyKind k : Set.of(AnomalyKind.COMMITTED_OFFSET_WENT_BACK, AnomalyKind.GROUP_POLL_SKIP,
        AnomalyKind.GROUP_LOST)) {
      for (DeliveryMode m : DeliveryMode.values()) {
        assertTrue(k.countsIn(m));
      }
    }
    CheckResult r = check(finalRead(sent()));
    assertEquals(Map.of(), r.anomalies());
    assertEquals(null, r.stats().get("group-commits-ok"));
  }

  @Test
  void aNodeThatDoesNotComeBackIsNodeDown() {
    HistoryBuilder h = finalRead(sent());
    h.health(1, true).health(2, false).health(3, true);
    CheckResult r = check(h);
    assertOnly(r, AnomalyKind.NODE_DOWN, 1);
    assertTrue(r.anomalies().get(AnomalyKind.NODE_DOWN).examples().get(0).contains("ChecksumException"));
  }

  @Test
  void groupEventsSurviveTheJsonRoundTrip(@TempDir Path dir) {
    HistoryBuilder h = clean();
    History.write(h.ops(), dir.resolve("h.jsonl"));
    assertEquals(h.ops(), History.read(dir.resolve("h.jsonl")));
  }
}
