package io.ratislog.chaos.txn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a transactional read-process-write run. Every output record is {@code <input value>|<txn tag>}: the
 * input it was made from and the transaction that wrote it. Given what the processors reported of each
 * transaction and what the output topic holds read_committed and read_uncommitted, it names each anomaly:
 * <ul>
 *   <li><b>partial-transaction</b>: a transaction of which some but not all written records are visible
 *       read_committed (atomicity);</li>
 *   <li><b>aborted-read</b> (G1a): a record of a transaction known to have aborted is visible read_committed;</li>
 *   <li><b>committed-invisible</b>: a transaction whose commit was acknowledged is not (wholly) visible;</li>
 *   <li><b>duplicate</b>: an input appears more than once in the read_committed output (exactly-once broken);</li>
 *   <li><b>lost</b>: an input never appears in the read_committed output although processing drained the input;</li>
 *   <li><b>unexpected</b>: an output record whose input was never produced.</li>
 * </ul>
 * Transactions whose outcome the processor could not know (the commit call failed, or the processor crashed) may
 * be wholly visible or wholly invisible.
 */
public final class TxnChecker {
  /** What a processor knows of one of its transactions. */
  public enum Outcome { COMMITTED, ABORTED, UNKNOWN }

  /** Anomalies by name, with up to 5 examples each. */
  public record Result(Map<String, Long> counts, Map<String, List<String>> examples, Map<String, Long> stats) {
    public boolean valid() {
      return counts.isEmpty();
    }
  }

  private final Map<String, Long> counts = new TreeMap<>();
  private final Map<String, List<String>> examples = new TreeMap<>();

  /**
   * @param inputs         every input value produced and acknowledged (must each be in the output once)
   * @param maybeInputs    input values whose send had an unknown outcome (may be in the output, at most once)
   * @param outcomes       per transaction tag, what its processor knows
   * @param readCommitted  the output topic read_committed
   * @param everything     the output topic read_uncommitted (aborted and open transactions' records included)
   * @return the anomalies
   */
  public static Result check(Set<String> inputs, Set<String> maybeInputs, Map<String, Outcome> outcomes,
                             List<String> readCommitted, List<String> everything) {
    return new TxnChecker().run(inputs, maybeInputs, outcomes, readCommitted, everything);
  }

  private Result run(Set<String> inputs, Set<String> maybeInputs, Map<String, Outcome> outcomes,
                     List<String> readCommitted, List<String> everything) {
    Map<String, Integer> written = countByTag(everything);
    Map<String, Integer> visible = countByTag(readCommitted);
    for (Map.Entry<String, Integer> e : visible.entrySet()) {
      String tag = e.getKey();
      int all = written.getOrDefault(tag, 0);
      if (e.getValue() != all) {
        add("partial-transaction", tag + ": " + e.getValue() + " of " + all + " records visible");
      }
      if (outcomes.get(tag) == Outcome.ABORTED) {
        add("aborted-read", tag + ": " + e.getValue() + " records of an aborted transaction visible");
      }
    }
    outcomes.forEach((tag, outcome) -> {
      int seen = visible.getOrDefault(tag, 0);
      int all = written.getOrDefault(tag, -1);
      if (outcome == Outcome.COMMITTED && seen != all) {
        add("committed-invisible", tag + ": committed, " + visible.getOrDefault(tag, 0) + " of "
            + written.getOrDefault(tag, 0) + " records visible");
      }
    });
    Map<String, Integer> perInput = new HashMap<>();
    for (String r : readCommitted) {
      String input = inputOf(r);
      perInput.merge(input, 1, Integer::sum);
      if (!inputs.contains(input) && !maybeInputs.contains(input)) {
        add("unexpected", r);
      }
    }
    perInput.forEach((input, n) -> {
      if (n > 1) {
        add("duplicate", input + " in the output " + n + " times");
      }
    });
    for (String input : inputs) {
      if (!perInput.containsKey(input)) {
        add("lost", input);
      }
    }
    Map<String, Long> stats = new TreeMap<>();
    stats.put("inputs", (long) inputs.size());
    stats.put("inputs-unknown-outcome", (long) maybeInputs.size());
    stats.put("output-read-committed", (long) readCommitted.size());
    stats.put("output-in-log", (long) everything.size());
    stats.put("transactions-committed", outcomes.values().stream().filter(o -> o == Outcome.COMMITTED).count());
    stats.put("transactions-aborted", outcomes.values().stream().filter(o -> o == Outcome.ABORTED).count());
    stats.put("transactions-unknown", outcomes.values().stream().filter(o -> o == Outcome.UNKNOWN).count());
    return new Result(counts, examples, stats);
  }

  /** The output value of {@code input} written by transaction {@code tag}. */
  public static String output(String input, String tag) {
    return input + "|" + tag;
  }

  static String inputOf(String output) {
    int bar = output.lastIndexOf('|');
    return bar < 0 ? output : output.substring(0, bar);
  }

  static String tagOf(String output) {
    int bar = output.lastIndexOf('|');
    return bar < 0 ? "" : output.substring(bar + 1);
  }

  private static Map<String, Integer> countByTag(List<String> outputs) {
    Map<String, Integer> m = new HashMap<>();
    for (String o : outputs) {
      m.merge(tagOf(o), 1, Integer::sum);
    }
    return m;
  }

  private void add(String kind, String example) {
    counts.merge(kind, 1L, Long::sum);
    List<String> ex = examples.computeIfAbsent(kind, k -> new ArrayList<>());
    if (ex.size() < 5) {
      ex.add(example);
    }
  }
}
