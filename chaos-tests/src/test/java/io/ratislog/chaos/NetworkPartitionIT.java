package io.ratislog.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ratislog.chaos.checker.AnomalyKind;
import io.ratislog.chaos.cluster.NetnsNetwork;
import io.ratislog.chaos.history.History;
import io.ratislog.chaos.report.FaultInterval;
import io.ratislog.chaos.workload.DeliveryMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real network partitions: a 3-node cluster whose nodes run in their own network namespaces
 * ({@link NetnsNetwork}), the append workload with exactly-once producers and the consumer-group workload
 * on the same topic, and
 * {@code partition-one}, {@code partition-leader}, {@code partition-majority} (iptables DROP rules
 * between the nodes; the clients keep reaching every node) plus {@code kill} for about 60 s; heal,
 * final read. Fails on any anomaly, duplicates included. Skipped (JUnit assumption) when network
 * namespaces or iptables are unavailable here (not root, tools missing). Every namespace, veth and
 * bridge it creates is deleted at the end, also on failure; the test checks that none is left.
 */
class NetworkPartitionIT {

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void exactlyOnceAppendSurvivesRealPartitions() throws Exception {
    Optional<String> why = NetnsNetwork.unavailableReason();
    assumeTrue(why.isEmpty(), () -> "network nemeses skipped: " + why.orElse(""));
    Set<String> before = ourNamespaces();

    ChaosOptions d = ChaosOptions.defaults(Path.of("target", "chaos-results"));
    long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
    String nemeses = System.getProperty("chaos.netNemeses", "partition-one,partition-leader,partition-majority,kill");
    ChaosOptions opts = new ChaosOptions(3, Duration.ofSeconds(Long.getLong("chaos.netTimeLimit", 60)), nemeses,
        "group", DeliveryMode.EXACTLY_ONCE, d.outDir(), 4, 3, 2, 50, Duration.ofSeconds(2), Duration.ofSeconds(4),
        Duration.ofSeconds(5), Duration.ofSeconds(9), Duration.ofSeconds(5), seed, ChaosOptions.CHURNY_SERVER);

    ChaosRun.Outcome o = ChaosRun.run(opts);

    Path report = o.dir().resolve("report.md");
    assertTrue(Files.exists(report), "report written");
    assertNull(o.skipped(), () -> "nemeses skipped: " + o.skipped());
    assertNull(o.error(), () -> "harness error (see " + report + "): " + o.error());
    assertEquals(before, ourNamespaces(), "every namespace of the run is deleted");
    assertEquals(tags(before), ourHostLinks(), "the root-side veth is deleted");

    List<FaultInterval> faults = FaultInterval.of(History.read(o.dir().resolve("history.jsonl")));
    Set<String> partitions = faults.stream().filter(f -> f.name().startsWith("partition-") && "ok".equals(f.outcome()))
        .map(FaultInterval::name).collect(Collectors.toCollection(TreeSet::new));
    assertTrue(partitions.size() >= 2, () -> "too few partitions injected: " + faults + " (see " + report + ")");
    assertTrue(o.result().stats().getOrDefault("sends-ok", 0L) > 100, () -> "too few acknowledged sends: "
        + o.result().stats() + " (see " + report + ")");
    assertTrue(o.result().stats().getOrDefault("group-commits-ok", 0L) > 10, () -> "too few group commits: "
        + o.result().stats() + " (see " + report + ")");
    assertTrue(o.result().valid(), () -> "anomalies " + o.result().counting() + " (seed " + seed + "); see "
        + report + "\n" + examples(o));
  }

  private static Set<String> ourNamespaces() throws IOException, InterruptedException {
    return ip("netns", "list").lines().map(l -> l.trim().split("\\s+")[0])
        .filter(n -> n.startsWith(NetnsNetwork.PREFIX)).collect(Collectors.toCollection(TreeSet::new));
  }

  /** Tags of the root-side veths ({@code rlch<tag>h}) present now. */
  private static Set<String> ourHostLinks() throws IOException, InterruptedException {
    java.util.regex.Pattern p = java.util.regex.Pattern.compile("^\\d+:\\s+(" + NetnsNetwork.PREFIX + "[0-9a-f]{4})h[@:]");
    return ip("-o", "link", "show").lines().map(p::matcher).filter(java.util.regex.Matcher::find).map(m -> m.group(1))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static Set<String> tags(Set<String> namespaces) {
    return namespaces.stream().filter(n -> n.matches(NetnsNetwork.PREFIX + "[0-9a-f]{4}br"))
        .map(n -> n.substring(0, n.length() - 2)).collect(Collectors.toCollection(TreeSet::new));
  }

  private static String ip(String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
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
