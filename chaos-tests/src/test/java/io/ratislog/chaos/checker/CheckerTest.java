package io.ratislog.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.workload.DeliveryMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checker on hand-made histories: one per anomaly kind, a clean one, and mode sensitivity. */
class CheckerTest {
  private static final DeliveryMode ALO = DeliveryMode.AT_LEAST_ONCE;
  private static final DeliveryMode EO = DeliveryMode.EXACTLY_ONCE;

  private static CheckResult check(HistoryBuilder h, DeliveryMode mode) {
    return Checker.check(h.ops(), mode, 5);
  }

  /** Exactly {@code kind} was found, {@code n} times. */
  private static void assertOnly(CheckResult r, AnomalyKind kind, long n) {
    assertEquals(Set.of(kind), r.anomalies().keySet(), () -> r.summary() + " " + r.anomalies());
    assertEquals(n, r.count(kind), r::summary);
  }

  /** Two producers, two partitions, two readers with a seek each, a fault, and a final read: all fine. */
  private static HistoryBuilder clean() {
    HistoryBuilder h = new HistoryBuilder();
    h.seek("reader-0", Map.of(0, 0L, 1, 0L));
    h.send("producer-0", "p0-0", 0, 0).send("producer-1", "p1-0", 1, 0);
    h.poll("reader-0", 0, 0L, "p0-0", 1, 0L, "p1-0");
    h.nemesis("kill", 2);
    h.send("producer-0", "p0-1", 0, 1).send("producer-0", "p0-2", 0, 2).send("producer-1", "p1-1", 1, 1);
    long unknown = h.invokeSend("producer-1", 1, "p1-2");
    h.completeSend("producer-1", unknown, "p1-2", Phase.INFO); // written after all: allowed once
    long failed = h.invokeSend("producer-1", 0, "p1-3");
    h.completeSend("producer-1", failed, "p1-3", Phase.FAIL); // never read: fine
    long lostInfo = h.invokeSend("producer-0", 1, "p0-3");
    h.completeSend("producer-0", lostInfo, "p0-3", Phase.INFO); // never read: fine, it may not exist
    h.poll("reader-0", 0, 1L, "p0-1", 1, 1L, "p1-1");
    h.poll("reader-0", 0, 2L, "p0-2", 1, 2L, "p1-2");
    h.seek("reader-1", Map.of(0, 0L, 1, 0L));
    h.poll("reader-1", 0, 0L, "p0-0", 0, 1L, "p0-1", 0, 2L, "p0-2");
    h.finalRead(0, 3, 0, 0L, "p0-0", 0, 1L, "p0-1", 0, 2L, "p0-2");
    h.finalRead(1, 3, 1, 0L, "p1-0", 1, 1L, "p1-1", 1, 2L, "p1-2");
    return h;
  }

  @Test
  void cleanHistoryHasNoAnomaliesInEitherMode() {
    for (DeliveryMode mode : DeliveryMode.values()) {
      CheckResult r = check(clean(), mode);
      assertTrue(r.anomalies().isEmpty(), () -> mode + ": " + r.anomalies());
      assertTrue(r.valid());
      assertEquals(5L, r.stats().get("sends-ok"));
      assertEquals(1L, r.stats().get("sends-fail"));
      assertEquals(2L, r.stats().get("sends-info"));
    }
  }

  @Test
  void historySurvivesJsonLines(@TempDir Path dir) {
    List<Op> ops = clean().ops();
    Path file = dir.resolve("history.jsonl");
    History.write(ops, file);
    List<Op> back = History.read(file);
    assertEquals(ops, back);
    assertTrue(Checker.check(back, EO, 5).anomalies().isEmpty());
    assertTrue(lines(file) == ops.size());
  }

  private static long lines(Path f) {
    try {
      return Files.readAllLines(f).size();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void lostWrite() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0).send("producer-0", "b", 0, 1).send("producer-0", "c", 0, 2);
    h.seek("reader-0", Map.of(0, 0L));
    h.poll("reader-0", 0, 0L, "a", 0, 2L, "c"); // offset 1 vanished: the reader also skipped it
    CheckResult r = check(h, ALO);
    assertEquals(1, r.count(AnomalyKind.LOST_WRITE), r::summary);
    assertEquals(1, r.count(AnomalyKind.POLL_SKIP), r::summary);
    assertTrue(r.anomalies().get(AnomalyKind.LOST_WRITE).examples().get(0).contains("\"b\""));
    assertFalse(r.valid());
  }

