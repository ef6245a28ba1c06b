package io.ratislog.chaos.workload;

import java.util.Locale;

/**
 * The producer guarantee a run asks for; the checker decides with it which anomalies count.
 * {@link #AT_LEAST_ONCE}: a retried batch may be written twice; {@link #EXACTLY_ONCE}: the producer runs an
 * idempotent session, so a value may appear at most once.
 */
public enum DeliveryMode {
  /** Duplicates are allowed, losses are not. */
  AT_LEAST_ONCE,
  /** Neither duplicates nor losses. */
  EXACTLY_ONCE;

  /**
   * Parses {@code at-least-once} or {@code exactly-once} (any case, - or _).
   *
   * @param s the name
   * @return the mode
   */
  public static DeliveryMode parse(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  /**
   * The name used on the command line and in reports.
   *
   * @return e.g. {@code at-least-once}
   */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
