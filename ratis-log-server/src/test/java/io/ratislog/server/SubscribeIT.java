package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.Subscription;
import io.ratislog.client.TopicPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push consumption: contiguous delivery, live tail, credit-bounded buffering, and resumption after failover. */
class SubscribeIT {
  @TempDir Path dir;

  private static List<ConsumerRecord> take(Subscription s, int n) {
    List<ConsumerRecord> got = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (got.size() < n && System.nanoTime() < deadline) {
      got.addAll(s.poll(Duration.ofMillis(200), n - got.size()));
    }
    return got;
  }

  private static void assertContiguousFrom(long first, List<ConsumerRecord> records) {
    for (int i = 0; i < records.size(); i++) {
      assertEquals(first + i, records.get(i).offset(), "pushed offsets are contiguous");
    }
  }

  @Test
  void pushesCommittedRecordsWithinCreditsAndSurvivesFailover() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(1).batchSizeBytes(512).build())) {
      admin.createTopic("feed", 1, 3);
      Map<String, RecordMetadata> acked = produceAll(producer, "feed", "a", 2000);

      try (Subscription s = new Subscription(c.bootstrap(), new TopicPartition("feed", 0), 0, 100)) {
        // Nobody takes records: the server stops once the window (plus at most one batch) is pushed.
        Thread.sleep(1_500);
        assertTrue(s.buffered() >= 50 && s.buffered() <= 100 + 64, "buffered " + s.buffered() + " of a 100-record window");

        List<ConsumerRecord> got = take(s, 2000);
        assertEquals(2000, got.size());
        assertContiguousFrom(0, got);
        for (ConsumerRecord r : got) {
          assertEquals(r.offset(), acked.get(r.valueAsString()).offset());
        }

        // Live tail: records produced now are pushed as they commit.
        acked.putAll(produceAll(producer, "feed", "b", 300));
        List<ConsumerRecord> live = take(s, 300);
        assertEquals(300, live.size());
        assertContiguousFrom(2000, live);

        // The leader dies mid-stream: the subscription resumes at the new leader, no gap, no repeat.
        int leader = leaderOf(c, "feed", 0);
        c.stop(leader);
        acked.putAll(produceAll(producer, "feed", "c", 500));
        List<ConsumerRecord> after = take(s, 500);
        assertEquals(500, after.size());
        assertContiguousFrom(2300, after);
        for (ConsumerRecord r : after) {
          assertEquals(acked.get(r.valueAsString()).offset(), r.offset());
        }
      }
    }
  }
}
