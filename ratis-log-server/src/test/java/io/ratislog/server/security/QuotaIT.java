package io.ratislog.server.security;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ChannelFactory;
import io.ratislog.client.ClientSecurity;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.TopicPartition;
import io.ratislog.server.MiniCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quotas are answered with a throttle time, not errors, and the client's pause makes the rate converge: a producer
 * limited to N bytes/s achieves about N (batches of B bytes: one every B/N s, as long as a round trip is shorter), and a consumer limited to M bytes/s reads about M, while an unlimited
 * principal on the same node is not held back.
 */
class QuotaIT {
  private static final long PRODUCE_RATE = 200_000;
  private static final long FETCH_RATE = 150_000;
  private static final int RECORD = 1_000;

  @TempDir Path dir;

  @Test
  void throttledPrincipalsConvergeOnTheirRates() throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "slow:slow-token\nfast:fast-token\n");
    Properties p = new Properties();
    p.setProperty("auth.token.file", tokens.toString());
    p.setProperty("quota.principal.slow.produce.bytes.per.sec", String.valueOf(PRODUCE_RATE));
    p.setProperty("quota.principal.slow.fetch.bytes.per.sec", String.valueOf(FETCH_RATE));
    ChannelFactory slow = ChannelFactory.secure(ClientSecurity.NONE.withToken("slow-token"));
    ChannelFactory fast = ChannelFactory.secure(ClientSecurity.NONE.withToken("fast-token"));
    try (MiniCluster c = new MiniCluster(dir.resolve("data"), 1, p).startAll()) {
      SecureClusters.awaitMetadataLeader(c);
      try (Admin a = Admin.create(c.bootstrap(), Duration.ofSeconds(60), fast)) {
        SecureClusters.createTopic(a, "q", 1, 1);
      }
      double slowRate = produceRate(c.bootstrap(), slow, 5);
      double fastRate = produceRate(c.bootstrap(), fast, 3);
      System.out.printf("quota %d B/s: throttled producer %.0f B/s, unthrottled %.0f B/s%n", PRODUCE_RATE, slowRate, fastRate);
      assertTrue(slowRate > 0.6 * PRODUCE_RATE && slowRate < 1.4 * PRODUCE_RATE,
          "a producer limited to " + PRODUCE_RATE + " B/s achieved " + slowRate);
      assertTrue(fastRate > 1.5 * PRODUCE_RATE, "an unlimited producer is not held back: " + fastRate + " B/s");

      double readRate = fetchRate(c.bootstrap(), slow, 5);
      System.out.printf("quota %d B/s: throttled consumer %.0f B/s%n", FETCH_RATE, readRate);
      assertTrue(readRate > 0.6 * FETCH_RATE && readRate < 1.4 * FETCH_RATE,
          "a consumer limited to " + FETCH_RATE + " B/s read " + readRate);
    }
  }

  /** Produces as fast as the client allows; the acknowledged bytes per second after a 1 s warm-up (the burst). */
  private static double produceRate(String bs, ChannelFactory channels, int seconds) throws Exception {
    AtomicLong acked = new AtomicLong();
    AtomicLong ackedAtStart = new AtomicLong(-1);
    byte[] value = new byte[RECORD];
    try (Producer producer = new Producer(ProducerConfig.builder(bs).lingerMs(5).batchSizeBytes(64 * 1024)
        .bufferMemoryBytes(256 * 1024).delivery(DeliveryMode.AT_LEAST_ONCE).channelFactory(channels).build())) {
      long start = System.nanoTime();
      long measureFrom = start + TimeUnit.SECONDS.toNanos(1);
      long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        if (ackedAtStart.get() < 0 && System.nanoTime() >= measureFrom) {
          ackedAtStart.set(acked.get());
        }
        producer.send(new ProducerRecord("q", null, value)).thenRun(() -> acked.addAndGet(RECORD));
      }
      long measured = acked.get() - Math.max(0, ackedAtStart.get());
      return measured / (double) seconds;
    }
  }

  /** Reads the topic from the start; bytes per second after a 1 s warm-up. */
  private static double fetchRate(String bs, ChannelFactory channels, int seconds) {
    try (Consumer consumer = new Consumer(ConsumerConfig.builder(bs).maxBytesPerFetch(16 * 1024).maxWaitMs(100)
        .channelFactory(channels).build())) {
      TopicPartition tp = new TopicPartition("q", 0);
      consumer.assign(List.of(tp));
      consumer.seek(tp, 0);
      long start = System.nanoTime();
      long measureFrom = start + TimeUnit.SECONDS.toNanos(1);
      long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
      long bytes = 0;
      while (System.nanoTime() < end) {
        List<ConsumerRecord> got = consumer.poll(Duration.ofMillis(100));
        if (System.nanoTime() >= measureFrom) {
          for (ConsumerRecord r : got) {
            bytes += r.value().length;
          }
        }
      }
      return bytes / (double) seconds;
    }
  }
}
