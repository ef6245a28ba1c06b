package io.ratislog.chaos.checker;

import io.ratislog.chaos.workload.DeliveryMode;

/**
 * The anomalies the checker looks for, named as in Jepsen's Kafka workload where one exists.
 */
public enum AnomalyKind {
  /** An acknowledged send at offset o of p, some read saw an offset above o in p, yet its value was never read. */
  LOST_WRITE("lost-write", true),
  /** An acknowledged send whose value the final read (after healing) did not return. */
  UNSEEN("unseen", true),
  /** One value at two or more (partition, offset) positions: allowed at-least-once, an anomaly exactly-once. */
  DUPLICATE("duplicate", false),
  /** Two different values read at one (partition, offset), by different readers or over time. */
  INCONSISTENT_OFFSETS("inconsistent-offsets", true),
  /** An acknowledged (partition, offset) read (or acknowledged again) with another value. */
  ACK_OFFSET_MISMATCH("ack-offset-mismatch", true),
  /** A producer's acknowledged offsets on one partition went backwards across its sequential sends. */
  NONMONOTONIC_SEND("nonmonotonic-send", true),
  /** A reader's offsets on one partition went backwards (or repeated) without a seek. */
  NONMONOTONIC_POLL("nonmonotonic-poll", true),
  /** A reader jumped over offsets that exist (were read or acknowledged by someone). */
  POLL_SKIP("poll-skip", true),
  /** A value read that no producer ever sent. */
  UNEXPECTED("unexpected", true),
  /** A value read whose send the client had reported as definitely failed (Jepsen: aborted read, G1a). */
  ABORTED_READ("aborted-read", true),
  /**
   * A consumer group's committed offset of a partition went back: a successful commit or an observed
   * committed offset below one committed or observed before it (completed before it was invoked), with no
   * administrative reset in between.
   */
  COMMITTED_OFFSET_WENT_BACK("committed-offset-went-back", true),
  /**
   * A group member's read jumped over existing offsets: it started (after a rebalance) above every offset
   * the group may have committed, or jumped forward within its ownership of the partition.
   */
  GROUP_POLL_SKIP("group-poll-skip", true),
  /** An acknowledged send the consumer group never consumed by the end of the run (at-least-once). */
  GROUP_LOST("group-lost", true),
  /** A node not running after the final heal: it could not restart (e.g. on its own damaged data) or died. */
  NODE_DOWN("node-down", true),
  /** The final read of a partition did not complete after healing: the cluster stayed unavailable. */
  INCOMPLETE_FINAL_READ("incomplete-final-read", true);

  private final String label;
  private final boolean alwaysCounts;

  AnomalyKind(String label, boolean alwaysCounts) {
    this.label = label;
    this.alwaysCounts = alwaysCounts;
  }

  /**
   * The anomaly's name in reports.
   *
   * @return e.g. {@code lost-write}
   */
  public String label() {
    return label;
  }

  /**
   * Whether this anomaly makes a run invalid under a delivery mode.
   *
   * @param mode the mode asked of the producers
   * @return false only for {@link #DUPLICATE} under at-least-once
   */
  public boolean countsIn(DeliveryMode mode) {
    return alwaysCounts || mode == DeliveryMode.EXACTLY_ONCE;
  }
}
