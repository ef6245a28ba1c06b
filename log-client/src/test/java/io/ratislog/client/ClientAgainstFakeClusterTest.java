package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Record;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Producer, consumer and admin against {@link FakeCluster}: leader hints, retries, CRC checks. */
class ClientAgainstFakeClusterTest {
  private FakeCluster cluster;

  @BeforeEach
  void start() throws Exception {
    cluster = new FakeCluster(3);
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private ProducerConfig.Builder producerConfig() {
    return ProducerConfig.builder(cluster.bootstrap(1)).channelFactory(cluster.channels()).lingerMs(1);
  }

  private ConsumerConfig.Builder consumerConfig() {
    return ConsumerConfig.builder(cluster.bootstrap(1)).channelFactory(cluster.channels()).maxWaitMs(100);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void producerFollowsNotLeaderHintAndRetries() throws Exception {
    cluster.createTopic("t", 1, 3); // real leader of partition 0: node 1
    cluster.topics.get("t").leader[0] = 2;
    cluster.reportedLeaderOverride = 1; // metadata claims node 1: it answers NOT_LEADER, leader=node 2
    // A linger far above the time the three sends take, so that they form one batch: with 1 ms, a slow moment split
    // them into two, and node 2 rightly got two calls (CI, 2026-12-03).
    try (Producer producer = new Producer(producerConfig().lingerMs(200).build())) {
      List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        fs.add(producer.send(new ProducerRecord("t", 0, null, utf8("v" + i))));
      }
      for (int i = 0; i < 3; i++) {
        assertEquals(new RecordMetadata("t", 0, i), fs.get(i).get(10, TimeUnit.SECONDS));
      }
      assertEquals(1, cluster.produceCalls.get(1).get(), "one NOT_LEADER answer from node 1");
      assertEquals(1, cluster.produceCalls.get(2).get(), "then the hinted leader, once");
      // The hint stuck in the cache: the next batch goes straight to node 2.
      assertEquals(3, producer.send(new ProducerRecord("t", 0, null, utf8("v3"))).get(10, TimeUnit.SECONDS).offset());
      assertEquals(1, cluster.produceCalls.get(1).get());
    }
    assertEquals(List.of("v0", "v1", "v2", "v3"), cluster.values("t", 0));
  }

  @Test
  void producerRetriesLeaderlessErrorsWithBackoff() throws Exception {
    cluster.createTopic("t", 1, 3);
    cluster.injected.get(1).addAll(List.of(ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.TIMEOUT));
    try (Producer producer = new Producer(producerConfig().build())) {
      long t0 = System.nanoTime();
      RecordMetadata md = producer.send(ProducerRecord.of("t", "x")).get(10, TimeUnit.SECONDS);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(0, md.offset());
      assertEquals(3, cluster.produceCalls.get(1).get());
      assertTrue(ms >= 50 + 100 - 10, "backed off 50 ms then 100 ms, took " + ms);
    }
  }

  @Test
  void producerWithoutHintRediscoversLeader() throws Exception {
    cluster.createTopic("t", 1, 3);
    cluster.topics.get("t").leader[0] = 3;
    cluster.reportedLeaderOverride = 1;
    cluster.withholdHints = true;
    try (Producer producer = new Producer(producerConfig().build())) {
      CompletableFuture<RecordMetadata> f = producer.send(ProducerRecord.of("t", "x"));
      Thread.sleep(300);
      cluster.reportedLeaderOverride = -1; // the metadata catches up
      assertEquals(0, f.get(10, TimeUnit.SECONDS).offset());
    }
  }

  @Test
  void producerPreservesPerPartitionOrderAcrossManyBatches() throws Exception {
    cluster.createTopic("t", 2, 3);
    cluster.injected.get(1).addAll(List.of(ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.INTERNAL_ERROR));
    List<String> expected0 = new ArrayList<>();
    List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
    try (Producer producer = new Producer(producerConfig().batchSizeBytes(64).lingerMs(0).build())) {
      for (int i = 0; i < 200; i++) {
        int p = i % 2;
        fs.add(producer.send(new ProducerRecord("t", p, null, utf8("v" + i))));
        if (p == 0) {
          expected0.add("v" + i);
        }
      }
      producer.flush();
      for (int i = 0; i < fs.size(); i++) {
        assertTrue(fs.get(i).isDone(), "flush waited for record " + i);
        assertEquals(i / 2, fs.get(i).get().offset());
      }
    }
    assertEquals(expected0, cluster.values("t", 0));
  }

  @Test
  void keyedRecordsLandOnTheKeysPartition() throws Exception {
    cluster.createTopic("t", 3, 3);
    try (Producer producer = new Producer(producerConfig().build())) {
      RecordMetadata md = producer.send(new ProducerRecord("t", utf8("user-42"), utf8("x"))).get(10, TimeUnit.SECONDS);
      assertEquals(Partitioner.partitionForKey(utf8("user-42"), 3), md.partition());
    }
  }

  @Test
  void unknownTopicFailsAfterGracePeriod() {
    try (Producer producer = new Producer(producerConfig().unknownTopicRetryMs(300).build())) {
      CompletableFuture<RecordMetadata> f = producer.send(ProducerRecord.of("nope", "x"));
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
      assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ((RatislogException) e.getCause()).code());
      CompletableFuture<RecordMetadata> g = producer.send(new ProducerRecord("nope", 7, null, utf8("x")));
      assertThrows(ExecutionException.class, () -> g.get(1, TimeUnit.SECONDS), "fails fast now");
    }
  }

