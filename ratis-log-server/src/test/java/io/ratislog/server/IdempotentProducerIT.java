package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.RecordMetadata;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Responses lost after the write, leaders killed between apply and ack, every node restarted while a retry
 * is pending: an EXACTLY_ONCE producer's records are each in the log once; an AT_LEAST_ONCE producer's may
 * be twice.
 */
class IdempotentProducerIT {
  @TempDir Path dir;

  private static Producer producer(MiniCluster c, DeliveryMode mode) {
    // Small batches: many Produce calls, so that the losses land in the middle of the run.
    return new Producer(ProducerConfig.builder(c.bootstrap()).delivery(mode).lingerMs(1).batchSizeBytes(256)
        .requestTimeoutMs(3_000).deliveryTimeoutMs(90_000).build());
  }

  private static Map<String, Integer> countValues(List<ConsumerRecord> read) {
    Map<String, Integer> counts = new HashMap<>();
    read.forEach(r -> counts.merge(r.valueAsString(), 1, Integer::sum));
    return counts;
  }

  private static MiniCluster cluster(Path dir, Properties props, AtomicInteger skip, AtomicInteger toLose,
                                     AtomicInteger lost, IntConsumer onLoss) throws Exception {
    MiniCluster c = new MiniCluster(dir, 3, props);
    for (int id : c.ids()) {
      c.intercept(id, new ResponseLoss(id, skip, toLose, lost, onLoss));
    }
    return c.startAll();
  }

  @Test
  void lostResponsesAreDeduplicatedOnlyInExactlyOnceMode() throws Exception {
    AtomicInteger skip = new AtomicInteger(5);
    AtomicInteger toLose = new AtomicInteger(0);
    AtomicInteger lost = new AtomicInteger();
    try (MiniCluster c = cluster(dir, new Properties(), skip, toLose, lost, id -> { })) {
      try (Admin admin = admin(c)) {
        admin.createTopic("eo", 2, 3);
        admin.createTopic("alo", 2, 3);
      }
      toLose.set(10);
      Map<String, RecordMetadata> acked;
      try (Producer p = producer(c, DeliveryMode.EXACTLY_ONCE)) {
        acked = produceAll(p, "eo", "eo", 400);
      }
      assertEquals(10, lost.get(), "responses lost while producing exactly-once");
      List<ConsumerRecord> read = readAll(c, "eo", 2, 400);
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
      assertEquals(400, read.size(), "exactly once: every retried batch was recognised");
      countValues(read).forEach((v, n) -> assertEquals(1, n, v + " written " + n + " times"));

      skip.set(5);
      toLose.set(10);
      try (Producer p = producer(c, DeliveryMode.AT_LEAST_ONCE)) {
        acked = produceAll(p, "alo", "alo", 400);
      }
      assertEquals(20, lost.get());
      read = readUntilIdle(c, "alo", 2, 2_000);
      Map<String, Integer> counts = countValues(read);
      assertEquals(400, counts.size(), "at least once: nothing acknowledged is lost");
      assertTrue(read.size() > 400, "at least once: the retried batches were written twice (" + read.size() + " records)");
      assertTrue(counts.values().stream().allMatch(n -> n >= 1));
    }
  }

  @Test
  void leaderKilledBetweenApplyAndAckStillExactlyOnce() throws Exception {
    AtomicInteger skip = new AtomicInteger(8);
    AtomicInteger toLose = new AtomicInteger(1);
    AtomicInteger lost = new AtomicInteger();
    MiniCluster[] holder = new MiniCluster[1];
    IntConsumer killNode = id -> new Thread(() -> {
      try {
        holder[0].stop(id);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "kill-" + id).start();
    try (MiniCluster c = cluster(dir, new Properties(), skip, toLose, lost, killNode)) {
      holder[0] = c;
      try (Admin admin = admin(c)) {
        admin.createTopic("pay", 1, 3);
      }
      Map<String, RecordMetadata> acked;
      try (Producer p = producer(c, DeliveryMode.EXACTLY_ONCE)) {
        acked = produceAll(p, "pay", "pay", 300);
      }
      assertEquals(1, lost.get());
      assertEquals(2, c.ids().stream().filter(c::isRunning).count(), "the leader that lost the ack was killed");
      List<ConsumerRecord> read = readAll(c, "pay", 1, 300);
      assertEquals(300, read.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
    }
  }

  @Test
  void dedupSurvivesARestartOfEveryNodeWhileARetryIsPending() throws Exception {
    Properties props = new Properties();
    props.setProperty("snapshot.threshold.entries", "16");
    AtomicInteger skip = new AtomicInteger(20);
    AtomicInteger toLose = new AtomicInteger(1);
    AtomicInteger lost = new AtomicInteger();
    MiniCluster[] holder = new MiniCluster[1];
    // Joined before the cluster closes: a node it started after the close kept writing into the test's directory
    // while JUnit deleted it (CI: "Failed to delete temp directory").
    Thread[] restarter = new Thread[1];
    IntConsumer restartAll = id -> (restarter[0] = new Thread(() -> {
      try {
        for (int n : holder[0].ids()) {
          holder[0].stop(n);
        }
        for (int n : holder[0].ids()) {
          holder[0].start(n);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "restart-all")).start();
    try (MiniCluster c = cluster(dir, props, skip, toLose, lost, restartAll)) {
      holder[0] = c;
      try (Admin admin = admin(c)) {
        admin.createTopic("orders", 1, 3);
      }
      Map<String, RecordMetadata> acked;
      try (Producer p = producer(c, DeliveryMode.EXACTLY_ONCE)) {
        acked = produceAll(p, "orders", "o", 600);
      }
      assertEquals(1, lost.get());
      restarter[0].join(120_000);
      assertFalse(restarter[0].isAlive(), "the restart of every node finished");
      List<ConsumerRecord> read = readAll(c, "orders", 1, 600);
      assertEquals(600, read.size(), "the batch retried after the restart was recognised from the snapshot and the replayed log");
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
    }
  }
}
