package io.ratislog.chaos.checker;

import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.history.Read;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * The consumer-group part of the checker (workload c, at-least-once): three anomalies, per group.
 *
 * <ul>
 *   <li>{@link AnomalyKind#COMMITTED_OFFSET_WENT_BACK}: per (group, partition), the floor is the highest
 *       offset of every {@code ok} commit and every observed committed offset that <em>completed</em> so
 *       far; a commit or observation must not be below the floor as it was when it was <em>invoked</em>
 *       (operations that overlap are not ordered). An observed -1 (nothing committed) below a floor of 0
 *       or more counts too. A {@code reset} starts over: nothing invoked before it completed is compared.</li>
 *   <li>{@link AnomalyKind#GROUP_POLL_SKIP}: per (member, generation, partition), each record read must be
 *       at most {@code max(previous + 1, U)}, where previous is the member's last offset read in that
 *       generation (-1 at first) and U the highest offset the group may have committed when the member
 *       positioned itself: the highest offset of any commit (whatever its outcome) or reset invoked
 *       before the poll completed, 0 (the log start: runs have no retention) when none. Reading lower
 *       is a re-delivery, allowed at-least-once. Reading higher skips the offsets between; it is an
 *       anomaly when one of them exists (was acknowledged or read by anyone).</li>
 *   <li>{@link AnomalyKind#GROUP_LOST}: every acknowledged send was read by some member of the group by
 *       the end.</li>
 * </ul>
 * Nothing here depends on timing: a slow group shows up only as a group that did not finish, i.e. as
 * {@code group-lost} records, which the drain bounds generously after healing.
 */
final class GroupChecker {
  private final BiConsumer<AnomalyKind, Map<String, ?>> report;

  GroupChecker(BiConsumer<AnomalyKind, Map<String, ?>> report) {
    this.report = report;
  }

  /** An acknowledged send. */
  record Acked(String value, int partition, long offset, String process) {}

  private record GroupPartition(String group, int partition) {}

  private record Snapshot(Map<Integer, Long> floors, long epoch) {}

  /**
   * Checks the group operations of a history.
   *
   * @param ops   the events in index order
   * @param known per partition, the offsets that exist (acknowledged or read by anyone)
   * @param acked every acknowledged send, in completion order
   * @return counters for the report
   */
  Map<String, Long> check(List<Op> ops, Map<Integer, BitSet> known, List<Acked> acked) {
    Map<String, Long> stats = new TreeMap<>();
    Set<String> groups = new HashSet<>();
    for (Op op : ops) {
      if (op.group() != null && (op.kind() == OpKind.GROUP_POLL || op.kind() == OpKind.COMMIT)) {
        groups.add(op.group());
      }
    }
    if (groups.isEmpty()) {
      return stats;
    }
    checkCommitted(ops, stats);
    checkSkips(ops, known, stats);
    checkLost(ops, acked, groups, stats);
    return stats;
  }

  private void checkCommitted(List<Op> ops, Map<String, Long> stats) {
    Map<String, Map<Integer, Long>> floors = new HashMap<>();
    Map<String, Long> epochs = new HashMap<>();
    Map<Long, Snapshot> atInvoke = new HashMap<>();
    long commitsOk = 0;
    for (Op op : ops) {
      if (op.group() == null || !(op.kind() == OpKind.COMMIT || op.kind() == OpKind.COMMITTED
          || op.kind() == OpKind.RESET)) {
        continue;
      }
      Map<Integer, Long> floor = floors.computeIfAbsent(op.group(), k -> new HashMap<>());
      if (op.kind() == OpKind.RESET) {
        epochs.merge(op.group(), 1L, Long::sum); // nothing overlapping a reset is compared
        if (op.phase() == Phase.OK && op.positions() != null) {
          floor.putAll(op.positions());
        }
        continue;
      }
      long epoch = epochs.getOrDefault(op.group(), 0L);
      if (op.phase() == Phase.INVOKE) {
        atInvoke.put(op.id(), new Snapshot(Map.copyOf(floor), epoch));
        continue;
      }
      Snapshot before = atInvoke.remove(op.id());
      if (op.phase() != Phase.OK) {
        continue;
      }
      Map<Integer, Long> values = new TreeMap<>();
      if (op.kind() == OpKind.COMMIT && op.partition() != null && op.offset() != null) {
        values.put(op.partition(), op.offset());
        commitsOk++;
      } else if (op.kind() == OpKind.COMMITTED && op.positions() != null) {
        values.putAll(op.positions());
      }
      for (Map.Entry<Integer, Long> e : values.entrySet()) {
        Long was = before == null || before.epoch() != epoch ? null : before.floors().get(e.getKey());
        if (was != null && e.getValue() < was) {
          Map<String, Object> ex = new LinkedHashMap<>();
          ex.put("group", op.group());
          ex.put("partition", e.getKey());
          ex.put(op.kind() == OpKind.COMMIT ? "committed" : "observed", e.getValue());
          ex.put("earlier", was);
          ex.put("op", op.index());
          ex.put("process", op.process());
          if (op.member() != null) {
            ex.put("member", op.member());
          }
          report.accept(AnomalyKind.COMMITTED_OFFSET_WENT_BACK, ex);
        }
        floor.merge(e.getKey(), e.getValue(), Math::max);
      }
    }
    stats.put("group-commits-ok", commitsOk);
  }

  private void checkSkips(List<Op> ops, Map<Integer, BitSet> known, Map<String, Long> stats) {
    Map<GroupPartition, Long> mayBeCommitted = new HashMap<>();
    Map<String, Long> previous = new HashMap<>(); // member/generation/partition -> last offset read
    long groupReads = 0;
    for (Op op : ops) {
      if (op.group() == null) {
        continue;
      }
      if (op.kind() == OpKind.COMMIT && op.phase() == Phase.INVOKE && op.partition() != null && op.offset() != null) {
        mayBeCommitted.merge(new GroupPartition(op.group(), op.partition()), op.offset(), Math::max);
      } else if (op.kind() == OpKind.RESET && op.positions() != null) {
        op.positions().forEach((p, o) -> mayBeCommitted.merge(new GroupPartition(op.group(), p), o, Math::max));
      } else if (op.kind() == OpKind.GROUP_POLL && op.phase().isCompletion() && op.reads() != null) {
        for (Read r : op.reads()) {
          groupReads++;
          String owner = op.member() + "/" + op.generation() + "/" + r.partition();
          long prev = previous.getOrDefault(owner, -1L);
          long committedMax = mayBeCommitted.getOrDefault(new GroupPartition(op.group(), r.partition()), 0L);
          long allowed = Math.max(prev + 1, committedMax);
          if (r.offset() > allowed) {
            BitSet b = known.get(r.partition());
            int firstSkipped = b == null ? -1 : b.nextSetBit(Math.toIntExact(allowed));
            if (firstSkipped >= 0 && firstSkipped < r.offset()) {
              Map<String, Object> ex = new LinkedHashMap<>();
              ex.put("group", op.group());
              ex.put("member", String.valueOf(op.member()));
              ex.put("generation", String.valueOf(op.generation()));
              ex.put("partition", r.partition());
              ex.put("read", r.offset());
              ex.put("previous", prev);
              ex.put("max-commit-invoked", committedMax);
              ex.put("skipped", b.get(Math.toIntExact(allowed), Math.toIntExact(r.offset())).cardinality());
              ex.put("op", op.index());
              report.accept(AnomalyKind.GROUP_POLL_SKIP, ex);
            }
          }
          previous.put(owner, r.offset());
        }
      }
    }
    stats.put("group-records-read", groupReads);
  }

  private void checkLost(List<Op> ops, List<Acked> acked, Set<String> groups, Map<String, Long> stats) {
    Map<String, Set<String>> consumed = new HashMap<>();
    Map<String, Map<Integer, Long>> lastObserved = new HashMap<>();
    for (Op op : ops) {
      if (op.group() == null || !op.phase().isCompletion()) {
        continue;
      }
      if (op.kind() == OpKind.GROUP_POLL && op.reads() != null) {
        Set<String> s = consumed.computeIfAbsent(op.group(), k -> new HashSet<>());
        op.reads().forEach(r -> s.add(r.value()));
      } else if (op.kind() == OpKind.COMMITTED && op.phase() == Phase.OK && op.positions() != null) {
        lastObserved.put(op.group(), op.positions());
      }
    }
    for (String g : groups) {
      Set<String> s = consumed.getOrDefault(g, Set.of());
      List<Acked> lost = new ArrayList<>();
      for (Acked a : acked) {
        if (!s.contains(a.value())) {
          lost.add(a);
        }
      }
      stats.put("group-values-consumed", (long) s.size());
      for (Acked a : lost) {
        Map<String, Object> ex = new LinkedHashMap<>();
        ex.put("group", g);
        ex.put("value", a.value());
        ex.put("partition", a.partition());
        ex.put("offset", a.offset());
        ex.put("process", a.process());
        Long committed = lastObserved.getOrDefault(g, Map.of()).get(a.partition());
        ex.put("last-observed-committed", committed == null ? "unknown" : committed);
        report.accept(AnomalyKind.GROUP_LOST, ex);
      }
    }
  }
}
