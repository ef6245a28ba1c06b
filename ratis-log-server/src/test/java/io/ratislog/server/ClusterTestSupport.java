package io.ratislog.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.ratislog.client.Admin;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.GroupIds;
import io.ratislog.server.storage.StoredBatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.apache.ratis.server.RaftServer;

/** Helpers shared by the integration tests: producing, reading back, and looking inside replicas. */
final class ClusterTestSupport {
  private ClusterTestSupport() {
  }

  static Producer producer(MiniCluster c) {
    return new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(2).deliveryTimeoutMs(60_000).build());
  }

  static Consumer consumer(MiniCluster c) {
    return new Consumer(ConsumerConfig.builder(c.bootstrap()).maxWaitMs(200).build());
  }

  /** Sends {@code count} records valued prefix-i and waits for every acknowledgement. */
  static Map<String, RecordMetadata> produceAll(Producer p, String topic, String prefix, int count) throws Exception {
    List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String v = prefix + "-" + i;
      futures.add(p.send(new ProducerRecord(topic, ("k" + i).getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8))));
    }
    Map<String, RecordMetadata> acked = new HashMap<>();
    for (int i = 0; i < count; i++) {
      acked.put(prefix + "-" + i, futures.get(i).get(90, TimeUnit.SECONDS));
    }
    return acked;
  }

  /** Reads every partition of the topic from the beginning until {@code expected} records arrived (bounded in time). */
  static List<ConsumerRecord> readAll(MiniCluster c, String topic, int partitions, int expected) {
    return readFromBeginning(c, topic, partitions, 60_000, out -> out.size() >= expected);
  }

  /** Reads every partition from the beginning until no new record arrived for {@code idleMs} (bounded at 60 s). */
  static List<ConsumerRecord> readUntilIdle(MiniCluster c, String topic, int partitions, long idleMs) {
    long[] lastNew = {System.nanoTime()};
    int[] seen = {0};
    return readFromBeginning(c, topic, partitions, 60_000, out -> {
      if (out.size() > seen[0]) {
        seen[0] = out.size();
        lastNew[0] = System.nanoTime();
      }
      return System.nanoTime() - lastNew[0] >= TimeUnit.MILLISECONDS.toNanos(idleMs);
    });
  }

  private static List<ConsumerRecord> readFromBeginning(MiniCluster c, String topic, int partitions, long limitMs,
                                                        java.util.function.Predicate<List<ConsumerRecord>> done) {
    try (Consumer consumer = consumer(c)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      List<ConsumerRecord> out = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
      while (!done.test(out) && System.nanoTime() < deadline) {
        out.addAll(consumer.poll(Duration.ofMillis(200)));
      }
      return out;
    }
  }

  /** Every acknowledged record is read back at exactly the offset its acknowledgement named. */
  static void assertAllAckedReadAtTheirOffsets(Map<String, RecordMetadata> acked, List<ConsumerRecord> read) {
    Map<String, ConsumerRecord> byPosition = new HashMap<>();
    for (ConsumerRecord r : read) {
      ConsumerRecord previous = byPosition.put(r.partition() + "@" + r.offset(), r);
      if (previous != null) {
        fail("offset " + r.partition() + "@" + r.offset() + " was read twice");
      }
    }
    for (Map.Entry<String, RecordMetadata> e : acked.entrySet()) {
      ConsumerRecord r = byPosition.get(e.getValue().partition() + "@" + e.getValue().offset());
      if (r == null) {
        fail("acknowledged record " + e.getKey() + " at " + e.getValue() + " was never read (lost)");
      }
      assertEquals(e.getKey(), r.valueAsString(), "record at " + e.getValue());
    }
  }

  /** Per partition, offsets start at 0 and have no gaps. */
  static void assertContiguous(List<ConsumerRecord> read) {
    Map<Integer, List<Long>> offsets = new HashMap<>();
    for (ConsumerRecord r : read) {
      offsets.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset());
    }
    offsets.forEach((p, list) -> {
      list.sort(Long::compare);
      for (int i = 0; i < list.size(); i++) {
        assertEquals(i, list.get(i), "partition " + p + " offsets must be 0..n-1 without gaps");
      }
    });
  }

  static void await(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(50);
    }
    fail("timed out after " + timeoutMs + " ms waiting for " + what);
  }

  /** The running node that leads the metadata group now, or -1. */
  static int metadataLeader(MiniCluster c) {
    for (int id : c.ids()) {
      if (!c.isRunning(id)) {
        continue;
      }
      try {
        if (c.node(id).raftServer().getDivision(GroupIds.metadata()).getInfo().isLeader()) {
          return id;
        }
      } catch (java.io.IOException e) {
        // not up
      }
    }
    return -1;
  }

  /** The node that leads the partition now, or -1. */
  static int leaderOf(MiniCluster c, String topic, int partition) {
    for (int id : c.ids()) {
      if (!c.isRunning(id)) {
        continue;
      }
      RaftServer.Division d = division(c, id, topic, partition);
      if (d != null && d.getInfo().isLeader()) {
        return id;
      }
    }
    return -1;
  }

  static RaftServer.Division division(MiniCluster c, int node, String topic, int partition) {
    LogNode n = c.node(node);
    if (n == null) {
      return null;
    }
    TopicRecord t = n.metadata().topic(topic).orElse(null);
    if (t == null) {
      return null;
    }
    try {
      return n.raftServer().getDivision(GroupIds.partition(t.getTopicId(), partition));
    } catch (IOException e) {
      return null;
    }
  }

  static PartitionStateMachine replica(MiniCluster c, int node, String topic, int partition) {
    RaftServer.Division d = division(c, node, topic, partition);
    return d == null ? null : (PartitionStateMachine) d.getStateMachine();
  }

  /** Every batch a replica stores, read straight from its segments. */
  static List<StoredBatch> allBatches(PartitionStateMachine sm) throws IOException {
    List<StoredBatch> out = new ArrayList<>();
    long offset = sm.logStartOffset();
    while (offset < sm.logEndOffset()) {
      List<StoredBatch> batch = sm.read(offset, 1 << 20);
      out.addAll(batch);
      offset = batch.get(batch.size() - 1).nextOffset();
    }
    return out;
  }

  static Admin admin(MiniCluster c) {
    return Admin.create(c.bootstrap());
  }

  /** A Produce request of an at-least-once producer, framed as the client frames a batch. */
  static ProduceRequest.Builder batch(String topic, int partition, ByteString records, int count) {
    CRC32C crc = new CRC32C();
    crc.update(records.asReadOnlyByteBuffer());
    return ProduceRequest.newBuilder().setTopic(topic).setPartition(partition).setRecords(records)
        .setCrc32C((int) crc.getValue()).setRecordCount(count).setProducerId(-1);
  }

  /** {@code n} records of {@code valueBytes} zero bytes each, as a batch's record set. */
  static ByteString records(int n, int valueBytes) {
    RecordSet.Builder b = RecordSet.newBuilder();
    for (int i = 0; i < n; i++) {
      b.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(new byte[valueBytes])));
    }
    return b.build().toByteString();
  }
}