  @Test
  void topicCreatedDuringGracePeriodIsFound() throws Exception {
    try (Producer producer = new Producer(producerConfig().unknownTopicRetryMs(5_000).build())) {
      CompletableFuture.runAsync(() -> {
        try {
          Thread.sleep(300);
        } catch (InterruptedException ignored) {
          // ignored
        }
        cluster.createTopic("late", 1, 3);
      });
      assertEquals(0, producer.send(ProducerRecord.of("late", "x")).get(10, TimeUnit.SECONDS).offset());
    }
  }

  @Test
  void deliveryTimeoutFailsTheFutures() {
    cluster.createTopic("t", 1, 3);
    // Every node refuses: which one the last retry reached depends on how many retries fit the timeout.
    for (int node = 1; node <= 3; node++) {
      for (int i = 0; i < 1000; i++) {
        cluster.injected.get(node).add(ErrorCode.LEADER_NOT_AVAILABLE);
      }
    }
    try (Producer producer = new Producer(producerConfig().deliveryTimeoutMs(600).build())) {
      CompletableFuture<RecordMetadata> f = producer.send(ProducerRecord.of("t", "x"));
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
      RatislogException re = (RatislogException) e.getCause();
      assertEquals(ErrorCode.TIMEOUT, re.code());
      assertTrue(re.getMessage().contains("last error: LEADER_NOT_AVAILABLE"), re.getMessage());
    }
  }

  @Test
  void producerFailsOverToAnotherBootstrapNode() throws Exception {
    cluster.createTopic("t", 1, 3);
    cluster.topics.get("t").leader[0] = 2;
    cluster.stop(1);
    ProducerConfig cfg = ProducerConfig.builder(cluster.bootstrap(1, 2)).channelFactory(cluster.channels()).build();
    try (Producer producer = new Producer(cfg)) {
      assertEquals(0, producer.send(ProducerRecord.of("t", "x")).get(10, TimeUnit.SECONDS).offset());
    }
  }

