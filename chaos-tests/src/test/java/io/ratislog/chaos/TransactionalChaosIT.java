package io.ratislog.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.cluster.ClusterSpec;
import io.ratislog.chaos.cluster.ProcessCluster;
import io.ratislog.chaos.cluster.RepoLayout;
import io.ratislog.chaos.txn.TxnChecker;
import io.ratislog.chaos.txn.TxnProcessor;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.IsolationLevel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transactional workload of the chaos suite (issue #5 workload d, issue #6): two read-process-write
 * processors copy {@code tx-in} into {@code tx-out} exactly once (each transaction writes to several output
 * partitions and commits the consumed offsets), on 3 real logd processes, while nodes are killed with kill -9
 * (the metadata leader, which is the transaction coordinator, among them) and paused, and processors crash in
 * the middle of transactions and are replaced by successors with the same transactional id. Afterwards the
 * {@link TxnChecker} reads the output read_committed and read_uncommitted and fails on any partial transaction,
 * aborted read, committed transaction not visible, duplicate, lost or unexpected record. The report goes to
 * {@code chaos-tests/target/chaos-results/txn-<timestamp>/report.md}.
 */
class TransactionalChaosIT {
  private static final int MAX_INPUTS = 20_000;
  private static final int PROCESSORS = 2;

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void readProcessWriteIsExactlyOnceUnderKillsPausesAndCrashes() throws Exception {
    long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
    long faultSeconds = Long.getLong("chaos.txn.timeLimit", 35);
    Random random = new Random(seed);
    Path dir = Path.of("target", "chaos-results",
        "txn-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(dir);
    ClusterSpec spec = ClusterSpec.small(3, dir.resolve("cluster")).withServerProps(ChaosOptions.CHURNY_SERVER);
    List<String> faults = new ArrayList<>();
    Map<String, TxnChecker.Outcome> outcomes = new ConcurrentHashMap<>();
    try (ProcessCluster cluster = new ProcessCluster(spec, RepoLayout.locate())) {
      cluster.startAll();
      cluster.awaitReady(Duration.ofSeconds(60));
      createTopic(cluster, "tx-in");
      createTopic(cluster, "tx-out");
      Set<String> inputs = ConcurrentHashMap.newKeySet();
      Set<String> maybeInputs = ConcurrentHashMap.newKeySet();
      AtomicBoolean seeding = new AtomicBoolean(true);
      Thread seeder = new Thread(() -> seed(cluster.bootstrap(), seeding, inputs, maybeInputs), "txn-seeder");
      seeder.start();

      AtomicBoolean stop = new AtomicBoolean();
      AtomicIntegerArray crashRequested = new AtomicIntegerArray(PROCESSORS);
      List<Thread> workers = new ArrayList<>();
      long[] committed = new long[PROCESSORS];
      for (int slot = 0; slot < PROCESSORS; slot++) {
        int s = slot;
        Thread t = new Thread(() -> committed[s] = runSlot(cluster.bootstrap(), s, stop, crashRequested, outcomes),
            "txn-processor-" + slot);
        t.start();
        workers.add(t);
      }

      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(faultSeconds);
      int round = 0;
      while (System.nanoTime() < end) {
        Thread.sleep(3_000 + random.nextInt(2_000));
        crashRequested.set(random.nextInt(PROCESSORS), 1);
        int node = 1 + random.nextInt(3);
        switch (round++ % 3) {
          case 0 -> {
            int meta = metadataLeader(cluster);
            int victim = meta > 0 ? meta : node;
            faults.add("kill -9 node " + victim + " (metadata leader: " + (meta == victim) + ")");
            cluster.kill9(victim);
            Thread.sleep(3_000);
            cluster.start(victim);
          }
          case 1 -> {
            faults.add("pause node " + node);
            cluster.pause(node);
            Thread.sleep(3_000);
            cluster.resume(node);
          }
          default -> {
            int leader = cluster.leaderOf("tx-out", random.nextInt(3));
            int victim = leader > 0 ? leader : node;
            faults.add("kill -9 node " + victim + " (an output partition's leader)");
            cluster.kill9(victim);
            Thread.sleep(3_000);
            cluster.start(victim);
          }
        }
      }
      for (int id : cluster.nodeIds()) {
        if (cluster.isPaused(id)) {
          cluster.resume(id);
        }
        if (!cluster.isRunning(id)) {
          cluster.start(id);
        }
      }
      seeding.set(false);
      seeder.join(90_000);
      faults.add("healed; seeding stopped; processors drain the input");
      awaitDrained(cluster.bootstrap(), inputs);
      stop.set(true);
      for (Thread t : workers) {
        t.join(60_000);
      }

      List<String> visible = read(cluster.bootstrap(), IsolationLevel.READ_COMMITTED);
      List<String> all = read(cluster.bootstrap(), IsolationLevel.READ_UNCOMMITTED);
      TxnChecker.Result result = TxnChecker.check(inputs, maybeInputs, outcomes, visible, all);
      Path report = writeReport(dir, seed, faults, result);
      assertTrue(result.valid(), () -> "anomalies " + result.counts() + " examples " + result.examples()
          + " (seed " + seed + "; see " + report + ")");
      assertTrue(result.stats().get("transactions-committed") > 10, () -> "too few transactions committed: "
          + result.stats());
    }
  }

  /** Runs processor incarnations in one slot until stopped; a crash request abandons the open transaction. */
  private static long runSlot(String bootstrap, int slot, AtomicBoolean stop, AtomicIntegerArray crashRequested,
                              Map<String, TxnChecker.Outcome> outcomes) {
    long committed = 0;
    int generation = 0;
    while (!stop.get()) {
      TxnProcessor p;
      try {
        p = new TxnProcessor(bootstrap, "tx-proc-" + slot, "tx-group", "tx-in", "tx-out", generation++, 20, outcomes);
      } catch (RuntimeException e) {
        sleep(500);
        continue;
      }
      boolean alive = true;
      try {
        while (alive && !stop.get()) {
          alive = p.step(() -> crashRequested.compareAndSet(slot, 1, 0));
        }
      } catch (RuntimeException e) {
        alive = false;
      }
      committed += p.committedRecords();
      if (alive) {
        p.close();
      } else {
        p.crash();
      }
    }
    return committed;
  }

  private static int metadataLeader(ProcessCluster cluster) {
    try {
      return cluster.admin().describeCluster().getMetadataLeader();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static void createTopic(ProcessCluster cluster, String name) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        cluster.admin().createTopic(name, 3, 3);
        return;
      } catch (RatislogException e) {
        if (e.code() == ErrorCode.TOPIC_ALREADY_EXISTS) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  /** Produces input values at about 40/s until told to stop; acked ones must be processed, unknown ones may be. */
  private static void seed(String bootstrap, AtomicBoolean seeding, Set<String> inputs, Set<String> maybeInputs) {
    try (Producer p = new Producer(ProducerConfig.builder(bootstrap).lingerMs(5).requestTimeoutMs(3_000)
        .deliveryTimeoutMs(30_000).build())) {
      List<CompletableFuture<?>> fs = new ArrayList<>();
      for (int i = 0; seeding.get() && i < MAX_INPUTS; i++) {
        String v = "in-" + i;
        fs.add(p.send(new ProducerRecord("tx-in", v.getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8)))
            .whenComplete((m, e) -> (e == null ? inputs : maybeInputs).add(v)));
        if (i % 10 == 9) {
          sleep(250);
        }
      }
      for (CompletableFuture<?> f : fs) {
        try {
          f.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          // recorded as a maybe-input by its callback
        }
      }
    }
  }

  /** Waits (at most 120 s) until the read_committed output covers every acknowledged input. */
  private static void awaitDrained(String bootstrap, Set<String> inputs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      Set<String> seen = new HashSet<>();
      for (String v : read(bootstrap, IsolationLevel.READ_COMMITTED)) {
        seen.add(v.substring(0, v.lastIndexOf('|')));
      }
      if (seen.containsAll(inputs)) {
        return;
      }
      Thread.sleep(2_000);
    }
  }

  private static List<String> read(String bootstrap, IsolationLevel isolation) {
    try (Consumer c = new Consumer(ConsumerConfig.builder(bootstrap).maxWaitMs(200).isolationLevel(isolation).build())) {
      List<TopicPartition> tps = List.of(new TopicPartition("tx-out", 0), new TopicPartition("tx-out", 1),
          new TopicPartition("tx-out", 2));
      c.assign(tps);
      c.seekToBeginning(tps);
      List<String> out = new ArrayList<>();
      long lastNew = System.nanoTime();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() - lastNew < TimeUnit.MILLISECONDS.toNanos(1_500) && System.nanoTime() < deadline) {
        List<ConsumerRecord> got = c.poll(Duration.ofMillis(200));
        if (!got.isEmpty()) {
          got.forEach(r -> out.add(r.valueAsString()));
          lastNew = System.nanoTime();
        }
      }
      return out;
    }
  }

  private static Path writeReport(Path dir, long seed, List<String> faults, TxnChecker.Result r) throws Exception {
    StringBuilder md = new StringBuilder("# Transactional chaos run\n\nseed " + seed + "\n\n");
    md.append("| stat | value |\n|---|---|\n");
    r.stats().forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    md.append("\n| anomaly | count | examples |\n|---|---|---|\n");
    for (String kind : List.of("partial-transaction", "aborted-read", "committed-invisible", "duplicate", "lost", "unexpected")) {
      md.append("| ").append(kind).append(" | ").append(r.counts().getOrDefault(kind, 0L)).append(" | ")
          .append(String.join("; ", r.examples().getOrDefault(kind, List.of()))).append(" |\n");
    }
    md.append("\nFaults, in order:\n\n");
    faults.forEach(f -> md.append("- ").append(f).append('\n'));
    Path report = dir.resolve("report.md");
    Files.writeString(report, md.toString());
    return report;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
