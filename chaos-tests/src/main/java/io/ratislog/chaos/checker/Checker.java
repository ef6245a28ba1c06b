package io.ratislog.chaos.checker;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.history.Read;
import io.ratislog.chaos.workload.DeliveryMode;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks an append-workload history, and the consumer-group workload's events when there are any
 * ({@link GroupChecker}): a pure function of the events and the delivery mode. Records read by group
 * members count as reads for every value and position check (unexpected, aborted-read,
 * inconsistent-offsets, lost-write, duplicate) but not for the per-reader checks.
 *
 * <p>Sends are matched invocation to completion by id; a send without completion counts as
 * {@code info}. Only {@code ok} sends can be lost or unseen; an {@code info} send may show up once
 * or never (more than once is a {@code duplicate}); a {@code fail} send must never show up
 * ({@code aborted-read}). Reads are every record of every {@code poll} and {@code final-read}.
 * An offset "exists" when some read returned it or some send was acknowledged at it.
 */
public final class Checker {
  private final int maxExamples;
  private final Map<AnomalyKind, Long> counts = new EnumMap<>(AnomalyKind.class);
  private final Map<AnomalyKind, List<String>> examples = new EnumMap<>(AnomalyKind.class);

  private Checker(int maxExamples) {
    this.maxExamples = maxExamples;
  }

  /** A send, invocation and completion. */
  private static final class Send {
    final String process;
    final String value;
    Phase outcome = Phase.INFO;
    Integer partition;
    Long offset;
    Map<Integer, Long> priorAcked;

    Send(String process, String value) {
      this.process = process;
      this.value = value;
    }
  }

  /** A (partition, offset) position. */
  private record Pos(int partition, long offset) {}

  /**
   * Checks a history.
   *
   * @param ops         the events, in index order
   * @param mode        the delivery mode the producers were asked for
   * @param maxExamples examples kept per anomaly kind
   * @return the result
   */
  public static CheckResult check(List<Op> ops, DeliveryMode mode, int maxExamples) {
    return new Checker(maxExamples).run(ops, mode);
  }

