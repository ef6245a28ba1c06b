package io.ratislog.bench;

import io.ratislog.client.Admin;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.TopicPartition;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Failover under load: a steady, rate-limited producer writes to a 1-partition topic while the partition's
 * current leader process is killed with SIGKILL, again and again. After each kill the killed node is started
 * again (with {@code --restart-command}) and the next kill waits until it has rejoined (it knows the
 * partition's leader), its replica is in sync again (the leader reports it caught up: otherwise the next kill
 * would leave one live replica that cannot commit until it caught up, which measures catch-up, not failover) and
 * a settle time has passed.
 *
 * <p>Per kill it measures the <em>recovery time</em>: from the SIGKILL until the first acknowledgement of a
 * record sent after it. At the end it reads the whole partition back and checks that every acknowledged record
 * is there (records carry their sequence number as key). It writes a timeline CSV and PNG, a per-kill CSV, and
 * one {@code RESULT kind=failover} line.
 */
@Command(name = "failover", description = "kill -9 the partition leader under steady load; time until produce succeeds again.")
final class Failover implements Callable<Integer> {
  @CommandLine.ParentCommand LogBench parent;
  @Option(names = "--topic", defaultValue = "failover") String topic;
  @Option(names = "--rate", defaultValue = "3000", description = "records/s") long rate;
  @Option(names = "--record-size", defaultValue = "100") int size;
  @Option(names = "--kills", defaultValue = "10") int kills;
  @Option(names = "--delivery", defaultValue = "AT_LEAST_ONCE") DeliveryMode delivery;
  @Option(names = "--cluster-dir", required = true, description = "data dir of scripts/cluster.sh (PID files, configs)")
  Path clusterDir;
  @Option(names = "--restart-command", required = true,
      description = "shell command that starts node {id} again, e.g. 'scripts/cluster.sh restart {id}'")
  String restartCommand;
  @Option(names = "--warmup-s", defaultValue = "5") int warmupS;
  @Option(names = "--tail-s", defaultValue = "5") int tailS;
  @Option(names = "--settle-ms", defaultValue = "2000", description = "wait after a node rejoined before the next kill")
  long settleMs;
  @Option(names = "--recovery-timeout-s", defaultValue = "60") int recoveryTimeoutS;
  @Option(names = "--rejoin-timeout-s", defaultValue = "120") int rejoinTimeoutS;
  @Option(names = "--window-ms", defaultValue = "250") long windowMs;
  @Option(names = "--timeline", description = "timeline CSV to write") Path timelineCsv;
  @Option(names = "--png", description = "timeline chart to write") Path png;
  @Option(names = "--kills-csv", description = "per-kill CSV to write") Path killsCsv;

  /** One kill and what followed it. */
  record Kill(int n, int node, long pid, double atS, double recoveryMs, int newLeader, double rejoinS, double inSyncS) {}

  private final BitSet acked = new BitSet();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong maxAckedOffset = new AtomicLong(-1);
  private volatile long killNs = Long.MAX_VALUE;
  private final AtomicLong recoveredNs = new AtomicLong();
  private volatile boolean stop;

  @Override
  public Integer call() throws Exception {
    if (rate <= 0 || kills < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--rate and --kills must be > 0");
    }
    ClusterProcesses cluster = new ClusterProcesses(clusterDir);
    try (Admin admin = Admin.create(parent.bootstrap, Duration.ofSeconds(10))) {
      admin.createTopic(topic, 1, 0);
      leaderOf(admin, 60);
    }
    Timeline timeline = new Timeline(System.nanoTime(), windowMs);
    ProducerConfig cfg = ProducerConfig.builder(parent.bootstrap).delivery(delivery).lingerMs(5)
        .deliveryTimeoutMs(TimeUnit.SECONDS.toMillis(Math.max(120, recoveryTimeoutS * 2L))).build();
    List<Kill> done = new ArrayList<>();
    Semaphore window = new Semaphore(200_000);
    try (Producer producer = new Producer(cfg)) {
      producer.send(new ProducerRecord(topic, 0, key(-1), LogBench.payload(size, 0))).get(60, TimeUnit.SECONDS);
      Thread sender = new Thread(() -> send(producer, timeline, window), "failover-sender");
      sender.start();
      try {
        TimeUnit.SECONDS.sleep(warmupS);
        for (int k = 1; k <= kills; k++) {
          done.add(killOnce(k, cluster, timeline));
        }
        TimeUnit.SECONDS.sleep(tailS);
      } finally {
        stop = true;
        sender.join(TimeUnit.SECONDS.toMillis(30));
      }
      producer.flush();
    }
    long sent;
    BitSet ackedCopy;
    synchronized (acked) {
      ackedCopy = (BitSet) acked.clone();
    }
    sent = ackedCopy.cardinality() + failed.get();
    long[] check = verify(ackedCopy);
    long lost = check[0];
    long duplicates = check[1];
    if (timelineCsv != null) {
      timeline.writeCsv(timelineCsv);
    }
    if (png != null) {
      TimelineChart.write(timeline, "failover: kill -9 of the partition leader at " + rate + " records/s", png);
    }
    if (killsCsv != null) {
      writeKills(done, killsCsv);
    }
    // A kill not recovered from within the timeout counts as longer than the timeout.
    double[] rec = done.stream().mapToDouble(k -> k.recoveryMs() >= 0 ? k.recoveryMs() : Double.POSITIVE_INFINITY)
        .sorted().toArray();
    long unrecovered = done.stream().filter(k -> k.recoveryMs() < 0).count();
    System.out.printf(Locale.ROOT, "RESULT kind=failover kills=%d rate=%d size=%d delivery=%s recovery_p50_ms=%s"
        + " recovery_p99_ms=%s recovery_max_ms=%s unrecovered=%d recovery_timeout_s=%d sent=%d acked=%d failed=%d"
        + " lost=%d duplicates=%d%n", done.size(), rate, size, delivery, ms(nearestRank(rec, 50)),
        ms(nearestRank(rec, 99)), ms(rec.length == 0 ? Double.NaN : rec[rec.length - 1]), unrecovered,
        recoveryTimeoutS, sent, ackedCopy.cardinality(), failed.get(), lost, duplicates);
    return lost == 0 && unrecovered == 0 && done.size() == kills ? 0 : 1;
  }

