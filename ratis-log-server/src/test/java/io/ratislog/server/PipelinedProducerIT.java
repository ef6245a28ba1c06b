package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once with several batches of a partition in flight: small batches, five in flight, and the leader
 * stopped in the middle. Every send must succeed, and the log must hold every record once, in send order.
 */
class PipelinedProducerIT {
  @TempDir Path dir;

  @Test
  void fiveBatchesInFlightKeepSendOrderAndNoDuplicateAcrossAFailover() throws Exception {
    int total = 6000;
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); Admin admin = admin(c)) {
      admin.createTopic("orders", 1, 3);
      await("a leader", 30_000, () -> leaderOf(c, "orders", 0) > 0);
      ProducerConfig cfg = ProducerConfig.builder(c.bootstrap()).delivery(DeliveryMode.EXACTLY_ONCE)
          .maxInFlightPerPartition(5).batchSizeBytes(2048).lingerMs(1).deliveryTimeoutMs(120_000).build();
      List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
      int stopped = -1;
      try (Producer p = new Producer(cfg)) {
        for (int i = 0; i < total; i++) {
          sent.add(p.send(new ProducerRecord("orders", 0, null, ("r" + i).getBytes(StandardCharsets.UTF_8))));
          if (i == total / 3) {
            stopped = leaderOf(c, "orders", 0);
            assertTrue(stopped > 0, "partition has a leader");
            c.stop(stopped);
          }
          if (i % 200 == 0) {
            Thread.sleep(5); // keep the load spread over the failover
          }
        }
        p.flush();
        long previous = -1;
        for (CompletableFuture<RecordMetadata> f : sent) {
          long offset = f.get(120, TimeUnit.SECONDS).offset();
          assertTrue(offset > previous, "acknowledged offsets follow send order");
          previous = offset;
        }
      }
      c.start(stopped);
      List<ConsumerRecord> read = readAll(c, "orders", 1, total);
      assertEquals(total, read.size(), "every record once");
      for (int i = 0; i < total; i++) {
        assertEquals("r" + i, new String(read.get(i).value(), StandardCharsets.UTF_8), "record at offset " + i);
      }
      assertContiguous(read);
    }
  }
}