  private CheckResult run(List<Op> ops, DeliveryMode mode) {
    Map<Long, Send> sendsById = new HashMap<>();
    Map<String, Send> sendsByValue = new HashMap<>();
    // per producer process: partition -> highest acked offset of its sends completed so far
    Map<String, Map<Integer, Long>> ackedSoFar = new HashMap<>();
    Map<String, Send> lastAckedSend = new HashMap<>();
    Map<Pos, Map<String, String>> valuesAt = new HashMap<>(); // pos -> value -> first reader
    Map<String, Set<Pos>> positionsOf = new LinkedHashMap<>();
    Map<Integer, Long> maxReadOffset = new HashMap<>();
    Map<Integer, BitSet> known = new HashMap<>();
    Set<String> finalValues = new HashSet<>();
    Set<Integer> finalComplete = new HashSet<>();
    Map<Long, Op> finalInvokes = new LinkedHashMap<>();
    boolean anyFinalRead = false;
    long readCount = 0;

    // Pass 1: sends, known offsets, reads.
    for (Op op : ops) {
      if (op.kind() == OpKind.SEND) {
        if (op.phase() == Phase.INVOKE) {
          Send s = new Send(op.process(), op.value());
          s.partition = op.partition();
          s.priorAcked = Map.copyOf(ackedSoFar.getOrDefault(op.process(), Map.of()));
          sendsById.put(op.id(), s);
          sendsByValue.putIfAbsent(op.value(), s);
        } else {
          Send s = sendsById.get(op.id());
          if (s == null) {
            continue; // a completion without invocation: ignore (cannot happen when recorded by History)
          }
          s.outcome = op.phase();
          if (op.phase() == Phase.OK) {
            s.partition = op.partition();
            s.offset = op.offset();
            known(known, s.partition).set(Math.toIntExact(s.offset));
            Map<Integer, Long> mine = ackedSoFar.computeIfAbsent(op.process(), k -> new HashMap<>());
            mine.merge(s.partition, s.offset, Math::max);
          }
        }
      } else if ((op.kind() == OpKind.POLL || op.kind() == OpKind.FINAL_READ || op.kind() == OpKind.GROUP_POLL)
          && op.phase().isCompletion() && op.reads() != null) {
        for (Read r : op.reads()) {
          readCount++;
          Pos pos = new Pos(r.partition(), r.offset());
          valuesAt.computeIfAbsent(pos, k -> new LinkedHashMap<>()).putIfAbsent(r.value(),
              op.process() + "#" + op.index());
          positionsOf.computeIfAbsent(r.value(), k -> new LinkedHashSet<>()).add(pos);
          maxReadOffset.merge(r.partition(), r.offset(), Math::max);
          known(known, r.partition()).set(Math.toIntExact(r.offset()));
          if (op.kind() == OpKind.FINAL_READ) {
            finalValues.add(r.value());
          }
        }
      }
      if (op.kind() == OpKind.HEALTH && op.phase() == Phase.FAIL) {
        report(AnomalyKind.NODE_DOWN, Map.of("nodes", String.valueOf(op.nodes()), "error", String.valueOf(op.error())));
      }
      if (op.kind() == OpKind.FINAL_READ) {
        anyFinalRead = true;
        if (op.phase() == Phase.INVOKE) {
          finalInvokes.put(op.id(), op);
        } else {
          finalInvokes.remove(op.id());
          if (op.phase() == Phase.OK) {
            finalComplete.add(op.partition());
          } else {
            report(AnomalyKind.INCOMPLETE_FINAL_READ, Map.of("partition", op.partition(),
                "error", String.valueOf(op.error())));
          }
        }
      }
    }
    for (Op unfinished : finalInvokes.values()) {
      report(AnomalyKind.INCOMPLETE_FINAL_READ, Map.of("partition", unfinished.partition(),
          "error", "no completion"));
    }

    // Values read: unexpected, aborted reads, duplicates.
    long duplicateCount = 0;
    for (Map.Entry<String, Set<Pos>> e : positionsOf.entrySet()) {
      Send s = sendsByValue.get(e.getKey());
      if (s == null) {
        report(AnomalyKind.UNEXPECTED, Map.of("value", e.getKey(), "positions", positions(e.getValue())));
      } else if (s.outcome == Phase.FAIL) {
        report(AnomalyKind.ABORTED_READ, Map.of("value", e.getKey(), "process", s.process,
            "positions", positions(e.getValue())));
      }
      if (e.getValue().size() > 1) {
        duplicateCount++;
        report(AnomalyKind.DUPLICATE, Map.of("value", e.getKey(), "positions", positions(e.getValue()),
            "send", s == null ? "none" : s.outcome.label()));
      }
    }
    // Positions read: inconsistent offsets.
    for (Map.Entry<Pos, Map<String, String>> e : sortedByPos(valuesAt)) {
      if (e.getValue().size() > 1) {
        report(AnomalyKind.INCONSISTENT_OFFSETS, Map.of("partition", e.getKey().partition(),
            "offset", e.getKey().offset(), "values", e.getValue()));
      }
    }

    // Acknowledged sends: offset mismatch, lost, unseen, nonmonotonic.
    Map<Pos, Send> ackedAt = new HashMap<>();
    long ok = 0;
    long fail = 0;
    long info = 0;
    for (Send s : sendsById.values()) {
      switch (s.outcome) {
        case OK -> ok++;
        case FAIL -> fail++;
        default -> info++;
      }
    }
    for (Op op : ops) { // history order, so examples come out in time order
      if (op.kind() != OpKind.SEND || op.phase() != Phase.OK) {
        continue;
      }
      Send s = sendsById.get(op.id());
      if (s == null) {
        continue;
      }
      Pos pos = new Pos(s.partition, s.offset);
      Send other = ackedAt.putIfAbsent(pos, s);
      if (other != null && !other.value.equals(s.value)) {
        report(AnomalyKind.ACK_OFFSET_MISMATCH, Map.of("partition", pos.partition(), "offset", pos.offset(),
            "acked", s.value, "also-acked", other.value));
      }
      Map<String, String> read = valuesAt.get(pos);
      if (read != null) {
        for (Map.Entry<String, String> r : read.entrySet()) {
          if (!r.getKey().equals(s.value)) {
            report(AnomalyKind.ACK_OFFSET_MISMATCH, Map.of("partition", pos.partition(), "offset", pos.offset(),
                "acked", s.value, "read", r.getKey(), "reader", r.getValue()));
          }
        }
      }
      boolean everRead = positionsOf.containsKey(s.value);
      Long maxRead = maxReadOffset.get(s.partition);
      if (!everRead && maxRead != null && maxRead > s.offset) {
        report(AnomalyKind.LOST_WRITE, Map.of("value", s.value, "partition", s.partition, "offset", s.offset,
            "max-read-offset", maxRead, "process", s.process));
      }
      if (anyFinalRead && finalComplete.contains(s.partition) && !finalValues.contains(s.value)) {
        report(AnomalyKind.UNSEEN, Map.of("value", s.value, "partition", s.partition, "offset", s.offset,
            "process", s.process));
      }
      Long prior = s.priorAcked.get(s.partition);
      if (prior != null && s.offset <= prior) {
        Send before = lastAckedSend.get(s.process + "/" + s.partition);
        report(AnomalyKind.NONMONOTONIC_SEND, Map.of("process", s.process, "partition", s.partition,
            "value", s.value, "offset", s.offset, "earlier-acked-offset", prior,
            "earlier-value", before == null ? "?" : before.value));
      }
      lastAckedSend.merge(s.process + "/" + s.partition, s, (a, b) -> b.offset > a.offset ? b : a);
    }

    checkReaders(ops, known);
    List<GroupChecker.Acked> acked = new ArrayList<>();
    for (Op op : ops) {
      Send s = op.kind() == OpKind.SEND && op.phase() == Phase.OK ? sendsById.get(op.id()) : null;
      if (s != null) {
        acked.add(new GroupChecker.Acked(s.value, s.partition, s.offset, s.process));
      }
    }
    Map<String, Long> groupStats = new GroupChecker(this::report).check(ops, known, acked);

    Map<String, Long> stats = new TreeMap<>();
    stats.put("sends", (long) sendsById.size());
    stats.put("sends-ok", ok);
    stats.put("sends-fail", fail);
    stats.put("sends-info", info);
    stats.put("records-read", readCount);
    stats.put("distinct-values-read", (long) positionsOf.size());
    stats.put("final-read-values", (long) finalValues.size());
    stats.put("duplicated-values", duplicateCount);
    stats.putAll(groupStats);
    Map<AnomalyKind, CheckResult.Found> found = new EnumMap<>(AnomalyKind.class);
    counts.forEach((k, n) -> found.put(k, new CheckResult.Found(n, List.copyOf(examples.get(k)))));
    return new CheckResult(mode, found, stats);
  }