  private String ms(double v) {
    return Double.isInfinite(v) ? ">" + recoveryTimeoutS * 1000 : String.format(Locale.ROOT, "%.0f", v);
  }

  /** Nearest-rank percentile of sorted values (with 10 kills, p99 is the maximum). */
  static double nearestRank(double[] sorted, double pct) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(pct / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static byte[] key(long seq) {
    return ByteBuffer.allocate(Long.BYTES).putLong(seq).array();
  }

  /** The open-loop sender: record i is due at start + i / rate; a stalled producer is caught up afterwards. */
  private void send(Producer producer, Timeline timeline, Semaphore window) {
    long start = System.nanoTime();
    for (long seq = 0; !stop; seq++) {
      long due = start + seq * 1_000_000_000L / rate;
      long wait;
      while (!stop && (wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      try {
        while (!stop && !window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          // too many records unacknowledged: the producer is stalled
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (stop) {
        return;
      }
      final long s = seq;
      final long sendNs = System.nanoTime();
      try {
        producer.send(new ProducerRecord(topic, 0, key(s), LogBench.payload(size, s))).whenComplete((m, e) -> {
          long now = System.nanoTime();
          if (e == null) {
            timeline.ack(sendNs, now);
            synchronized (acked) {
              acked.set((int) s);
            }
            maxAckedOffset.accumulateAndGet(m.offset(), Math::max);
            if (sendNs >= killNs) {
              recoveredNs.compareAndSet(0, now);
            }
          } else {
            failed.incrementAndGet();
            timeline.failure(now);
          }
          window.release();
        });
      } catch (RuntimeException e) {
        failed.incrementAndGet();
        timeline.failure(System.nanoTime());
        window.release();
      }
    }
  }

  private Kill killOnce(int n, ClusterProcesses cluster, Timeline timeline) throws Exception {
    for (int id : cluster.nodeIds()) {
      if (cluster.process(id).isEmpty()) {
        // Killing a leader now would take a majority down: that measures something else.
        throw new IllegalStateException("node " + id + " is not running before kill " + n + "; see its logd.log");
      }
    }
    int leader;
    try (Admin admin = Admin.create(parent.bootstrap, Duration.ofSeconds(10))) {
      leader = leaderOf(admin, 60);
    }
    recoveredNs.set(0);
    long t0 = System.nanoTime();
    killNs = t0;
    long pid = cluster.kill9(leader);
    timeline.event(t0, "kill-n" + leader);
    long deadline = t0 + TimeUnit.SECONDS.toNanos(recoveryTimeoutS);
    while (recoveredNs.get() == 0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(5);
    }
    long rec = recoveredNs.get();
    double recoveryMs = rec == 0 ? -1 : (rec - t0) / 1e6;
    if (rec != 0) {
      timeline.event(rec, "recovered");
    }
    int newLeader = -1;
    try (Admin admin = Admin.create(parent.bootstrap, Duration.ofSeconds(10))) {
      newLeader = leaderOf(admin, 30);
    } catch (RuntimeException e) {
      System.err.println("no leader known after kill " + n + ": " + e);
    }
    long restartAt = System.nanoTime();
    ClusterProcesses.run(restartCommand, leader, 120);
    timeline.event(System.nanoTime(), "restarted-n" + leader);
    awaitRejoin(cluster, leader);
    long rejoined = System.nanoTime();
    timeline.event(rejoined, "rejoined-n" + leader);
    awaitInSync(leader);
    long inSync = System.nanoTime();
    Kill k = new Kill(n, leader, pid, timeline.seconds(t0), recoveryMs, newLeader, (rejoined - restartAt) / 1e9,
        (inSync - restartAt) / 1e9);
    System.err.printf(Locale.ROOT, "kill %d: node %d (pid %d) at %.1f s, produce recovered after %.0f ms,"
        + " new leader %d, rejoined %.1f s and in sync %.1f s after restart%n", n, leader, pid, k.atS(), recoveryMs,
        newLeader, k.rejoinS(), k.inSyncS());
    killNs = Long.MAX_VALUE;
    TimeUnit.MILLISECONDS.sleep(settleMs);
    return k;
  }

  /** The partition's leader as the cluster knows it, waiting up to {@code timeoutS} for one. */
  private int leaderOf(Admin admin, int timeoutS) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        PartitionInfo p = admin.describeTopic(topic).partitions().get(0);
        if (p.hasLeader()) {
          return p.leader();
        }
      } catch (RuntimeException e) {
        last = e;
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException("partition 0 of " + topic + " has no leader after " + timeoutS + " s", last);
  }

  /** Waits until the restarted node answers and its replica of the partition knows a leader. */
  private void awaitRejoin(ClusterProcesses cluster, int id) throws Exception {
    String address = cluster.clientAddress(id);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(rejoinTimeoutS);
    while (System.nanoTime() < deadline) {
      try (Admin admin = Admin.create(address, Duration.ofSeconds(2))) {
        if (admin.describeTopic(topic).partitions().get(0).hasLeader()) {
          return;
        }
      } catch (RuntimeException notYet) {
        // the node is still starting
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    throw new IllegalStateException("node " + id + " did not rejoin within " + rejoinTimeoutS + " s");
  }

  /** Waits until the partition's leader reports node {@code id}'s replica caught up (a voter near its commit index). */
  private void awaitInSync(int id) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(rejoinTimeoutS);
    try (Admin admin = Admin.create(parent.bootstrap, Duration.ofSeconds(5))) {
      while (System.nanoTime() < deadline) {
        try {
          boolean caughtUp = admin.describeReassignment(topic, 0).getProgressList().stream()
              .anyMatch(p -> p.getNodeId() == id && p.getRole().equals("VOTER") && p.getCaughtUp());
          if (caughtUp) {
            return;
          }
        } catch (RuntimeException notYet) {
          // no leader right now
        }
        TimeUnit.MILLISECONDS.sleep(250);
      }
    }
    throw new IllegalStateException("node " + id + "'s replica was not in sync within " + rejoinTimeoutS + " s");
  }

  /** Reads the partition from the start: {lost acked records, records read more than once}. */
  private long[] verify(BitSet ackedSeqs) {
    long until = maxAckedOffset.get();
    BitSet seen = new BitSet();
    long duplicates = 0;
    TopicPartition tp = new TopicPartition(topic, 0);
    try (Consumer c = new Consumer(ConsumerConfig.builder(parent.bootstrap).maxBytesPerFetch(4 * 1024 * 1024).build())) {
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long next = 0;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (next <= until && System.nanoTime() < deadline) {
        for (ConsumerRecord r : c.poll(Duration.ofMillis(500))) {
          next = Math.max(next, r.offset() + 1);
          long seq = ByteBuffer.wrap(r.key()).getLong();
          if (seq < 0) {
            continue;
          }
          if (seen.get((int) seq)) {
            duplicates++;
          }
          seen.set((int) seq);
        }
      }
      if (next <= until) {
        System.err.println("verify: read up to offset " + next + " of " + (until + 1) + " before the deadline");
      }
    }
    BitSet lost = (BitSet) ackedSeqs.clone();
    lost.andNot(seen);
    if (!lost.isEmpty()) {
      System.err.println("LOST acknowledged records, first sequence numbers: " + lost.stream().limit(20).boxed().toList());
    }
    return new long[] {lost.cardinality(), duplicates};
  }

  private static void writeKills(List<Kill> kills, Path file) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      w.println("kill,node,pid,t_kill_s,recovery_ms,new_leader,rejoin_after_restart_s,in_sync_after_restart_s");
      for (Kill k : kills) {
        w.printf(Locale.ROOT, "%d,%d,%d,%.3f,%.1f,%d,%.1f,%.1f%n", k.n(), k.node(), k.pid(), k.atS(), k.recoveryMs(),
            k.newLeader(), k.rejoinS(), k.inSyncS());
      }
    }
  }
}
