package io.ratislog.chaos.txn;

import static io.ratislog.chaos.txn.TxnChecker.output;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.txn.TxnChecker.Outcome;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TxnCheckerTest {
  private static final Set<String> INPUTS = Set.of("a", "b", "c");

  @Test
  void aCleanRunIsValid() {
    List<String> log = List.of(output("a", "t1"), output("b", "t1"), output("a", "t2"), output("c", "t3"));
    List<String> visible = List.of(output("a", "t1"), output("b", "t1"), output("c", "t3"));
    TxnChecker.Result r = TxnChecker.check(INPUTS, Set.of("m"), Map.of("t1", Outcome.COMMITTED, "t2", Outcome.ABORTED,
        "t3", Outcome.UNKNOWN), visible, log);
    assertTrue(r.valid(), r.counts().toString());
  }

  @Test
  void eachAnomalyIsNamed() {
    List<String> log = List.of(output("a", "t1"), output("b", "t1"), output("a", "t2"), output("b", "t3"),
        output("c", "t4"), output("z", "t5"));
    List<String> visible = List.of(output("a", "t1"), output("a", "t2"), output("b", "t3"), output("z", "t5"));
    TxnChecker.Result r = TxnChecker.check(INPUTS, Set.of("m"), Map.of("t1", Outcome.COMMITTED, "t2", Outcome.ABORTED,
        "t3", Outcome.UNKNOWN, "t4", Outcome.COMMITTED), visible, log);
    assertEquals(1L, r.counts().get("partial-transaction"), r.examples().toString());
    assertEquals(1L, r.counts().get("aborted-read"));
    assertEquals(2L, r.counts().get("committed-invisible"), "t1 half, t4 not at all");
    assertEquals(1L, r.counts().get("duplicate"), "a via t1 and t2");
    assertEquals(1L, r.counts().get("lost"), "c");
    assertEquals(1L, r.counts().get("unexpected"), "z");
  }
}