  /** Nonmonotonic polls and skips, per reader (and per final read) and partition, reset by seeks. */
  private void checkReaders(List<Op> ops, Map<Integer, BitSet> known) {
    Map<String, Map<Integer, Long>> last = new HashMap<>();
    for (Op op : ops) {
      if (op.kind() == OpKind.SEEK && op.phase() == Phase.OK && op.positions() != null) {
        Map<Integer, Long> m = last.computeIfAbsent(op.process(), k -> new HashMap<>());
        op.positions().forEach((p, o) -> m.put(p, o - 1));
      } else if (op.kind() == OpKind.SEEK && op.phase() == Phase.INVOKE) {
        last.remove(op.process()); // position unknown until the seek completes
      } else if ((op.kind() == OpKind.POLL || op.kind() == OpKind.FINAL_READ) && op.phase().isCompletion()
          && op.reads() != null) {
        String reader = op.kind() == OpKind.FINAL_READ ? op.process() + "#" + op.id() : op.process();
        Map<Integer, Long> m = last.computeIfAbsent(reader, k -> new HashMap<>());
        if (op.kind() == OpKind.FINAL_READ && op.positions() != null) {
          op.positions().forEach((p, o) -> m.putIfAbsent(p, o - 1));
        }
        for (Read r : op.reads()) {
          Long prev = m.get(r.partition());
          if (prev != null) {
            if (r.offset() <= prev) {
              report(AnomalyKind.NONMONOTONIC_POLL, Map.of("reader", op.process(), "op", op.index(),
                  "partition", r.partition(), "offset", r.offset(), "previous-offset", prev));
            } else if (r.offset() > prev + 1) {
              BitSet b = known.get(r.partition());
              int firstSkipped = b == null ? -1 : b.nextSetBit(Math.toIntExact(prev + 1));
              if (firstSkipped >= 0 && firstSkipped < r.offset()) {
                report(AnomalyKind.POLL_SKIP, Map.of("reader", op.process(), "op", op.index(),
                    "partition", r.partition(), "from", prev, "to", r.offset(),
                    "skipped", b.get(Math.toIntExact(prev + 1), Math.toIntExact(r.offset())).cardinality()));
              }
            }
          }
          m.put(r.partition(), r.offset());
        }
        if (op.kind() == OpKind.FINAL_READ && op.phase() == Phase.OK && op.offset() != null
            && op.partition() != null) {
          // the final read must have reached the end offset it looked up, without gaps
          long reached = m.getOrDefault(op.partition(), -1L);
          BitSet b = known.get(op.partition());
          if (reached + 1 < op.offset() && b != null) {
            int missing = b.nextSetBit(Math.toIntExact(reached + 1));
            if (missing >= 0 && missing < op.offset()) {
              report(AnomalyKind.POLL_SKIP, Map.of("reader", op.process(), "op", op.index(),
                  "partition", op.partition(), "from", reached, "to", op.offset(), "note", "final read stopped short"));
            }
          }
        }
      }
    }
  }

  private void report(AnomalyKind kind, Map<String, ?> example) {
    counts.merge(kind, 1L, Long::sum);
    List<String> list = examples.computeIfAbsent(kind, k -> new ArrayList<>());
    if (list.size() < maxExamples) {
      list.add(History.toJson(new TreeMap<>(example)));
    }
  }

  private static BitSet known(Map<Integer, BitSet> known, int partition) {
    return known.computeIfAbsent(partition, k -> new BitSet());
  }

  private static List<String> positions(Set<Pos> ps) {
    return ps.stream().map(p -> p.partition() + "@" + p.offset()).toList();
  }

  private static List<Map.Entry<Pos, Map<String, String>>> sortedByPos(Map<Pos, Map<String, String>> m) {
    List<Map.Entry<Pos, Map<String, String>>> l = new ArrayList<>(m.entrySet());
    l.sort((a, b) -> a.getKey().partition() != b.getKey().partition()
        ? Integer.compare(a.getKey().partition(), b.getKey().partition())
        : Long.compare(a.getKey().offset(), b.getKey().offset()));
    return l;
  }
}
