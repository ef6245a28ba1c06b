package io.ratislog.chaos;

import io.ratislog.chaos.checker.CheckResult;
import io.ratislog.chaos.checker.Checker;
import io.ratislog.chaos.cluster.ClusterSpec;
import io.ratislog.chaos.cluster.ProcessCluster;
import io.ratislog.chaos.cluster.RepoLayout;
import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.cluster.NetnsNetwork;
import io.ratislog.chaos.nemesis.Nemesis;
import io.ratislog.chaos.nemesis.NemesisContext;
import io.ratislog.chaos.nemesis.NemesisScheduler;
import io.ratislog.chaos.nemesis.Nemeses;
import io.ratislog.chaos.report.FaultInterval;
import io.ratislog.chaos.report.MarkdownReport;
import io.ratislog.chaos.report.TimelineChart;
import io.ratislog.chaos.workload.AppendWorkload;
import io.ratislog.chaos.workload.FinalReader;
import io.ratislog.chaos.workload.GroupConfig;
import io.ratislog.chaos.workload.GroupWorkload;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.workload.WorkloadConfig;
import io.ratislog.client.RatislogException;
import io.ratislog.proto.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run: start a {@link ProcessCluster} (in network namespaces when a nemesis needs real
 * network faults, see {@link ProcessCluster#inNamespaces}; if namespaces are unavailable those
 * nemeses are skipped with a warning that the report repeats), create the topic, run the append workload while
 * the {@link NemesisScheduler} injects faults, heal, let the workload recover, drain, read
 * everything, stop the cluster, then check the history and write {@code history.jsonl},
 * {@code report.md} and {@code timeline.png} to {@code outDir/<timestamp>/}.
 */
public final class ChaosRun {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosRun.class);
  /** The topic the workload writes. */
  public static final String TOPIC = "chaos";
  /** The consumer group of the {@code group} workload. */
  public static final GroupConfig GROUP = GroupConfig.defaults();
  /** How long the group may take, after the final read, to commit every partition's end. */
  public static final Duration GROUP_DRAIN = Duration.ofSeconds(60);
  /** Examples kept per anomaly kind. */
  public static final int MAX_EXAMPLES = 10;

  private ChaosRun() {}

  /**
   * What a run produced.
   *
   * @param dir     the results directory
   * @param result  the checker's verdict
   * @param timings phase durations in ms
   * @param error   a harness failure that cut the run short, or null
   * @param skipped the nemeses skipped because network namespaces are unavailable, and why; or null
   */
  public record Outcome(Path dir, CheckResult result, Map<String, Long> timings, Throwable error, String skipped) {}

  /**
   * Runs.
   *
   * @param opts the options
   * @return the outcome (the report is written even when the run failed half-way)
   */
  public static Outcome run(ChaosOptions opts) {
    long t0 = System.nanoTime();
    Map<String, Long> timings = new LinkedHashMap<>();
    Path dir = opts.outDir().resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    WorkloadConfig cfg = new WorkloadConfig(TOPIC, opts.partitions(), opts.producers(), opts.readers(), opts.mode(),
        opts.sendsPerSecond(), 1_000_000, 16, Duration.ofSeconds(5), Duration.ofSeconds(20));
    History history = null;
    GroupWorkload group = null;
    Throwable error = null;
    ClusterSpec spec = ClusterSpec.small(opts.nodes(), dir.resolve("cluster")).withServerProps(opts.serverProps());
    LOG.info("chaos run in {}: {}", dir, opts);
    List<Nemesis> nemeses = new ArrayList<>(Nemeses.parse(opts.nemeses()));
    boolean netns = nemeses.stream().anyMatch(Nemesis::needsNetwork);
    String network = "loopback (127.0.0.1): process faults only";
    String skipped = null;
    if (netns) {
      Optional<String> why = NetnsNetwork.unavailableReason();
      if (why.isPresent()) {
        List<String> names = nemeses.stream().filter(Nemesis::needsNetwork).map(Nemesis::name).toList();
        skipped = names + " skipped: " + why.get();
        LOG.warn("network nemeses {}", skipped);
        nemeses.removeIf(Nemesis::needsNetwork);
        netns = false;
      }
    }
    if (nemeses.stream().anyMatch(Nemesis::needsClock)) {
      Optional<java.nio.file.Path> lib = io.ratislog.chaos.nemesis.ClockSkewNemesis.library();
      if (lib.isPresent()) {
        spec = spec.withFakeTime(lib.get());
      } else {
        List<String> names = nemeses.stream().filter(Nemesis::needsClock).map(Nemesis::name).toList();
        String why = names + " skipped: libfaketime is not installed (apt-get install libfaketime)";
        skipped = skipped == null ? why : skipped + "; " + why;
        LOG.warn("clock nemeses {}", why);
        nemeses.removeIf(Nemesis::needsClock);
      }
    }
    String network0 = network;
    try (ProcessCluster cluster = netns ? ProcessCluster.inNamespaces(spec, RepoLayout.locate())
        : new ProcessCluster(spec, RepoLayout.locate())) {
      network = cluster.netns().map(n -> "network namespaces " + n.tag() + "n1..n" + opts.nodes() + ", nodes "
          + n.nodeAddress(1) + ".." + opts.nodes() + ", clients at " + n.hostAddress()
          + ": real iptables partitions").orElse(network0);
      try {
        if (nemeses.isEmpty() && skipped != null) {
          throw new IllegalStateException("no nemesis left to run: " + skipped);
        }
        long t = System.nanoTime();
        cluster.startAll();
        cluster.awaitReady(Duration.ofSeconds(60));
        createTopic(cluster, opts);
        if (!cluster.awaitLeaders(TOPIC, Duration.ofSeconds(60))) {
          throw new IllegalStateException("partitions of " + TOPIC + " have no leaders after 60 s");
        }
        timings.put("cluster start + topic", ms(t));

        history = new History();
        AppendWorkload workload = new AppendWorkload(cluster.bootstrap(), cfg, history, opts.seed());
        if (opts.group()) {
          group = new GroupWorkload(cluster.bootstrap(), TOPIC, GROUP, history, opts.seed() * 7 + 1);
        }
        NemesisScheduler scheduler = new NemesisScheduler(
            new NemesisContext(cluster, TOPIC, opts.partitions(), new Random(opts.seed())), history,
            nemeses, new NemesisScheduler.Timing(opts.timeLimit(), opts.quietMin(),
                opts.quietMax(), opts.faultMin(), opts.faultMax()));
        t = System.nanoTime();
        workload.start();
        if (group != null) {
          group.start();
        }
        Thread nemesis = new Thread(scheduler, "nemesis");
        nemesis.start();
        nemesis.join(opts.timeLimit().toMillis() + 120_000);
        if (nemesis.isAlive()) {
          scheduler.stop();
          nemesis.join(60_000);
        }
        timings.put("faults", ms(t));

        t = System.nanoTime();
        Thread.sleep(opts.recovery().toMillis());
        checkNodesUp(cluster, history);
        workload.stopAndAwait();
        timings.put("recovery + drain", ms(t));

        t = System.nanoTime();
        cluster.awaitLeaders(TOPIC, Duration.ofSeconds(30));
        FinalReader.readAll(cluster.bootstrap(), cfg, history, Duration.ofSeconds(30));
        timings.put("final read", ms(t));
        if (group != null) {
          t = System.nanoTime();
          boolean drained = group.drain(finalEnds(history.ops()), GROUP_DRAIN);
          group = null;
          timings.put("group drain", ms(t));
          if (!drained) {
            LOG.warn("the consumer group did not commit every partition's end within {}", GROUP_DRAIN);
          }
        }
      } catch (Throwable e) {
        error = e;
        LOG.error("chaos run failed", e);
      } finally {
        if (group != null) {
          group.stop();
        }
      }
      long t = System.nanoTime();
      cluster.stopAll();
      timings.put("cluster stop", ms(t));
    } catch (Throwable e) {
      error = error == null ? e : error;
    }

    long t = System.nanoTime();
    List<Op> ops = history == null ? List.of() : history.ops();
    CheckResult result = Checker.check(ops, opts.mode(), MAX_EXAMPLES);
    List<FaultInterval> faults = FaultInterval.of(ops);
    History.write(ops, dir.resolve("history.jsonl"));
    try {
      TimelineChart.write(ops, faults, dir.resolve("timeline.png"));
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot draw timeline.png", e);
    }
    timings.put("check + report", ms(t));
    timings.put("total", ms(t0));
    Map<String, String> params = new LinkedHashMap<>();
    params.put("nodes", Integer.toString(opts.nodes()));
    params.put("workload", opts.workload() + " (" + opts.partitions() + " partitions, " + opts.producers()
        + " producers at " + opts.sendsPerSecond() + "/s, " + opts.readers() + " readers)");
    if (opts.group()) {
      params.put("consumer group", GROUP.group() + ": " + GROUP.members() + " at-least-once members (session "
          + GROUP.sessionTimeout().toMillis() + " ms), one abandoned without leaving every "
          + GROUP.crashMin().toSeconds() + "-" + GROUP.crashMax().toSeconds() + " s and replaced; committed offsets "
          + "observed every " + GROUP.observeEvery().toSeconds() + " s");
    }
    params.put("delivery mode", opts.mode().label());
    params.put("nemeses", opts.nemeses());
    params.put("network", network);
    params.put("clocks", spec.fakeTimeLib() == null ? "real" : "libfaketime " + spec.fakeTimeLib()
        + " preloaded into every node (wall clock only)");
    if (skipped != null) {
      params.put("SKIPPED NEMESES", skipped.replace("|", "\\|"));
    }
    params.put("time limit", opts.timeLimit().toSeconds() + " s (quiet " + opts.quietMin().toSeconds() + "-"
        + opts.quietMax().toSeconds() + " s, faults " + opts.faultMin().toSeconds() + "-"
        + opts.faultMax().toSeconds() + " s)");
    params.put("seed", Long.toString(opts.seed()));
    params.put("server overrides", opts.serverProps().toString());
    params.put("cluster logs", dir.resolve("cluster").toString() + "/n*/logd.{out,err}");
    if (error != null) {
      params.put("HARNESS ERROR", error.toString().replace("|", "\\|").replace("\n", " "));
    }
    String md = MarkdownReport.render("ratislog chaos run " + dir.getFileName(), params, ops, faults, result,
        timings, opts.partitions());
    try {
      Files.writeString(dir.resolve("report.md"), md);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LOG.info("chaos run done: {} -> {}", result.summary(), dir.resolve("report.md"));
    return new Outcome(dir, result, timings, error, skipped);
  }

  private static void createTopic(ProcessCluster cluster, ChaosOptions opts) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        cluster.admin().createTopic(TOPIC, opts.partitions(), Math.min(3, opts.nodes()));
        return;
      } catch (RatislogException e) {
        if (e.code() == ErrorCode.TOPIC_ALREADY_EXISTS) {
          return; // an earlier attempt went through
        }
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  /**
   * Records a {@code health} event per node: ok when it runs after the final heal (restarting it once
   * more if it is down), fail with the tail of its stderr when it does not stay up.
   */
  static void checkNodesUp(ProcessCluster cluster, History history) throws InterruptedException {
    for (int id : cluster.nodeIds()) {
      long hid = history.nextId();
      history.add(Op.of("harness", OpKind.HEALTH, Phase.INVOKE).id(hid).nodes(List.of(id)));
      boolean up = cluster.isRunning(id);
      if (!up) {
        cluster.start(id);
        Thread.sleep(5_000);
        up = cluster.isRunning(id);
      }
      String why = null;
      if (!up) {
        why = "not running after the final heal and a restart; see " + cluster.nodeDir(id).resolve("logd.out")
            + ": " + lastLines(cluster.nodeDir(id).resolve("logd.out"));
      }
      history.add(Op.of("harness", OpKind.HEALTH, up ? Phase.OK : Phase.FAIL).id(hid).nodes(List.of(id)).error(why));
    }
  }

  private static String lastLines(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return lines.stream().filter(l -> l.contains("Exception") || l.contains("ERROR")).reduce((a, b) -> b)
          .map(l -> l.length() > 300 ? l.substring(0, 300) : l).orElse("(no error logged)");
    } catch (IOException | RuntimeException e) {
      return "(cannot read: " + e + ")";
    }
  }

  /** Partition to log end offset, from the final read's {@code ok} completions. */
  static Map<Integer, Long> finalEnds(List<Op> ops) {
    Map<Integer, Long> ends = new java.util.TreeMap<>();
    for (Op op : ops) {
      if (op.kind() == OpKind.FINAL_READ && op.phase() == Phase.OK && op.partition() != null && op.offset() != null) {
        ends.put(op.partition(), op.offset());
      }
    }
    return ends;
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
