package io.ratislog.chaos.report;

import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One fault as the history recorded it.
 *
 * @param name    e.g. {@code kill-leader}
 * @param nodes   its targets
 * @param note    how they were chosen, or an error
 * @param startNs when it was injected (ns since the run started)
 * @param endNs   when it was healed, or -1 if never
 * @param outcome ok, or info when an action failed
 */
public record FaultInterval(String name, List<Integer> nodes, String note, long startNs, long endNs, String outcome) {

  /**
   * Extracts the faults of a history, in start order.
   *
   * @param ops the history
   * @return the faults
   */
  public static List<FaultInterval> of(List<Op> ops) {
    Map<Long, Op> open = new HashMap<>();
    List<Op> starts = new ArrayList<>();
    Map<Long, Op> ends = new HashMap<>();
    for (Op op : ops) {
      if (op.kind() != OpKind.NEMESIS) {
        continue;
      }
      if (op.phase() == Phase.INVOKE) {
        open.put(op.id(), op);
        starts.add(op);
      } else {
        ends.put(op.id(), op);
      }
    }
    List<FaultInterval> out = new ArrayList<>();
    for (Op s : starts) {
      Op e = ends.get(s.id());
      String note = e == null || e.error() == null ? s.error()
          : e.phase() != Phase.OK || s.error() == null ? e.error() : s.error() + ": " + e.error();
      out.add(new FaultInterval(s.value(), s.nodes() == null ? List.of() : s.nodes(), note == null ? "" : note,
          s.timeNs(), e == null ? -1 : e.timeNs(), e == null ? "open" : e.phase().label()));
    }
    return out;
  }

  /**
   * Whether this is a real fault (not the final heal-all).
   *
   * @return false for {@code heal-all}
   */
  public boolean isFault() {
    return !"heal-all".equals(name);
  }
}
