package io.ratislog.chaos.history;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A thread-safe, append-only record of a run's events, timed in nanoseconds since the run started.
 * Events are ordered by the moment they were recorded (index), which is also time order. Stored as
 * JSON lines, one {@link Op} per line.
 */
public final class History {
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final long startNanos;
  private final AtomicLong ids = new AtomicLong();
  private final List<Op> ops = new ArrayList<>();

  /** An empty history whose clock starts now. */
  public History() {
    this(System.nanoTime());
  }

  private History(long startNanos) {
    this.startNanos = startNanos;
  }

  /**
   * A fresh operation id.
   *
   * @return the id, unique within this history
   */
  public long nextId() {
    return ids.incrementAndGet();
  }

  /**
   * Nanoseconds since the run started.
   *
   * @return the run clock
   */
  public long now() {
    return System.nanoTime() - startNanos;
  }

  /**
   * Records an event, stamping its index and time (a preset time, for hand-made histories, is kept).
   *
   * @param op the event
   * @return the recorded event
   */
  public synchronized Op add(Op op) {
    Op stamped = op.at(ops.size(), op.timeNs() >= 0 ? op.timeNs() : now());
    ops.add(stamped);
    return stamped;
  }

  /**
   * Records an event built by {@code b}.
   *
   * @param b the builder
   * @return the recorded event
   */
  public Op add(Op.Builder b) {
    return add(b.build());
  }

  /**
   * A snapshot of the events so far.
   *
   * @return the events in index order
   */
  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  /**
   * Writes the history as JSON lines.
   *
   * @param ops  the events
   * @param file the file
   */
  public static void write(List<Op> ops, Path file) {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Op op : ops) {
        w.write(JSON.writeValueAsString(op));
        w.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a history written by {@link #write}.
   *
   * @param file the file
   * @return the events
   */
  public static List<Op> read(Path file) {
    List<Op> out = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        if (!line.isBlank()) {
          out.add(JSON.readValue(line, Op.class));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /**
   * One event as a JSON string (used for anomaly examples).
   *
   * @param value anything Jackson can write
   * @return the JSON
   */
  public static String toJson(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
