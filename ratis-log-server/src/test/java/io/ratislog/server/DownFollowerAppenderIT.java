package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader's log appender for a follower that is down waits for the next heartbeat or the next entry; it does not
 * spin. Ratis' gRPC appender recomputes its wait in a loop, and with no connection to the follower and nothing new to
 * send its wait came out as the appender's minimum wait, which ratislog sets to zero: every group led on a node then
 * kept one thread busy for as long as a follower was down. In the failover benchmark, where a dead node's dozen
 * groups changed leader at once, those threads took most of the survivors' two cores and slowed the new leaders'
 * first commits from ~0.2 s to 1.3-1.8 s.
 */
class DownFollowerAppenderIT {
  private static final int PARTITIONS = 9;
  /** The appenders' CPU over the window is compared with this share of it; a spinning one takes most of a core. */
  private static final double MAX_SHARE = 0.15;
  /** Measured from the stop to this long after every group has a leader again (the spin lasted several seconds). */
  private static final long WINDOW_MS = 3_000;

  @TempDir Path dir;

  @Test
  void appendersForAFollowerThatStoppedIdleUntilTheNextHeartbeat() throws Exception {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    if (!threads.isThreadCpuTimeSupported()) {
      throw new IllegalStateException("this JVM cannot measure thread CPU time; the test needs it");
    }
    threads.setThreadCpuTimeEnabled(true);
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = producer(c)) {
      admin.createTopic("events", PARTITIONS, 3);
      produceAll(producer, "events", "a", 10 * PARTITIONS);
      int stopped = c.ids().get(2);
      String toStopped = "->" + stopped + "-";
      Map<Long, Long> before = appenderCpuNanos(threads, toStopped);
      long start = System.nanoTime();
      c.stop(stopped); // the groups it led elect new leaders among the survivors, with appenders for it
      await("every group led by a survivor", 60_000, () -> metadataLeader(c) > 0
          && IntStream.range(0, PARTITIONS).allMatch(p -> leaderOf(c, "events", p) > 0));
      TimeUnit.MILLISECONDS.sleep(WINDOW_MS);
      Map<Long, Long> after = appenderCpuNanos(threads, toStopped);
      double windowNanos = System.nanoTime() - start;

      assertTrue(after.size() >= PARTITIONS + 1,
          "appenders for the stopped node, one per group the survivors lead: " + after.size());
      long used = 0;
      for (Map.Entry<Long, Long> e : after.entrySet()) {
        used += e.getValue() - before.getOrDefault(e.getKey(), 0L);
      }
      assertTrue(used < MAX_SHARE * windowNanos, String.format(
          "the %d appenders for stopped node %d used %.0f ms of CPU in %.0f ms", after.size(), stopped, used / 1e6,
          windowNanos / 1e6));
      assertEquals(10 * PARTITIONS, produceAll(producer, "events", "b", 10 * PARTITIONS).size(),
          "the survivors still take records");
    }
  }

  /** CPU time by thread id of this JVM's log appender threads whose name holds {@code toPeer}. */
  private static Map<Long, Long> appenderCpuNanos(ThreadMXBean threads, String toPeer) {
    Map<Long, Long> cpu = new HashMap<>();
    for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (t != null && t.getThreadName().contains(toPeer) && t.getThreadName().contains("LogAppender")) {
        long ns = threads.getThreadCpuTime(t.getThreadId());
        if (ns >= 0) {
          cpu.put(t.getThreadId(), ns);
        }
      }
    }
    return cpu;
  }
}
