package io.ratislog.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PayloadTest {
  /** The latency case numbers its unmeasured warm-up records below zero (a full run lost that case to it). */
  @Test
  void aCyclicPayloadExistsForEveryIndexNegativeOnesIncluded() {
    assertArrayEquals(LogBench.payload(100, 1), LogBench.payload(100, -25));
    assertEquals('a', LogBench.payload(100, -26)[0]);
    assertEquals('z', LogBench.payload(100, -1)[0]);
    assertEquals('b', LogBench.payload(100, 1)[0]);
    assertEquals(100, LogBench.payload(100, Long.MIN_VALUE).length);
  }
}
