package io.ratislog.chaos;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.checker.AnomalyKind;
import io.ratislog.chaos.workload.DeliveryMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short CI profile of the chaos suite: a 3-node {@code ProcessCluster}, the append workload with
 * exactly-once producers and, on the same topic, the consumer-group workload (at-least-once members
 * committing offsets, one abandoned without leaving every 6-12 s), kill-leader, pause and kill faults for
 * about 75 s while every 40th Produce answer is lost after the write, heal, final read, group drain. Fails on
 * any anomaly, duplicates included. The report goes
 * to {@code chaos-tests/target/chaos-results/<timestamp>/}. {@link ChaosRun} stops every process it
 * started, also when the run fails.
 */
class ChaosSmokeIT {

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void exactlyOnceAppendSurvivesKillsAndPauses() throws Exception {
    ChaosOptions d = ChaosOptions.defaults(Path.of("target", "chaos-results"));
    long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
    ChaosOptions opts = new ChaosOptions(3, Duration.ofSeconds(Long.getLong("chaos.timeLimit", 75)),
        "kill-leader,pause,kill", "group", DeliveryMode.EXACTLY_ONCE, d.outDir(), 4, 3, 2, 50,
        Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(7),
        Duration.ofSeconds(5), seed, serverWithLostAnswers());

    ChaosRun.Outcome o = ChaosRun.run(opts);

    Path report = o.dir().resolve("report.md");
    assertTrue(Files.exists(report), "report written");
    assertTrue(Files.size(o.dir().resolve("history.jsonl")) > 0, "history written");
    assertNull(o.error(), () -> "harness error (see " + report + "): " + o.error());
    assertTrue(o.result().stats().getOrDefault("sends-ok", 0L) > 100, () -> "too few acknowledged sends: "
        + o.result().stats() + " (see " + report + ")");
    assertTrue(o.result().stats().getOrDefault("group-commits-ok", 0L) > 20, () -> "too few group commits: "
        + o.result().stats() + " (see " + report + ")");
    assertTrue(o.result().valid(), () -> "anomalies " + o.result().counting() + " (seed " + seed + "); see "
        + report + "\n" + examples(o));
  }

  /** Every 40th Produce answer is lost after the write, so dedup is exercised all through the run. */
  private static java.util.Map<String, String> serverWithLostAnswers() {
    java.util.Map<String, String> props = new java.util.HashMap<>(ChaosOptions.CHURNY_SERVER);
    props.put("unsafe.test.lose.every.nth.produce.response", "40");
    return props;
  }

  private static String examples(ChaosRun.Outcome o) {
    StringBuilder sb = new StringBuilder();
    o.result().anomalies().forEach((k, f) -> {
      if (k.countsIn(o.result().mode()) || k == AnomalyKind.DUPLICATE) {
        sb.append(k.label()).append(": ").append(f.examples()).append('\n');
      }
    });
    return sb.toString();
  }
}
