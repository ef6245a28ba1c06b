package io.ratislog.server.security;

/**
 * A token bucket refilled at {@code rate} per second up to one second's worth. Usage is recorded after the fact
 * and may drive the bucket negative; the deficit, divided by the rate, is how long the user must pause
 * (Kafka-style quotas: the request is served, the client is told to wait). Thread-safe.
 */
final class TokenBucket {
  private final double ratePerNano;
  private final double capacity;
  private double tokens;
  private long lastNanos;

  TokenBucket(long ratePerSec, long nowNanos) {
    this.ratePerNano = ratePerSec / 1e9;
    this.capacity = ratePerSec;
    this.tokens = capacity;
    this.lastNanos = nowNanos;
  }

  /** Takes {@code amount} and answers how many ms the user should wait before its next request (0: none). */
  synchronized long record(long amount, long nowNanos) {
    tokens = Math.min(capacity, tokens + (nowNanos - lastNanos) * ratePerNano);
    lastNanos = nowNanos;
    tokens -= amount;
    return throttleMsLocked();
  }

  /** The current wait without taking anything. */
  synchronized long throttleMs(long nowNanos) {
    tokens = Math.min(capacity, tokens + (nowNanos - lastNanos) * ratePerNano);
    lastNanos = nowNanos;
    return throttleMsLocked();
  }

  private long throttleMsLocked() {
    return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / ratePerNano / 1e6);
  }
}
