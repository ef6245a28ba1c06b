package io.ratislog.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives {@code scripts/cluster.sh} and {@code scripts/logctl} as separate processes, the way a user would:
 * a 3-node cluster of real JVMs, topics, produce/consume through stdin/stdout, kill -9 of a partition
 * leader, restart, and bad input. Needs the runnable classpath of ratis-log-server (target/classes and
 * target/lib), which a reactor build ({@code mvn verify} from the root) packages before this module runs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CliClusterIT {
  private static final int NODES = 3;
  private static final String TOPIC = "cli-chaos";
  private static final Duration CMD_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Pattern PARTITION_SUMMARY =
      Pattern.compile("^partition (\\d+): offsets (\\d+)\\.\\.(\\d+) \\(count (\\d+)\\)$");

  @TempDir
  static Path tmp;

  private static Path root;
  private static Map<String, String> env;
  private static String bootstrap;
  private static boolean started;
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final long T0 = System.nanoTime();

  /** Result of one script run. */
  record Run(List<String> command, int exit, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }

    @Override
    public String toString() {
      return String.join(" ", command) + " -> exit " + exit + "\n--- stdout ---\n" + abbreviate(out)
          + "\n--- stderr ---\n" + abbreviate(err);
    }
  }

  @BeforeAll
  static void startCluster() throws Exception {
    root = Path.of("").toAbsolutePath();
    if (!Files.isRegularFile(root.resolve("scripts/cluster.sh"))) {
      root = root.getParent();
    }
    assertTrue(root != null && Files.isRegularFile(root.resolve("scripts/cluster.sh")),
        "cannot find the repository root (scripts/cluster.sh) from " + Path.of("").toAbsolutePath());
    Path target = root.resolve("ratis-log-server/target");
    if (!Files.isDirectory(target.resolve("lib")) || !Files.isDirectory(target.resolve("classes"))) {
      fail("the scripts need " + target.resolve("lib") + " and " + target.resolve("classes")
          + ", which are missing: build first, e.g. `mvn -DskipTests install` (or run `mvn verify` from the "
          + "repository root, which packages ratis-log-server before chaos-tests); this test does not build");
    }

    int[] bases = freePortBases();
    env = new HashMap<>();
    env.put("RATISLOG_DATA", tmp.resolve("data").toString());
    env.put("RATISLOG_CLIENT_PORT_BASE", String.valueOf(bases[0]));
    env.put("RATISLOG_RAFT_PORT_BASE", String.valueOf(bases[1]));
    env.put("RATISLOG_METRICS_PORT_BASE", String.valueOf(bases[2]));
    env.put("RATISLOG_WAIT_S", "60");
    env.put("RATISLOG_REBUILD", "0");
    bootstrap = IntStream.rangeClosed(1, NODES).mapToObj(i -> "127.0.0.1:" + (bases[0] + i))
        .collect(Collectors.joining(","));
    log("ports: clients " + (bases[0] + 1) + ".." + (bases[0] + NODES) + ", raft " + (bases[1] + 1) + ".."
        + (bases[1] + NODES) + "; data " + env.get("RATISLOG_DATA"));

    started = true; // from here on, @AfterAll stops whatever cluster.sh recorded
    Run start = cluster(Duration.ofSeconds(120), "start", String.valueOf(NODES));
    assertEquals(0, start.exit(), () -> "cluster.sh start failed\n" + start + nodeLogs());
    assertTrue(start.out().contains("cluster ready"), start::toString);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (started) {
      Run stop = cluster(Duration.ofSeconds(90), "stop");
      log("cluster.sh stop -> exit " + stop.exit() + "\n" + stop.out() + stop.err());
    }
  }

  // ------------------------------------------------------------------------------------------ the session

  @Test
  @Order(1)
  void userSessionSurvivesKillOfPartitionLeader() throws Exception {
    // cluster status: exit 0, all nodes up, a metadata leader
    Run status = eventually("cluster status with " + NODES + " nodes up and a metadata leader",
        () -> logctl("cluster", "status"), r -> r.exit() == 0 && upNodes(r).size() == NODES
            && metadataLeader(r) > 0);
    assertEquals(Set.of(1, 2, 3), Set.copyOf(upNodes(status)), status::toString);

    // topics: create, list, describe
    Run create = logctl("topic", "create", TOPIC, "--partitions", "3", "--replication", "3");
    assertEquals(0, create.exit(), create::toString);
    assertTrue(create.out().contains("created topic " + TOPIC + " (3 partitions, replication 3)"), create::toString);
    Run list = logctl("topic", "list");
    assertEquals(0, list.exit(), list::toString);
    assertTrue(list.outLines().contains(TOPIC + "  partitions=3  replication=3"), list::toString);
    Run describe = eventually("every partition of " + TOPIC + " has a leader", () -> logctl("topic", "describe", TOPIC),
        r -> r.exit() == 0 && leaders(r).size() == 3 && !leaders(r).containsValue("-"));
    assertEquals("PARTITION  LEADER  REPLICAS", describe.outLines().get(0), describe::toString);
    for (String row : describe.outLines().subList(1, describe.outLines().size())) {
      String[] f = row.trim().split("\\s+");
      assertEquals(Set.of("1", "2", "3"), Set.of(f[2].split(",")), () -> "replicas of " + row + "\n" + describe);
    }

    // produce 3,000 keyed lines (they spread over the 3 partitions)
    List<String> first = values(1, 3000);
    Run p1 = produce(first);
    Map<Integer, long[]> s1 = checkProduceSummary(p1, 3000);
    assertEquals(3, s1.size(), () -> "keyed records should reach all 3 partitions\n" + p1);
    s1.forEach((p, s) -> assertEquals(0, s[0], () -> "partition " + p + " of a new topic starts at 0\n" + p1));

    // consume them back, each exactly once
    Run c1 = logctl("consume", TOPIC, "--from-beginning", "--max-records", "3000", "--timeout-ms", "15000");
    assertEquals(0, c1.exit(), c1::toString);
    assertExactlyOnce(first, c1.outLines(), c1);

    // kill -9 the leader of partition 0
    Run d = eventually("partition 0 has a leader", () -> logctl("topic", "describe", TOPIC),
        r -> r.exit() == 0 && !"-".equals(leaders(r).getOrDefault(0, "-")));
    String killed = leaders(d).get(0);
    Run kill = cluster(CMD_TIMEOUT, "kill", killed);
    assertEquals(0, kill.exit(), kill::toString);
    assertTrue(kill.out().contains("node " + killed + " killed"), kill::toString);

    // produce 1,000 more with that node down: offsets continue where they stopped
    List<String> second = values(3001, 4000);
    Run p2 = produce(second);
    Map<Integer, long[]> s2 = checkProduceSummary(p2, 1000);
    s2.forEach((p, s) -> assertEquals(s1.get(p)[1] + 1, s[0],
        () -> "partition " + p + " should continue at offset " + (s1.get(p)[1] + 1) + "\n" + p1 + "\n" + p2));
    Run after = eventually("partition 0 has a new leader", () -> logctl("topic", "describe", TOPIC),
        r -> r.exit() == 0 && !Set.of("-", killed).contains(leaders(r).getOrDefault(0, "-")));
    log("partition 0: leader " + killed + " killed, new leader " + leaders(after).get(0));

    // read all 4,000 from the beginning, until idle, so that extra copies would show up too
    List<String> all = new ArrayList<>(first);
    all.addAll(second);
    Run c2 = logctl("consume", TOPIC, "--from-beginning", "--timeout-ms", "6000");
    assertEquals(0, c2.exit(), c2::toString);
    assertExactlyOnce(all, c2.outLines(), c2);

    // restart the killed node: it shows up again
    Run restart = cluster(CMD_TIMEOUT, "restart", killed);
    assertEquals(0, restart.exit(), restart::toString);
    assertTrue(restart.out().contains("node " + killed + " started"), restart::toString);
    eventually("node " + killed + " up again after restart", () -> logctl("cluster", "status"),
        r -> r.exit() == 0 && upNodes(r).size() == NODES && metadataLeader(r) > 0);
    Run cs = cluster(CMD_TIMEOUT, "status");
    assertEquals(0, cs.exit(), cs::toString);
    assertTrue(cs.out().contains("node " + killed + ": running"), cs::toString);

    // delete the topic
    Run del = logctl("topic", "delete", TOPIC);
    assertEquals(0, del.exit(), del::toString);
    assertTrue(del.out().contains("deleted topic " + TOPIC), del::toString);
    eventually("topic list without " + TOPIC, () -> logctl("topic", "list"),
        r -> r.exit() == 0 && r.outLines().stream().noneMatch(l -> l.startsWith(TOPIC + " ")));
  }

  @Test
  @Order(2)
  void badInputThroughTheCli() throws Exception {
    Run produce = logctlWithInput("x\n", "produce", "no-such-topic");
    assertEquals(1, produce.exit(), produce::toString);
    assertTrue(produce.err().contains("error: UNKNOWN_TOPIC_OR_PARTITION"), produce::toString);

    Run consume = logctl("consume", "no-such-topic", "--from-beginning", "--timeout-ms", "2000");
    assertEquals(1, consume.exit(), consume::toString);
    assertTrue(consume.err().contains("error: UNKNOWN_TOPIC_OR_PARTITION"), consume::toString);
    assertEquals("", consume.out(), consume::toString);

    Run negative = logctl("consume", "no-such-topic", "--offset", "-1");
    assertEquals(2, negative.exit(), negative::toString);
    assertTrue(negative.err().contains("error: INVALID_REQUEST"), negative::toString);
  }

  // ------------------------------------------------------------------------------------------ checks

  private static List<String> values(int from, int to) {
    return IntStream.rangeClosed(from, to).mapToObj(i -> String.format("v-%05d", i)).toList();
  }

  private static Run produce(List<String> values) throws Exception {
    String stdin = values.stream().map(v -> v.substring(2) + ":" + v).collect(Collectors.joining("\n", "", "\n"));
    Run r = logctlWithInput(stdin, "produce", TOPIC, "--key-separator", ":");
    assertEquals(0, r.exit(), r::toString);
    return r;
  }

  /** The stderr summary of produce: "acknowledged N records", then "partition P: offsets A..B (count C)". */
  private static Map<Integer, long[]> checkProduceSummary(Run r, int expected) {
    List<String> lines = r.err().lines().toList();
    assertTrue(lines.contains("acknowledged " + expected + " records"), r::toString);
    Map<Integer, long[]> perPartition = new TreeMap<>();
    long total = 0;
    for (String l : lines) {
      Matcher m = PARTITION_SUMMARY.matcher(l);
      if (m.matches()) {
        long a = Long.parseLong(m.group(2));
        long b = Long.parseLong(m.group(3));
        long c = Long.parseLong(m.group(4));
        assertEquals(b - a + 1, c, () -> "offsets of one produce run are contiguous: " + l + "\n" + r);
        perPartition.put(Integer.parseInt(m.group(1)), new long[] {a, b, c});
        total += c;
      }
    }
    assertEquals(expected, total, () -> "per-partition counts add up\n" + r);
    assertFalse(r.err().contains("failed"), r::toString);
    return perPartition;
  }

  private static void assertExactlyOnce(List<String> expected, List<String> got, Run r) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    got.forEach(v -> counts.merge(v, 1, Integer::sum));
    List<String> missing = expected.stream().filter(v -> !counts.containsKey(v)).toList();
    List<String> dups = counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    Set<String> exp = Set.copyOf(expected);
    List<String> unknown = counts.keySet().stream().filter(v -> !exp.contains(v)).toList();
    String summary = "expected " + expected.size() + ", read " + got.size() + ", missing " + missing.size()
        + " " + head(missing) + ", duplicated " + dups.size() + " " + head(dups) + ", unknown " + unknown.size()
        + " " + head(unknown);
    assertTrue(missing.isEmpty() && dups.isEmpty() && unknown.isEmpty() && got.size() == expected.size(),
        () -> summary + "\n" + r);
    log("exactly once: " + summary);
  }

  private static List<String> head(List<String> l) {
    return l.subList(0, Math.min(5, l.size()));
  }

  /** Node ids with UP = yes in {@code cluster status}. */
  private static List<Integer> upNodes(Run r) {
    List<Integer> up = new ArrayList<>();
    for (String l : r.outLines()) {
      String[] f = l.trim().split("\\s+");
      if (f.length >= 4 && f[0].matches("\\d+") && "yes".equals(f[2])) {
        up.add(Integer.parseInt(f[0]));
      }
    }
    return up;
  }

  private static int metadataLeader(Run r) {
    for (String l : r.outLines()) {
      if (l.startsWith("metadata leader: ")) {
        String v = l.substring("metadata leader: ".length()).trim();
        return v.matches("\\d+") ? Integer.parseInt(v) : -1;
      }
    }
    return -1;
  }

  /** Partition to leader ("-" when unknown) from {@code topic describe}. */
  private static Map<Integer, String> leaders(Run r) {
    Map<Integer, String> m = new TreeMap<>();
    for (String l : r.outLines()) {
      String[] f = l.trim().split("\\s+");
      if (f.length == 3 && f[0].matches("\\d+")) {
        m.put(Integer.parseInt(f[0]), f[1]);
      }
    }
    return m;
  }

  // ------------------------------------------------------------------------------------------ processes

  interface Step {
    Run run() throws Exception;
  }

  /** Runs the step until the predicate holds, at most {@link #WAIT}; fails with the last run. */
  private static Run eventually(String what, Step step, Predicate<Run> ok) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Run last;
    while (true) {
      last = step.run();
      if (ok.test(last)) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        fail("not reached within " + WAIT.toSeconds() + "s: " + what + "\nlast: " + last + nodeLogs());
      }
      Thread.sleep(1000);
    }
  }

  private static Run logctl(String... args) throws Exception {
    return logctlWithInput(null, args);
  }

  private static Run logctlWithInput(String stdin, String... args) throws Exception {
    List<String> a = new ArrayList<>(List.of("--bootstrap", bootstrap));
    a.addAll(List.of(args));
    return script("logctl", stdin, CMD_TIMEOUT, a);
  }

  private static Run cluster(Duration timeout, String... args) throws Exception {
    return script("cluster.sh", null, timeout, List.of(args));
  }

  /** Runs bash scripts/NAME ARGS with the test's environment; output goes through files (no pipe to fill). */
  private static Run script(String name, String stdin, Duration timeout, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("scripts").resolve(name).toString()));
    cmd.addAll(args);
    int n = SEQ.incrementAndGet();
    Path dir = Files.createDirectories(tmp.resolve("runs"));
    Path in = dir.resolve(n + ".in");
    Path out = dir.resolve(n + ".out");
    Path err = dir.resolve(n + ".err");
    Files.writeString(in, stdin == null ? "" : stdin, StandardCharsets.UTF_8);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile())
        .redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(env);
    long t = System.nanoTime();
    Process p = pb.start();
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        // Our own short-lived children only: nodes are stopped by cluster.sh stop, from their PID files.
        p.descendants().filter(h -> !h.info().commandLine().orElse("").contains("io.ratislog.server.Logd"))
            .forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        fail(String.join(" ", cmd) + " did not finish within " + timeout.toSeconds() + "s\nstdout: "
            + abbreviate(Files.readString(out)) + "\nstderr: " + abbreviate(Files.readString(err)));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      throw e;
    }
    Run r = new Run(cmd.subList(1, cmd.size()), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
    List<String> shown = args.size() > 1 && args.get(0).equals("--bootstrap") ? args.subList(2, args.size()) : args;
    log(String.format("%-10s %-60s exit %d  (%d ms)", name, abbreviate(String.join(" ", shown), 60), r.exit(),
        (System.nanoTime() - t) / 1_000_000));
    return r;
  }

  /** Two port bases B such that B+1..B+NODES are free, for clients and Raft, chosen at random below the
   * ephemeral range so that concurrent runs (and a demo on 9091) do not collide. */
  private static int[] freePortBases() {
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int client = 12_000 + rnd.nextInt(660) * 30;
      int raft = client + 10;
      int metrics = client + 20;
      if (rangeFree(client) && rangeFree(raft) && rangeFree(metrics)) {
        return new int[] {client, raft, metrics};
      }
    }
    throw new IllegalStateException("no free port ranges found");
  }

  private static boolean rangeFree(int base) {
    for (int i = 1; i <= NODES; i++) {
      if (!portFree(base + i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean portFree(int port) {
    for (InetAddress addr : new InetAddress[] {InetAddress.getLoopbackAddress(), null}) {
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(addr == null ? new InetSocketAddress(port) : new InetSocketAddress(addr, port));
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }

  private static String nodeLogs() {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= NODES; i++) {
      Path log = Path.of(env.get("RATISLOG_DATA"), "n" + i, "logd.log");
      try {
        List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
        sb.append("\n--- tail of ").append(log).append(" ---\n")
            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
      } catch (IOException e) {
        sb.append("\n(cannot read ").append(log).append(": ").append(e).append(')');
      }
    }
    return sb.toString();
  }

  private static String abbreviate(String s) {
    return abbreviate(s, 4000);
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "... (" + s.length() + " chars)";
  }

  private static void log(String msg) {
    System.out.printf("[%6.1fs] %s%n", (System.nanoTime() - T0) / 1e9, msg);
  }
}
