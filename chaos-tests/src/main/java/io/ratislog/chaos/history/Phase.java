package io.ratislog.chaos.history;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Where an operation is in its life (Jepsen's {@code :type}): invoked, or completed as ok, fail or
 * info. {@code fail} means the operation certainly had no effect; {@code info} means its outcome is
 * unknown (it may or may not have taken effect, e.g. a produce timeout).
 */
public enum Phase {
  /** The operation started. */
  INVOKE("invoke"),
  /** It completed and took effect. */
  OK("ok"),
  /** It certainly did not take effect. */
  FAIL("fail"),
  /** Its outcome is unknown. */
  INFO("info");

  private final String label;

  Phase(String label) {
    this.label = label;
  }

  /**
   * The name used in histories.
   *
   * @return e.g. {@code ok}
   */
  @JsonValue
  public String label() {
    return label;
  }

  /**
   * Whether this is a completion (anything but {@link #INVOKE}).
   *
   * @return true for ok, fail and info
   */
  public boolean isCompletion() {
    return this != INVOKE;
  }

  /**
   * Parses a label.
   *
   * @param label e.g. {@code info}
   * @return the phase
   */
  @JsonCreator
  public static Phase of(String label) {
    for (Phase p : values()) {
      if (p.label.equals(label)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown phase " + label);
  }
}
