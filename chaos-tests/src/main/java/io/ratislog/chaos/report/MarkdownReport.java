package io.ratislog.chaos.report;

import io.ratislog.chaos.checker.AnomalyKind;
import io.ratislog.chaos.checker.CheckResult;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@code report.md}: the run's parameters, operations by kind and outcome, faults with their
 * intervals and the unavailability after each, and anomalies by kind with examples.
 */
public final class MarkdownReport {
  private MarkdownReport() {}

  /**
   * Renders the report.
   *
   * @param title    the first heading
   * @param params   run parameters, shown in order
   * @param ops      the history
   * @param faults   the faults
   * @param result   the checker's result
   * @param timings  phase name to duration in ms, shown in order
   * @param partitions the topic's partition count
   * @return Markdown
   */
  public static String render(String title, Map<String, String> params, List<Op> ops, List<FaultInterval> faults,
      CheckResult result, Map<String, Long> timings, int partitions) {
    StringBuilder md = new StringBuilder();
    md.append("# ").append(title).append("\n\n");
    md.append("**Result: ").append(result.summary()).append("**\n\n");
    md.append("| parameter | value |\n|---|---|\n");
    params.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    if (!timings.isEmpty()) {
      md.append("\n| phase | seconds |\n|---|---:|\n");
      timings.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(String.format("%.1f", v / 1000.0))
          .append(" |\n"));
    }

    md.append("\n## Operations\n\n| kind | invoked | ok | fail | info | no completion |\n|---|---:|---:|---:|---:|---:|\n");
    Map<OpKind, long[]> byKind = new EnumMap<>(OpKind.class);
    for (Op op : ops) {
      long[] c = byKind.computeIfAbsent(op.kind(), k -> new long[4]);
      c[op.phase().ordinal()]++; // columns follow Phase: invoke, ok, fail, info
    }
    byKind.forEach((k, c) -> md.append("| ").append(k.label()).append(" | ").append(c[0]).append(" | ").append(c[1])
        .append(" | ").append(c[2]).append(" | ").append(c[3]).append(" | ").append(c[0] - c[1] - c[2] - c[3])
        .append(" |\n"));
    md.append("\nChecker counters: ").append(result.stats()).append("\n");

    md.append("\n## Faults\n\n| # | fault | nodes | start s | end s | duration s | unavailable s | slowest partition s | outcome | note |\n")
        .append("|---:|---|---|---:|---:|---:|---:|---:|---|---|\n");
    int i = 0;
    for (FaultInterval f : faults) {
      long unavailable = f.isFault() ? Availability.unavailableAfter(ops, f.startNs()) : -1;
      long slowest = f.isFault() ? Availability.slowestPartitionAfter(ops, f.startNs(), partitions) : -1;
      md.append("| ").append(i++).append(" | ").append(f.name()).append(" | ").append(f.nodes()).append(" | ")
          .append(sec(f.startNs())).append(" | ").append(f.endNs() < 0 ? "-" : sec(f.endNs())).append(" | ")
          .append(f.endNs() < 0 ? "-" : sec(f.endNs() - f.startNs())).append(" | ")
          .append(!f.isFault() ? "" : unavailable < 0 ? "never recovered" : sec(unavailable)).append(" | ")
          .append(!f.isFault() ? "" : slowest < 0 ? "not all recovered" : sec(slowest)).append(" | ")
          .append(f.outcome()).append(" | ").append(f.note().replace("|", "\\|")).append(" |\n");
    }
    md.append("\n*unavailable* = time from the fault's start to the first acknowledged send invoked after it; "
        + "*slowest partition* = the same per partition, the largest (every partition must have recovered).\n");

    md.append("\n## Anomalies\n\n| anomaly | count | counts in ").append(result.mode().label()).append(" |\n|---|---:|---|\n");
    for (AnomalyKind k : AnomalyKind.values()) {
      long n = result.count(k);
      md.append("| ").append(k.label()).append(" | ").append(n).append(" | ")
          .append(k.countsIn(result.mode()) ? "yes" : "no (allowed)").append(" |\n");
    }
    result.anomalies().forEach((k, found) -> {
      md.append("\n### ").append(k.label()).append(" (").append(found.count()).append(")\n\n");
      for (String ex : found.examples()) {
        md.append("- `").append(ex.replace("`", "'")).append("`\n");
      }
    });
    md.append("\n![timeline](timeline.png)\n");
    return md.toString();
  }

  private static String sec(long ns) {
    return String.format("%.2f", ns / 1e9);
  }
}
