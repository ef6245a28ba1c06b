package io.ratislog.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AlternatingSlicesTest {
  private static final long RECORDS = 500_000;

  /**
   * Runs {@code blocks} blocks on a simulated machine whose speed at slice {@code t} is {@code speed(t)}, where mode
   * A needs {@code 1 + aCost} times B's time per record.
   */
  private static AlternatingSlices simulate(int blocks, double aCost, java.util.function.IntToDoubleFunction speed) {
    AlternatingSlices s = new AlternatingSlices();
    int t = 0;
    for (int b = 0; b < blocks; b++) {
      for (int mode : AlternatingSlices.order(b)) {
        double secondsPerRecord = (mode == AlternatingSlices.A ? 1 + aCost : 1) / speed.applyAsDouble(t++);
        s.record(b, mode, RECORDS, (long) (RECORDS * secondsPerRecord * 1e9));
      }
    }
    return s;
  }

  @Test
  void blocksMirrorEachOther() {
    assertArrayEquals(new int[] {0, 1, 1, 0}, AlternatingSlices.order(0));
    assertArrayEquals(new int[] {1, 0, 0, 1}, AlternatingSlices.order(1));
    assertArrayEquals(new int[] {0, 1, 1, 0}, AlternatingSlices.order(6));
  }

  @Test
  void aMachineSpeedingUpSteadilyDoesNotShowAsACost() {
    // 10 % faster every slice: A, B, A, B... would make A look 5-9 % slower in every pair
    AlternatingSlices s = simulate(5, 0.0, t -> 500_000 * (1 + 0.10 * t));
    for (double c : s.blockCosts()) {
      assertEquals(0.0, c, 2.0, "block cost " + c + " in " + s.blockCosts());
    }
    assertEquals(0.0, s.medianBlockCost(), 0.6);
  }

  @Test
  void aRealCostIsFoundThroughTheDrift() {
    // A needs 4 % more time per record: its rate is 1/1.04 of B's, a cost of ~3.8 %
    AlternatingSlices s = simulate(7, 0.04, t -> 400_000 * (1 + 0.05 * t));
    assertEquals(100 * (1 - 1 / 1.04), s.medianBlockCost(), 0.7, s.blockCosts().toString());
    assertTrue(s.rate(AlternatingSlices.A) < s.rate(AlternatingSlices.B));
  }

  @Test
  void theMedianIgnoresOneBlockWhereTheMachineFellOffACliff() {
    // three times slower from slice 9 on (block 3's second slice), as when the host takes memory back
    AlternatingSlices s = simulate(5, 0.0, t -> t < 9 ? 700_000 : 230_000);
    List<Double> costs = s.blockCosts();
    assertEquals(5, costs.size());
    assertTrue(Math.abs(costs.get(2)) > 20, costs.toString());
    assertEquals(0.0, s.medianBlockCost(), 0.01);
  }

  @Test
  void medianOfAnEvenNumberOfBlocksAveragesTheMiddleTwo() {
    AlternatingSlices s = new AlternatingSlices();
    long[][] nanos = {{100, 100}, {110, 100}, {130, 100}, {200, 100}}; // costs 0, ~9.1, ~23.1, 50 %
    for (int b = 0; b < nanos.length; b++) {
      s.record(b, AlternatingSlices.A, 1000, nanos[b][0]);
      s.record(b, AlternatingSlices.B, 1000, nanos[b][1]);
    }
    assertEquals((100 * (1 - 100.0 / 110) + 100 * (1 - 100.0 / 130)) / 2, s.medianBlockCost(), 1e-9);
  }

  @Test
  void blocksMustBeRecordedInOrder() {
    AlternatingSlices s = new AlternatingSlices();
    s.record(0, AlternatingSlices.A, 1, 1);
    assertThrows(IllegalArgumentException.class, () -> s.record(2, AlternatingSlices.A, 1, 1));
    assertTrue(Double.isNaN(new AlternatingSlices().medianBlockCost()));
  }
}
