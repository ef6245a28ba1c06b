package io.ratislog.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The throttle a bucket answers is the time until its deficit is refilled. */
class TokenBucketTest {
  @Test
  void deficitBecomesAWait() {
    long t0 = 1_000_000_000L;
    TokenBucket b = new TokenBucket(1000, t0); // 1000/s, starts full (1000)
    assertEquals(0, b.record(1000, t0));
    assertEquals(500, b.record(500, t0), "500 short at 1000/s is 500 ms");
    assertEquals(0, b.throttleMs(t0 + 500_000_000L), "refilled after 500 ms");
    assertEquals(0, b.record(0, t0 + 10_000_000_000L));
    assertEquals(0, b.record(1000, t0 + 10_000_000_000L), "capacity is one second's worth, not more");
    assertEquals(1, b.record(1, t0 + 10_000_000_000L));
  }
}