  @Test
  void consumerSkipsRecordsBelowPositionAndFollowsHint() {
    cluster.createTopic("t", 1, 3);
    cluster.topics.get("t").leader[0] = 3;
    cluster.reportedLeaderOverride = 2; // stale: node 2 answers NOT_LEADER with node 3
    cluster.appendValues("t", 0, "a", "b", "c", "d", "e");
    TopicPartition tp = new TopicPartition("t", 0);
    try (Consumer consumer = new Consumer(consumerConfig().build())) {
      consumer.assign(List.of(tp));
      consumer.seek(tp, 2);
      List<ConsumerRecord> rs = pollUntil(consumer, 3);
      assertEquals(List.of(2L, 3L, 4L), rs.stream().map(ConsumerRecord::offset).toList());
      assertEquals(List.of("c", "d", "e"), rs.stream().map(ConsumerRecord::valueAsString).toList());
      assertEquals(5, consumer.position(tp));
      assertTrue(cluster.fetchCalls.get(2).get() >= 1);
      assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty(), "nothing new");
      cluster.appendValues("t", 0, "f");
      assertEquals(List.of("f"), pollUntil(consumer, 1).stream().map(ConsumerRecord::valueAsString).toList());
    }
  }

  @Test
  void consumerRejectsBatchWithBadCrc() {
    cluster.createTopic("t", 1, 3);
    cluster.appendValues("t", 0, "a", "b");
    RecordCodec.Encoded enc = RecordCodec.encode(List.of(
        Record.newBuilder().setValue(ByteString.copyFromUtf8("c")).build()));
    cluster.appendRaw("t", 0, enc.bytes(), enc.crc32c() ^ 1, 1);
    TopicPartition tp = new TopicPartition("t", 0);
    try (Consumer consumer = new Consumer(consumerConfig().build())) {
      consumer.assign(List.of(tp));
      consumer.seek(tp, 2);
      RatislogException e = assertThrows(RatislogException.class, () -> pollUntil(consumer, 1));
      assertEquals(ErrorCode.CORRUPT_BATCH, e.code());
      assertEquals(2, consumer.position(tp), "position stays at the corrupt batch");
      assertThrows(RatislogException.class, () -> pollUntil(consumer, 1), "never skipped silently");
      consumer.seek(tp, 0);
      // The good batch before it comes back first; the corrupt one is reported by the next poll.
      assertEquals(List.of("a", "b"), pollUntil(consumer, 2).stream().map(ConsumerRecord::valueAsString).toList());
      assertEquals(2, consumer.position(tp));
      RatislogException again = assertThrows(RatislogException.class, () -> consumer.poll(Duration.ofSeconds(5)));
      assertEquals(ErrorCode.CORRUPT_BATCH, again.code());
    }
  }

  @Test
  void consumerStartsAtBeginningByDefaultAndSeeksToEnd() {
    cluster.createTopic("t", 2, 3);
    cluster.appendValues("t", 0, "a", "b");
    cluster.appendValues("t", 1, "x");
    TopicPartition p0 = new TopicPartition("t", 0);
    TopicPartition p1 = new TopicPartition("t", 1);
    try (Consumer consumer = new Consumer(consumerConfig().build())) {
      assertEquals(List.of(p0, p1), consumer.partitionsFor("t"));
      consumer.assign(List.of(p0, p1));
      List<ConsumerRecord> rs = pollUntil(consumer, 3);
      assertEquals(3, rs.size());
      consumer.seekToEnd(List.of(p0, p1));
      assertEquals(2, consumer.position(p0));
      assertEquals(1, consumer.position(p1));
      consumer.seekToBeginning(List.of(p0));
      assertEquals(List.of("a", "b"), pollUntil(consumer, 2).stream().map(ConsumerRecord::valueAsString).toList());
    }
  }

  @Test
  void consumerOffsetOutOfRange() {
    cluster.createTopic("t", 1, 3);
    cluster.appendValues("t", 0, "a", "b");
    TopicPartition tp = new TopicPartition("t", 0);
    try (Consumer none = new Consumer(consumerConfig().autoOffsetReset(AutoOffsetReset.NONE).build())) {
      none.assign(List.of(tp));
      none.seek(tp, 10);
      RatislogException e = assertThrows(RatislogException.class, () -> pollUntil(none, 1));
      assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, e.code());
    }
    try (Consumer earliest = new Consumer(consumerConfig().build())) {
      earliest.assign(List.of(tp));
      earliest.seek(tp, 10);
      assertEquals(List.of("a", "b"), pollUntil(earliest, 2).stream().map(ConsumerRecord::valueAsString).toList());
    }
  }

  @Test
  void pollHonoursItsTimeout() {
    cluster.createTopic("t", 1, 3);
    try (Consumer consumer = new Consumer(consumerConfig().maxWaitMs(500).build())) {
      consumer.assign(List.of(new TopicPartition("t", 0)));
      long t0 = System.nanoTime();
      assertTrue(consumer.poll(Duration.ofMillis(150)).isEmpty());
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms >= 140 && ms < 1000, "took " + ms);
    }
  }

  @Test
  void adminRoundTripAndFailover() {
    cluster.stop(1);
    try (Admin admin = Admin.create(cluster.bootstrap(1, 2), Duration.ofSeconds(10), cluster.channels())) {
      TopicDescription t = admin.createTopic("orders", 3, 2);
      assertEquals(3, t.partitionCount());
      assertEquals(2, t.replicationFactor());
      RatislogException dup = assertThrows(RatislogException.class, () -> admin.createTopic("orders", 3, 2));
      assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS, dup.code());
      assertEquals(List.of("orders"), admin.listTopics().stream().map(TopicDescription::name).toList());
      TopicDescription d = admin.describeTopic("orders");
      assertEquals(List.of(2, 3), d.partitions().get(1).replicas());
      assertEquals(2, d.partitions().get(1).leader());
      assertEquals(3, admin.describeCluster().getNodesCount());
      admin.deleteTopic("orders");
      RatislogException gone = assertThrows(RatislogException.class, () -> admin.describeTopic("orders"));
      assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, gone.code());
    }
  }

  @Test
  void adminGivesUpWhenNoNodeIsReachable() {
    cluster.close();
    try (Admin admin = Admin.create(cluster.bootstrap(1, 2), Duration.ofMillis(500), cluster.channels())) {
      long t0 = System.nanoTime();
      RatislogException e = assertThrows(RatislogException.class, admin::describeCluster);
      assertEquals("UNAVAILABLE", e.codeName());
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 3000);
    }
  }

  static List<ConsumerRecord> pollUntil(Consumer consumer, int n) {
    List<ConsumerRecord> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (out.size() < n && System.nanoTime() < deadline) {
      out.addAll(consumer.poll(Duration.ofMillis(500)));
    }
    return out;
  }
}
