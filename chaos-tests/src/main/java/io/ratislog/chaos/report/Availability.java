package io.ratislog.chaos.report;

import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Availability measures derived from a history. */
public final class Availability {
  private Availability() {}

  /**
   * The unavailability window after a fault: from the fault's start to the first {@code ok}
   * completion of a send invoked at or after that start (sends already in flight do not count).
   *
   * @param ops     the history
   * @param startNs the fault's start
   * @return the window in ns, or -1 when no later send succeeded
   */
  public static long unavailableAfter(List<Op> ops, long startNs) {
    Map<Long, Long> invokedAt = new HashMap<>();
    for (Op op : ops) {
      if (op.kind() != OpKind.SEND) {
        continue;
      }
      if (op.phase() == Phase.INVOKE) {
        invokedAt.put(op.id(), op.timeNs());
      } else if (op.phase() == Phase.OK && op.timeNs() >= startNs) {
        Long inv = invokedAt.get(op.id());
        if (inv != null && inv >= startNs) {
          return op.timeNs() - startNs;
        }
      }
    }
    return -1;
  }

  /**
   * The slowest partition to recover after a fault: per partition, the time from the fault's start
   * to the first {@code ok} completion of a send to it invoked at or after the start; the maximum.
   *
   * @param ops        the history
   * @param startNs    the fault's start
   * @param partitions partitions to consider (0..partitions-1)
   * @return the window in ns, or -1 when some partition never recovered
   */
  public static long slowestPartitionAfter(List<Op> ops, long startNs, int partitions) {
    Map<Long, Long> invokedAt = new HashMap<>();
    Map<Integer, Long> firstOk = new HashMap<>();
    for (Op op : ops) {
      if (op.kind() != OpKind.SEND) {
        continue;
      }
      if (op.phase() == Phase.INVOKE) {
        invokedAt.put(op.id(), op.timeNs());
      } else if (op.phase() == Phase.OK && op.partition() != null) {
        Long inv = invokedAt.get(op.id());
        if (inv != null && inv >= startNs) {
          firstOk.putIfAbsent(op.partition(), op.timeNs() - startNs);
          if (firstOk.size() == partitions) {
            break;
          }
        }
      }
    }
    if (firstOk.size() < partitions) {
      return -1;
    }
    return firstOk.values().stream().mapToLong(Long::longValue).max().orElse(-1);
  }
}
