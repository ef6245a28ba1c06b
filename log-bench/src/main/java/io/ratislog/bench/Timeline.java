package io.ratislog.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * A run's timeline in fixed windows since its start: acknowledged records and their send-to-ack latency per
 * window, failed sends, and named events (a kill, a restart). Thread-safe; times are {@link System#nanoTime()}.
 */
final class Timeline {
  /** One window of the timeline. */
  record Window(double startS, double ackedPerS, double p50Ms, double p99Ms, double maxMs, long failed,
      String events) {}

  /** A named instant. */
  record Event(double atS, String name) {}

  private final long startNs;
  private final long windowNs;
  private final TreeMap<Long, Histogram> acks = new TreeMap<>();
  private final TreeMap<Long, Long> failures = new TreeMap<>();
  private final List<Event> events = new ArrayList<>();

  Timeline(long startNs, long windowMs) {
    if (windowMs <= 0) {
      throw new IllegalArgumentException("window must be > 0 ms");
    }
    this.startNs = startNs;
    this.windowNs = windowMs * 1_000_000L;
  }

  long startNs() {
    return startNs;
  }

  double seconds(long nanoTime) {
    return (nanoTime - startNs) / 1e9;
  }

  private long window(long nanoTime) {
    return Math.max(0, (nanoTime - startNs) / windowNs);
  }

  /** An acknowledgement at {@code ackNs} of a record sent at {@code sendNs}. */
  synchronized void ack(long sendNs, long ackNs) {
    Histogram h = acks.computeIfAbsent(window(ackNs), w -> new Histogram(3_600_000_000L, 2));
    h.recordValue(Math.min(Math.max(0, (ackNs - sendNs) / 1000), h.getHighestTrackableValue()));
  }

  /** A send that failed at {@code nanoTime}. */
  synchronized void failure(long nanoTime) {
    failures.merge(window(nanoTime), 1L, Long::sum);
  }

  synchronized void event(long nanoTime, String name) {
    events.add(new Event(seconds(nanoTime), name));
  }

  synchronized List<Event> events() {
    return List.copyOf(events);
  }

  /** Every window from the start to the last one holding anything, empty windows included. */
  synchronized List<Window> windows() {
    long last = -1;
    if (!acks.isEmpty()) {
      last = acks.lastKey();
    }
    if (!failures.isEmpty()) {
      last = Math.max(last, failures.lastKey());
    }
    for (Event e : events) {
      last = Math.max(last, (long) (e.atS() * 1e9) / windowNs);
    }
    double windowS = windowNs / 1e9;
    List<Window> out = new ArrayList<>();
    for (long w = 0; w <= last; w++) {
      Histogram h = acks.get(w);
      StringBuilder ev = new StringBuilder();
      for (Event e : events) {
        if ((long) (e.atS() * 1e9) / windowNs == w) {
          ev.append(ev.length() == 0 ? "" : ";").append(e.name());
        }
      }
      if (h == null) {
        out.add(new Window(w * windowS, 0, Double.NaN, Double.NaN, Double.NaN, failures.getOrDefault(w, 0L),
            ev.toString()));
      } else {
        out.add(new Window(w * windowS, h.getTotalCount() / windowS, h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0, failures.getOrDefault(w, 0L),
            ev.toString()));
      }
    }
    return out;
  }

  /** Writes {@code t_s,acked_per_s,p50_ms,p99_ms,max_ms,failed,events}; latency cells are empty for windows without acks. */
  void writeCsv(Path file) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      w.println("t_s,acked_per_s,p50_ms,p99_ms,max_ms,failed,events");
      for (Window x : windows()) {
        w.printf(Locale.ROOT, "%.3f,%.0f,%s,%s,%s,%d,%s%n", x.startS(), x.ackedPerS(), ms(x.p50Ms()), ms(x.p99Ms()),
            ms(x.maxMs()), x.failed(), x.events());
      }
    }
  }

  private static String ms(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
  }
}
