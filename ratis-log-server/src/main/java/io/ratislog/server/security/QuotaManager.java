package io.ratislog.server.security;

import io.ratislog.server.config.SecurityConfig;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-principal produce-byte, fetch-byte and request rates of one node (each node enforces its own share, like
 * Kafka's per-broker quotas). Nothing is refused: each answer carries the time the client should wait before its
 * next request to this node, at most {@link #MAX_THROTTLE_MS}.
 */
public final class QuotaManager {
  public static final long MAX_THROTTLE_MS = 30_000;

  private final SecurityConfig config;
  private final Map<String, Buckets> byPrincipal = new ConcurrentHashMap<>();

  private record Buckets(TokenBucket produce, TokenBucket fetch, TokenBucket requests) {
  }

  public QuotaManager(SecurityConfig config) {
    this.config = config;
  }

  private Buckets buckets(String principal) {
    return byPrincipal.computeIfAbsent(principal, p -> {
      SecurityConfig.Quota q = config.quota(p);
      long now = System.nanoTime();
      return new Buckets(q.produceBytesPerSec() > 0 ? new TokenBucket(q.produceBytesPerSec(), now) : null,
          q.fetchBytesPerSec() > 0 ? new TokenBucket(q.fetchBytesPerSec(), now) : null,
          q.requestsPerSec() > 0 ? new TokenBucket(q.requestsPerSec(), now) : null);
    });
  }

  /** Records one request; answers the request-rate throttle. */
  public long recordRequest(String principal) {
    return record(buckets(principal).requests(), 1);
  }

  /** Records produced bytes; answers the produce throttle (request rate included). */
  public long recordProduce(String principal, long bytes) {
    Buckets b = buckets(principal);
    return Math.max(record(b.produce(), bytes), current(b.requests()));
  }

  /** Records fetched bytes; answers the fetch throttle (request rate included). */
  public long recordFetch(String principal, long bytes) {
    Buckets b = buckets(principal);
    return Math.max(record(b.fetch(), bytes), current(b.requests()));
  }

  private static long record(TokenBucket b, long amount) {
    return b == null ? 0 : Math.min(MAX_THROTTLE_MS, b.record(amount, System.nanoTime()));
  }

  private static long current(TokenBucket b) {
    return b == null ? 0 : Math.min(MAX_THROTTLE_MS, b.throttleMs(System.nanoTime()));
  }
}
