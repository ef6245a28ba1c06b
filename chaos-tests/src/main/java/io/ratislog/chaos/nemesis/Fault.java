package io.ratislog.chaos.nemesis;

import java.util.List;

/**
 * A planned fault with its targets chosen: {@link #inject()} starts it, {@link #heal()} undoes it.
 * The scheduler records the interval between the two in the history.
 */
public interface Fault {
  /**
   * The fault's name in the history and the report, e.g. {@code kill-leader}.
   *
   * @return the name
   */
  String name();

  /**
   * The nodes it hits.
   *
   * @return node ids
   */
  List<Integer> nodes();

  /**
   * How the targets were chosen, e.g. {@code leader of chaos-2}; may be empty.
   *
   * @return a note for the report
   */
  String note();

  /**
   * What the injection actually did, when it decides more than {@link #note()} says (e.g. which bytes of
   * which files a disk fault damaged); recorded with the fault's completion.
   *
   * @return a note, or empty
   */
  default String result() {
    return "";
  }

  /** Starts the fault. */
  void inject();

  /** Ends the fault (restart, resume, ...). */
  void heal();
}