  @Test
  void unseen() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0).send("producer-0", "b", 0, 1);
    h.finalRead(0, 1, 0, 0L, "a"); // the final read ends before b's acknowledged offset
    assertOnly(check(h, ALO), AnomalyKind.UNSEEN, 1);
  }

  @Test
  void unknownOutcomeSendIsNeverLostOrUnseen() {
    HistoryBuilder h = new HistoryBuilder();
    long id = h.invokeSend("producer-0", 0, "maybe");
    h.completeSend("producer-0", id, "maybe", Phase.INFO);
    h.invokeSend("producer-0", 0, "never-completed");
    h.send("producer-0", "a", 0, 0);
    h.finalRead(0, 1, 0, 0L, "a");
    assertTrue(check(h, EO).anomalies().isEmpty(), () -> check(h, EO).summary());
  }

  @Test
  void duplicateIsAllowedAtLeastOnceButNotExactlyOnce() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 1); // first attempt's answer was lost; the retry landed at 1
    h.send("producer-0", "b", 0, 2);
    h.finalRead(0, 3, 0, 0L, "a", 0, 1L, "a", 0, 2L, "b");
    CheckResult alo = check(h, ALO);
    assertOnly(alo, AnomalyKind.DUPLICATE, 1);
    assertTrue(alo.valid(), alo::summary);
    assertTrue(alo.counting().isEmpty());
    CheckResult eo = check(h, EO);
    assertOnly(eo, AnomalyKind.DUPLICATE, 1);
    assertFalse(eo.valid(), eo::summary);
    assertEquals(Map.of(AnomalyKind.DUPLICATE, 1L), eo.counting());
  }

  @Test
  void unknownOutcomeSendReadTwiceIsADuplicate() {
    HistoryBuilder h = new HistoryBuilder();
    long id = h.invokeSend("producer-0", 0, "maybe");
    h.completeSend("producer-0", id, "maybe", Phase.INFO);
    h.finalRead(0, 2, 0, 0L, "maybe", 0, 1L, "maybe");
    assertTrue(check(h, ALO).valid());
    assertOnly(check(h, EO), AnomalyKind.DUPLICATE, 1);
    assertFalse(check(h, EO).valid());
  }

  @Test
  void inconsistentOffsets() {
    HistoryBuilder h = new HistoryBuilder();
    long a = h.invokeSend("producer-0", 0, "a");
    h.completeSend("producer-0", a, "a", Phase.INFO);
    long b = h.invokeSend("producer-1", 0, "b");
    h.completeSend("producer-1", b, "b", Phase.INFO);
    h.seek("reader-0", Map.of(0, 0L));
    h.poll("reader-0", 0, 0L, "a");
    h.seek("reader-1", Map.of(0, 0L));
    h.poll("reader-1", 0, 0L, "b"); // another reader sees another value at 0@0
    assertOnly(check(h, ALO), AnomalyKind.INCONSISTENT_OFFSETS, 1);
  }

  @Test
  void ackOffsetMismatch() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0);
    long b = h.invokeSend("producer-1", 0, "b");
    h.completeSend("producer-1", b, "b", Phase.INFO);
    h.finalRead(0, 2, 0, 0L, "b", 0, 1L, "a"); // a was acknowledged at 0 but sits at 1
    assertOnly(check(h, ALO), AnomalyKind.ACK_OFFSET_MISMATCH, 1);
  }

  @Test
  void nonmonotonicSend() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 5);
    h.send("producer-0", "b", 0, 3); // invoked after a's ack, acknowledged below it
    h.send("producer-1", "c", 0, 4); // another producer: no order between them
    h.finalRead(0, 6, 0, 0L, "x0", 0, 1L, "x1", 0, 2L, "x2", 0, 3L, "b", 0, 4L, "c", 0, 5L, "a");
    CheckResult r = check(h, ALO);
    assertEquals(1, r.count(AnomalyKind.NONMONOTONIC_SEND), r::summary);
    assertEquals(3, r.count(AnomalyKind.UNEXPECTED), r::summary); // x0..x2 were never sent
    assertEquals(2, r.anomalies().size(), r::summary);
  }

  @Test
  void concurrentSendsMayBeAcknowledgedInAnyOrder() {
    HistoryBuilder h = new HistoryBuilder();
    long a = h.invokeSend("producer-0", 0, "a");
    long b = h.invokeSend("producer-0", 0, "b"); // b invoked before a completed: not sequential
    h.ackSend("producer-0", b, "b", 0, 0);
    h.ackSend("producer-0", a, "a", 0, 1);
    h.finalRead(0, 2, 0, 0L, "b", 0, 1L, "a");
    assertTrue(check(h, EO).anomalies().isEmpty(), () -> check(h, EO).summary());
  }

  @Test
  void nonmonotonicPoll() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0).send("producer-0", "b", 0, 1);
    h.seek("reader-0", Map.of(0, 0L));
    h.poll("reader-0", 0, 0L, "a", 0, 1L, "b");
    h.poll("reader-0", 0, 1L, "b"); // read 1 again without a seek
    h.seek("reader-0", Map.of(0, 0L));
    h.poll("reader-0", 0, 0L, "a"); // after a seek going back is fine
    assertOnly(check(h, ALO), AnomalyKind.NONMONOTONIC_POLL, 1);
  }

  @Test
  void pollSkip() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0).send("producer-0", "b", 0, 1).send("producer-0", "c", 0, 2);
    h.seek("reader-0", Map.of(0, 0L));
    h.poll("reader-0", 0, 0L, "a");
    h.poll("reader-0", 0, 2L, "c"); // jumped over 1, which exists (b is acked there and read below)
    h.seek("reader-1", Map.of(0, 0L));
    h.poll("reader-1", 0, 0L, "a", 0, 1L, "b", 0, 2L, "c");
    assertOnly(check(h, ALO), AnomalyKind.POLL_SKIP, 1);
  }

  @Test
  void jumpOverOffsetsNobodyKnowsIsNoSkip() {
    HistoryBuilder h = new HistoryBuilder();
    long x = h.invokeSend("producer-0", 0, "x");
    h.completeSend("producer-0", x, "x", Phase.INFO);
    h.send("producer-0", "c", 0, 2);
    h.seek("reader-0", Map.of(0, 1L));
    h.poll("reader-0", 0, 2L, "c"); // offset 1 was never seen by anyone: no evidence of a skip
    assertTrue(check(h, ALO).anomalies().isEmpty(), () -> check(h, ALO).summary());
  }

  @Test
  void unexpected() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0);
    h.finalRead(0, 2, 0, 0L, "a", 0, 1L, "ghost");
    assertOnly(check(h, ALO), AnomalyKind.UNEXPECTED, 1);
  }

  @Test
  void abortedRead() {
    HistoryBuilder h = new HistoryBuilder();
    long id = h.invokeSend("producer-0", 0, "refused");
    h.completeSend("producer-0", id, "refused", Phase.FAIL);
    h.finalRead(0, 1, 0, 0L, "refused");
    assertOnly(check(h, ALO), AnomalyKind.ABORTED_READ, 1);
  }

  @Test
  void incompleteFinalRead() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0);
    h.incompleteFinalRead(0);
    assertOnly(check(h, ALO), AnomalyKind.INCOMPLETE_FINAL_READ, 1);
  }

  @Test
  void finalReadStoppingShortIsASkip() {
    HistoryBuilder h = new HistoryBuilder();
    h.send("producer-0", "a", 0, 0).send("producer-0", "b", 0, 1);
    h.seek("reader-0", Map.of(0, 0L));
    h.poll("reader-0", 0, 0L, "a", 0, 1L, "b");
    h.finalRead(0, 2, 0, 0L, "a"); // claims to be complete up to 2 but returned only offset 0
    CheckResult r = check(h, ALO);
    assertEquals(1, r.count(AnomalyKind.POLL_SKIP), r::summary);
    assertEquals(1, r.count(AnomalyKind.UNSEEN), r::summary);
  }

  @Test
  void examplesAreBounded() {
    HistoryBuilder h = new HistoryBuilder();
    Object[] reads = new Object[60];
    for (int i = 0; i < 20; i++) {
      reads[3 * i] = 0;
      reads[3 * i + 1] = (long) i;
      reads[3 * i + 2] = "ghost-" + i;
    }
    h.finalRead(0, 20, reads);
    CheckResult r = Checker.check(h.ops(), ALO, 3);
    assertEquals(20, r.count(AnomalyKind.UNEXPECTED));
    assertEquals(3, r.anomalies().get(AnomalyKind.UNEXPECTED).examples().size());
  }
}
