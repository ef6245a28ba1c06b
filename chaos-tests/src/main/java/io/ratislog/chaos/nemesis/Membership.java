package io.ratislog.chaos.nemesis;

import io.ratislog.client.Admin;
import io.ratislog.client.RatislogException;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.ErrorCode;
import java.time.Duration;
import java.util.List;

/** Reassignment helpers shared by the membership nemeses: start a move and wait until it is done. */
final class Membership {
  /** How long one move may take before the fault is reported as failed. */
  static final Duration MOVE_TIMEOUT = Duration.ofSeconds(120);

  private Membership() {}

  /**
   * Moves a partition to {@code replicas} and waits until its placement is exactly that.
   *
   * @throws IllegalStateException when it is not done in time
   */
  static void move(Admin admin, String topic, int partition, List<Integer> replicas) {
    long deadline = System.nanoTime() + MOVE_TIMEOUT.toNanos();
    RuntimeException last = null;
    boolean started = false;
    while (System.nanoTime() - deadline < 0) {
      try {
        if (!started) {
          admin.reassignPartition(topic, partition, replicas);
          started = true;
        }
        DescribeReassignmentResponse r = admin.describeReassignment(topic, partition);
        if (r.getTargetReplicasCount() == 0 && r.getReplicasList().equals(replicas)) {
          return;
        }
      } catch (RatislogException e) {
        if (e.code() == ErrorCode.REASSIGNMENT_IN_PROGRESS || e.code() == ErrorCode.UNKNOWN_NODE) {
          throw e; // not ours to wait for / a mistake
        }
        last = e;
      }
      sleep(300);
    }
    throw new IllegalStateException(topic + "-" + partition + " not moved to " + replicas + " within " + MOVE_TIMEOUT
        + (last == null ? "" : ": " + last.getMessage()));
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
