package io.ratislog.chaos.checker;

import io.ratislog.chaos.workload.DeliveryMode;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What the checker found.
 *
 * @param mode      the delivery mode the history was checked against
 * @param anomalies per kind found, the count and up to N examples (JSON); kinds not found are absent
 * @param stats     counters: sends ok/fail/info, values read, positions read, ...
 */
public record CheckResult(DeliveryMode mode, Map<AnomalyKind, Found> anomalies, Map<String, Long> stats) {

  /**
   * Anomalies of one kind.
   *
   * @param count    how many
   * @param examples up to N of them, as JSON
   */
  public record Found(long count, List<String> examples) {}

  /**
   * Copies.
   *
   * @param mode      mode
   * @param anomalies anomalies
   * @param stats     stats
   */
  public CheckResult {
    anomalies = anomalies.isEmpty() ? Map.of() : new EnumMap<>(anomalies);
    stats = Map.copyOf(stats);
  }

  /**
   * The count of one kind.
   *
   * @param kind the kind
   * @return its count, 0 when absent
   */
  public long count(AnomalyKind kind) {
    Found f = anomalies.get(kind);
    return f == null ? 0 : f.count();
  }

  /**
   * The anomalies that make the run invalid under its mode.
   *
   * @return kind to count
   */
  public Map<AnomalyKind, Long> counting() {
    return anomalies.entrySet().stream().filter(e -> e.getKey().countsIn(mode))
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().count(), (a, b) -> a,
            () -> new EnumMap<>(AnomalyKind.class)));
  }

  /**
   * Whether no anomaly that counts under the mode was found.
   *
   * @return true when valid
   */
  public boolean valid() {
    return counting().isEmpty();
  }

  /**
   * A one-line summary.
   *
   * @return e.g. {@code valid (at-least-once); allowed: duplicate=3}
   */
  public String summary() {
    StringBuilder sb = new StringBuilder(valid() ? "valid" : "INVALID").append(" (").append(mode.label()).append(')');
    anomalies.forEach((k, f) -> sb.append(k.countsIn(mode) ? "; " : "; allowed: ").append(k.label())
        .append('=').append(f.count()));
    return sb.toString();
  }
}
