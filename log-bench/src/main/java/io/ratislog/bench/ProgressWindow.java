package io.ratislog.bench;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Windowed progress of a produce run in the format of Kafka's {@code ProducerPerformance} ("N records sent, X
 * records/sec (Y MB/sec), A ms avg latency, M ms max latency."), so that one parser reads both tools' output and
 * the rate a run sustains after its warm-up can be told from the rate of the whole run.
 *
 * <p>As in Kafka's tool, a window is closed by the first acknowledgement at least {@code intervalMs} after it
 * opened, and its rate is the records acknowledged in it over its own length. Not thread-safe: the caller
 * serialises {@link #record} (log-bench calls it under the latency histogram's lock).
 */
final class ProgressWindow {
  private final long intervalNanos;
  private final int recordBytes;
  private final PrintStream out;
  private long windowStart;
  private long count;
  private long latencySumUs;
  private long latencyMaxUs;

  ProgressWindow(long intervalMs, int recordBytes, PrintStream out, long startNanos) {
    this.intervalNanos = intervalMs * 1_000_000L;
    this.recordBytes = recordBytes;
    this.out = out;
    this.windowStart = startNanos;
  }

  /** One acknowledged record: its send-to-ack latency, and the time of the acknowledgement. */
  void record(long latencyUs, long nowNanos) {
    count++;
    latencySumUs += latencyUs;
    latencyMaxUs = Math.max(latencyMaxUs, latencyUs);
    if (intervalNanos > 0 && nowNanos - windowStart >= intervalNanos) {
      double secs = (nowNanos - windowStart) / 1e9;
      out.printf(Locale.ROOT, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.%n",
          count, count / secs, count * (double) recordBytes / secs / (1024 * 1024), latencySumUs / 1000.0 / count,
          latencyMaxUs / 1000.0);
      out.flush();
      windowStart = nowNanos;
      count = 0;
      latencySumUs = 0;
      latencyMaxUs = 0;
    }
  }
}
