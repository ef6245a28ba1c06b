package io.ratislog.chaos;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.checker.AnomalyKind;
import io.ratislog.chaos.workload.DeliveryMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The suite must find real bugs: with the test-only server switch {@code unsafe.test.disable.dedup} the
 * partition leaders drop the producer session from every batch, so a batch retried after a lost answer is
 * written twice (every 20th answer is lost, on top of the kills and pauses). The same exactly-once workload and faults as the smoke profile must then report
 * {@code duplicate} anomalies and an invalid run.
 */
class BrokenDedupIsCaughtIT {

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void checkerReportsTheDuplicatesOfAServerWithoutDedup() throws Exception {
    ChaosOptions d = ChaosOptions.defaults(Path.of("target", "chaos-results"));
    Map<String, String> broken = new HashMap<>(ChaosOptions.CHURNY_SERVER);
    broken.put("unsafe.test.disable.dedup", "true");
    // Lost answers make the producers retry batches that were written: without dedup, each is a duplicate.
    broken.put("unsafe.test.lose.every.nth.produce.response", "20");
    long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
    ChaosOptions opts = new ChaosOptions(3, Duration.ofSeconds(Long.getLong("chaos.brokenTimeLimit", 60)),
        "kill-leader,pause-leader", "append", DeliveryMode.EXACTLY_ONCE, d.outDir(), 4, 3, 2, 80,
        Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofSeconds(6),
        Duration.ofSeconds(5), seed, broken);

    ChaosRun.Outcome o = ChaosRun.run(opts);

    assertNull(o.error(), () -> "harness error: " + o.error());
    assertTrue(o.result().count(AnomalyKind.DUPLICATE) > 0, () -> "a server without dedup must show duplicates"
        + " to an exactly-once workload (seed " + seed + "): " + o.result().summary());
    assertFalse(o.result().valid(), "the run is reported invalid");
  }
}
