package io.ratislog.bench;

import io.ratislog.client.Admin;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.ErrorCode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The many-partitions case: creates one topic with {@code --partitions} partitions, times it until every
 * partition has a leader, then measures each node's idle CPU (from {@code /proc/PID/stat}) with nothing
 * running, and finally sends a few records to every partition. When the nodes refuse that many replicas
 * (REPLICA_LIMIT_EXCEEDED: each node's {@code max.partitions.per.node}), it says so ({@code RESULT kind=scale-refused})
 * and measures the most partitions they take instead.
 *
 * <p>Prints {@code RESULT kind=scale ...} and, per node, its busiest thread groups while idle
 * ({@code RESULT kind=scale-threads ...}; thread names with digits folded to {@code #}), which is where the
 * idle CPU goes.
 */
@Command(name = "scale", description = "Create many partitions: time to leaders, idle CPU per node, a produce over all.")
final class Scale implements Callable<Integer> {
  @CommandLine.ParentCommand LogBench parent;
  @Option(names = "--topic", defaultValue = "scale") String topic;
  @Option(names = "--partitions", defaultValue = "1000") int partitions;
  @Option(names = "--cluster-dir", required = true, description = "data dir of scripts/cluster.sh (PID files)")
  Path clusterDir;
  @Option(names = "--baseline-s", defaultValue = "10", description = "idle CPU measured before creating the topic")
  int baselineS;
  @Option(names = "--settle-s", defaultValue = "10", description = "wait after every partition has a leader") int settleS;
  @Option(names = "--idle-s", defaultValue = "30") int idleS;
  @Option(names = "--create-timeout-s", defaultValue = "300") int createTimeoutS;
  @Option(names = "--records-per-partition", defaultValue = "10") int perPartition;
  @Option(names = "--record-size", defaultValue = "100") int size;
  @Option(names = "--clock-ticks", defaultValue = "100", description = "USER_HZ (getconf CLK_TCK)") long clockTicks;
  @Option(names = "--top-threads", defaultValue = "6") int topThreads;

  @Override
  public Integer call() throws Exception {
    ClusterProcesses cluster = new ClusterProcesses(clusterDir);
    Map<Integer, Long> pids = new LinkedHashMap<>();
    for (int id : cluster.nodeIds()) {
      pids.put(id, cluster.pid(id));
    }
    Map<Integer, Double> baseline = baselineS > 0 ? cpu(pids, baselineS, null) : Map.of();

    long t0 = System.nanoTime();
    int withLeader = 0;
    double createdS;
    double leadersS = -1;
    try (Admin admin = Admin.create(parent.bootstrap, Duration.ofSeconds(createTimeoutS))) {
      try {
        admin.createTopic(topic, partitions, 0);
      } catch (RatislogException e) {
        if (e.code() != ErrorCode.REPLICA_LIMIT_EXCEEDED) {
          throw e;
        }
        DescribeClusterResponse c = admin.describeCluster();
        int fit = partitionsThatFit(c);
        System.err.printf(Locale.ROOT, "scale: %d partitions refused after %.1f s (%s); creating %d, what the nodes"
            + " take%n", partitions, (System.nanoTime() - t0) / 1e9, e.getMessage(), fit);
        System.out.printf(Locale.ROOT, "RESULT kind=scale-refused partitions=%d refused_s=%.1f max_replicas=%s fit=%d%n",
            partitions, (System.nanoTime() - t0) / 1e9, maxReplicas(c), fit);
        if (fit < 1) {
          return 1;
        }
        topic = topic + "-at-limit";
        partitions = fit;
        t0 = System.nanoTime();
        admin.createTopic(topic, partitions, 0);
      }
      createdS = (System.nanoTime() - t0) / 1e9;
      long deadline = t0 + TimeUnit.SECONDS.toNanos(createTimeoutS);
      long nextLog = 0;
      while (System.nanoTime() < deadline) {
        try {
          withLeader = (int) admin.describeTopic(topic).partitions().stream().filter(PartitionInfo::hasLeader).count();
        } catch (RuntimeException e) {
          System.err.println("describe failed: " + e);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (withLeader == partitions) {
          leadersS = s;
          break;
        }
        if (s >= nextLog) {
          System.err.printf(Locale.ROOT, "scale: %.1f s: %d of %d partitions have a leader%n", s, withLeader, partitions);
          nextLog += 5;
        }
        TimeUnit.MILLISECONDS.sleep(250);
      }
    }
    System.err.printf(Locale.ROOT, "scale: create returned after %.1f s, %d/%d leaders after %.1f s%n", createdS,
        withLeader, partitions, (System.nanoTime() - t0) / 1e9);
    TimeUnit.SECONDS.sleep(settleS);

    Map<Integer, Map<String, long[]>> threads = new HashMap<>();
    Map<Integer, Double> idle = cpu(pids, idleS, threads);

    long[] sent = {0, 0, 0};
    if (withLeader == partitions) {
      sent = produce();
    } else {
      System.err.printf(Locale.ROOT, "scale: only %d of %d partitions have a leader: no produce; the CPU figures were"
          + " taken while partitions were still being created%n", withLeader, partitions);
    }
    double idleMax = idle.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    System.out.printf(Locale.ROOT, "RESULT kind=scale partitions=%d create_s=%.1f leaders=%d leaders_s=%.1f"
        + " baseline_cpu_pct=%s idle_cpu_pct=%s idle_cpu_max_pct=%.1f threads=%s produce_records=%d"
        + " produce_failed=%d produce_s=%.1f%n", partitions, createdS, withLeader, leadersS, perNode(baseline),
        perNode(idle), idleMax, threadCounts(pids), sent[0], sent[1], sent[2] / 1e9);
    for (var e : threads.entrySet()) {
      List<Map.Entry<String, long[]>> top = new ArrayList<>(e.getValue().entrySet());
      top.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
      for (int i = 0; i < Math.min(topThreads, top.size()); i++) {
        long[] v = top.get(i).getValue();
        System.out.printf(Locale.ROOT, "RESULT kind=scale-threads node=%d rank=%d cpu_pct=%.2f threads=%d name=%s%n",
            e.getKey(), i + 1, 100.0 * v[0] / clockTicks / idleS, v[1], top.get(i).getKey().replace(' ', '_'));
      }
    }
    return withLeader == partitions && sent[1] == 0 ? 0 : 1;
  }

  /**
   * Partitions the nodes still take in this benchmark's layout (3 nodes, replication factor 3: every node holds a
   * replica of every partition): the room left on the fullest node that registered a limit.
   */
  private static int partitionsThatFit(DescribeClusterResponse c) {
    return c.getNodesList().stream().filter(n -> n.getMaxReplicas() > 0)
        .mapToInt(n -> Math.max(0, n.getMaxReplicas() - n.getReplicaCount())).min().orElse(0);
  }

  private static String maxReplicas(DescribeClusterResponse c) {
    return c.getNodesList().stream().sorted(java.util.Comparator.comparingInt(n -> n.getNode().getId()))
        .map(n -> "n" + n.getNode().getId() + ":" + n.getMaxReplicas())
        .collect(java.util.stream.Collectors.joining(","));
  }

  private static String perNode(Map<Integer, Double> pct) {
    StringBuilder b = new StringBuilder();
    pct.forEach((id, v) -> b.append(b.length() == 0 ? "" : ",").append("n").append(id).append(':')
        .append(String.format(Locale.ROOT, "%.1f", v)));
    return b.length() == 0 ? "-" : b.toString();
  }

  private static String threadCounts(Map<Integer, Long> pids) {
    StringBuilder b = new StringBuilder();
    pids.forEach((id, pid) -> {
      int n;
      try {
        n = ProcStat.threadTicks(pid).size();
      } catch (IOException e) {
        n = -1;
      }
      b.append(b.length() == 0 ? "" : ",").append("n").append(id).append(':').append(n);
    });
    return b.toString();
  }

  /**
   * Percent of one core each node used over {@code seconds}; when {@code threads} is given, also fills it per node
   * with thread-name group → {ticks used, thread count}.
   */
  private Map<Integer, Double> cpu(Map<Integer, Long> pids, int seconds, Map<Integer, Map<String, long[]>> threads)
      throws IOException, InterruptedException {
    Map<Integer, Long> before = new HashMap<>();
    Map<Integer, Map<String, Long>> threadsBefore = new HashMap<>();
    for (var e : pids.entrySet()) {
      before.put(e.getKey(), ProcStat.processTicks(e.getValue()));
      if (threads != null) {
        threadsBefore.put(e.getKey(), ProcStat.threadTicks(e.getValue()));
      }
    }
    long start = System.nanoTime();
    TimeUnit.SECONDS.sleep(seconds);
    double elapsed = (System.nanoTime() - start) / 1e9;
    Map<Integer, Double> out = new LinkedHashMap<>();
    for (var e : pids.entrySet()) {
      long ticks = ProcStat.processTicks(e.getValue()) - before.get(e.getKey());
      out.put(e.getKey(), 100.0 * ticks / clockTicks / elapsed);
      if (threads != null) {
        Map<String, Long> b = threadsBefore.get(e.getKey());
        Map<String, long[]> groups = new HashMap<>();
        ProcStat.threadTicks(e.getValue()).forEach((name, t) -> {
          long[] g = groups.computeIfAbsent(group(name), k -> new long[2]);
          g[0] += t - b.getOrDefault(name, 0L);
          g[1]++;
        });
        threads.put(e.getKey(), groups);
      }
    }
    return out;
  }

  /** A thread's group: its name without the "(tid)" suffix, digits folded to '#'. */
  static String group(String nameWithTid) {
    int paren = nameWithTid.lastIndexOf(" (");
    String name = paren >= 0 ? nameWithTid.substring(0, paren) : nameWithTid;
    return name.replaceAll("[0-9]+", "#");
  }

  /** Sends {@code perPartition} records to every partition: {records, failed, nanoseconds}. */
  private long[] produce() throws Exception {
    long n = (long) partitions * perPartition;
    AtomicLong failed = new AtomicLong();
    long start = System.nanoTime();
    try (Producer p = new Producer(ProducerConfig.builder(parent.bootstrap).delivery(DeliveryMode.EXACTLY_ONCE)
        .lingerMs(5).deliveryTimeoutMs(120_000).build())) {
      for (long i = 0; i < n; i++) {
        p.send(new ProducerRecord(topic, (int) (i % partitions), null, LogBench.payload(size, i)))
            .whenComplete((m, e) -> {
              if (e != null) {
                failed.incrementAndGet();
              }
            });
      }
      p.flush();
    }
    return new long[] {n, failed.get(), System.nanoTime() - start};
  }
}
