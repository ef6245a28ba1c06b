package io.ratislog.chaos.history;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What an operation does (Jepsen's {@code :f}). */
public enum OpKind {
  /** A producer's send of one value. */
  SEND("send"),
  /** One {@code Consumer.poll} of a reader; its completion carries every record returned. */
  POLL("poll"),
  /** A reader (re)positioning itself; its completion carries the resolved offset per partition. */
  SEEK("seek"),
  /** The read of a whole partition after every fault was healed. */
  FINAL_READ("final-read"),
  /**
   * One {@code GroupConsumer.poll} of a consumer-group member; its completion carries the member id, the
   * generation and every record returned.
   */
  GROUP_POLL("group-poll"),
  /** A group member's commit of one partition's next offset ({@code offset}), per partition. */
  COMMIT("commit"),
  /** An observation of a group's committed offsets ({@code positions}: partition to committed offset, -1 none). */
  COMMITTED("committed"),
  /** An administrative reset of a group's committed offsets ({@code positions}); they may go back only here. */
  RESET("reset"),
  /** A group member abandoned without leaving the group (a crashed consumer process); instantaneous. */
  CRASH("crash"),
  /**
   * The harness' check, after the final heal, that a node is running again ({@code nodes}: the node;
   * {@code fail} with the reason when it is not, e.g. it could not start on its own data).
   */
  HEALTH("health"),
  /** A fault: invoked when it starts, completed when it has been healed. */
  NEMESIS("nemesis");

  private final String label;

  OpKind(String label) {
    this.label = label;
  }

  /**
   * The name used in histories.
   *
   * @return e.g. {@code final-read}
   */
  @JsonValue
  public String label() {
    return label;
  }

  /**
   * Parses a label.
   *
   * @param label e.g. {@code send}
   * @return the kind
   */
  @JsonCreator
  public static OpKind of(String label) {
    for (OpKind k : values()) {
      if (k.label.equals(label)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown op kind " + label);
  }
}
