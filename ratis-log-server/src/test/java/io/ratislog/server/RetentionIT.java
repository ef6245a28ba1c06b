package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.ratislog.client.Admin;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.FetchResponse;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.server.partition.PartitionStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a real 3-node cluster: configs are validated at create and alter; after {@code logctl topic alter
 * --config retention.bytes=...} the leader proposes a retention entry and every replica deletes the same whole
 * segment files and moves its log start to the same offset; fetches below it get OFFSET_OUT_OF_RANGE with the
 * log start, consumers from the earliest offset begin there, and the log start survives a restart.
 */
class RetentionIT {
  private static final String TOPIC = "retained";
  @TempDir Path dir;

  @Test
  void oldSegmentsGoOnEveryReplicaAlike() throws Exception {
    Properties props = new Properties();
    props.setProperty("segment.bytes", String.valueOf(64 * 1024));
    props.setProperty("retention.check.interval.ms", "200");
    // Snapshots (and Raft log purges) while producing: segment files must not depend on when a replica snapshots.
    props.setProperty("snapshot.threshold.entries", "16");
    // Small Raft log segments, so that snapshots purge it and a lagging follower needs a snapshot install.
    props.setProperty("max.batch.bytes", "65536");
    props.setProperty("max.record.bytes", "16384");
    props.setProperty("raft.segment.bytes", "65536");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll();
         Admin admin = admin(c)) {
      RatislogException bad = assertThrows(RatislogException.class,
          () -> admin.createTopic("bad", 1, 3, Map.of("retention.ms", "soon")));
      assertEquals(ErrorCode.INVALID_CONFIG, bad.code());
      bad = assertThrows(RatislogException.class, () -> admin.createTopic("bad", 1, 3, Map.of("cleanup.policy", "x")));
      assertEquals(ErrorCode.INVALID_CONFIG, bad.code());
      admin.createTopic(TOPIC, 1, 3);
      await("leader", 30_000, () -> leaderOf(c, TOPIC, 0) > 0);

      byte[] value = new byte[1000];
      java.util.Arrays.fill(value, (byte) 'x');
      try (Producer p = new Producer(io.ratislog.client.ProducerConfig.builder(c.bootstrap()).lingerMs(2)
          .batchSizeBytes(8 * 1024).deliveryTimeoutMs(60_000).build())) {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          acks.add(p.send(new ProducerRecord(TOPIC, ("k" + i).getBytes(StandardCharsets.UTF_8), value)));
        }
        for (CompletableFuture<?> f : acks) {
          f.get(60, TimeUnit.SECONDS);
        }
      }
      for (int id : c.ids()) {
        await("node " + id + " applied all", 30_000, () -> replica(c, id, TOPIC, 0).logEndOffset() == 400);
      }
      int segmentsBefore = segmentFiles(c, 1).size();
      assertTrue(segmentsBefore >= 5, "400 KB in 64 KB segments: " + segmentsBefore);
      assertEquals(0, replica(c, 1, TOPIC, 0).logStartOffset());

      bad = assertThrows(RatislogException.class,
          () -> admin.alterTopicConfig(TOPIC, Map.of("retention.bytes", "-5"), List.of()));
      assertEquals(ErrorCode.INVALID_CONFIG, bad.code());
      assertEquals(Map.of("retention.bytes", "150000"),
          admin.alterTopicConfig(TOPIC, Map.of("retention.bytes", "150000"), List.of()).configs());

      for (int id : c.ids()) {
        // The log start moves first (reads stop), then the files go.
        await("node " + id + " retention", 30_000, () -> {
          long start = replica(c, id, TOPIC, 0).logStartOffset();
          return start > 0 && firstSegmentBase(c, id) == start;
        });
      }
      long start = replica(c, 1, TOPIC, 0).logStartOffset();
      Map<String, byte[]> files = segmentContents(c, 1);
      for (int id : c.ids()) {
        PartitionStateMachine sm = replica(c, id, TOPIC, 0);
        assertEquals(start, sm.logStartOffset(), "log start on node " + id);
        assertTrue(sm.sizeInBytes() >= 150_000, "kept at least retention.bytes: " + sm.sizeInBytes());
        Map<String, byte[]> mine = segmentContents(c, id);
        assertEquals(files.keySet(), mine.keySet(), "segment files on node " + id);
        for (String f : files.keySet()) {
          assertArrayEquals(files.get(f), mine.get(f), f + " on node " + id);
        }
      }
      assertTrue(files.size() < segmentsBefore, files.keySet() + " vs " + segmentsBefore);
      assertEquals(String.format("%020d.log", start), new TreeMap<>(files).firstKey(), "the log starts at a segment");

      int leader = leaderOf(c, TOPIC, 0);
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", c.clientPort(leader)).usePlaintext().build();
      try {
        FetchResponse r = LogServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
            .fetch(FetchRequest.newBuilder().setTopic(TOPIC).setPartition(0).setOffset(0).build());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, r.getError().getCode());
        assertEquals(start, r.getLogStartOffset());
      } finally {
        ch.shutdownNow();
      }

      TopicPartition tp = new TopicPartition(TOPIC, 0);
      try (Consumer consumer = consumer(c)) {
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        List<ConsumerRecord> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (got.size() < 400 - start && System.currentTimeMillis() < deadline) {
          got.addAll(consumer.poll(Duration.ofMillis(500)));
        }
        assertEquals(start, got.get(0).offset(), "earliest is the new log start");
        assertEquals(400 - start, got.size());
      }

      // The log start survives a restart of a follower (from its snapshot or by replaying the entry).
      int follower = c.ids().stream().filter(id -> id != leader).findFirst().orElseThrow();
      c.stop(follower);
      c.start(follower);
      await("restarted follower serves", 30_000, () -> {
        PartitionStateMachine sm = replica(c, follower, TOPIC, 0);
        return sm != null && sm.isServing() && sm.logEndOffset() == 400;
      });
      assertEquals(start, replica(c, follower, TOPIC, 0).logStartOffset());

      // A follower that is down while more is written and everything expires catches up (by snapshot install,
      // the Raft log being purged meanwhile) to the same empty log and files.
      c.stop(follower);
      try (Producer p = new Producer(io.ratislog.client.ProducerConfig.builder(c.bootstrap()).lingerMs(0)
          .batchSizeBytes(1024).deliveryTimeoutMs(60_000).build())) {
        for (int i = 0; i < 300; i++) {
          p.send(new ProducerRecord(TOPIC, null, value)).get(60, TimeUnit.SECONDS);
        }
      }
      assertEquals(Map.of("retention.ms", "1"),
          admin.alterTopicConfig(TOPIC, Map.of("retention.ms", "1"), List.of("retention.bytes")).configs());
      for (int id : c.ids()) {
        if (id != follower) {
          await("node " + id + " empty", 30_000, () -> replica(c, id, TOPIC, 0).logStartOffset() == 700
              && firstSegmentBase(c, id) == 700);
        }
      }
      c.start(follower);
      await("follower caught up", 60_000, () -> {
        PartitionStateMachine sm = replica(c, follower, TOPIC, 0);
        return sm != null && sm.isServing() && sm.logStartOffset() == 700 && sm.logEndOffset() == 700
            && firstSegmentBase(c, follower) == 700;
      });
      Map<String, byte[]> emptied = segmentContents(c, leader);
      assertEquals(List.of(String.format("%020d.log", 700)), List.copyOf(emptied.keySet()));
      for (int id : c.ids()) {
        assertEquals(emptied.keySet(), segmentContents(c, id).keySet(), "segment files on node " + id);
      }
    }
  }

  private static List<Path> segmentFiles(MiniCluster c, int node) throws java.io.IOException {
    Path segs = division(c, node, TOPIC, 0).getRaftStorage().getStorageDir().getStateMachineDir().toPath()
        .resolve("segments");
    try (Stream<Path> s = Files.list(segs)) {
      return s.filter(f -> f.toString().endsWith(".log")).sorted().toList();
    }
  }

  private static long firstSegmentBase(MiniCluster c, int node) {
    try {
      List<Path> files = segmentFiles(c, node);
      return files.isEmpty() ? -1 : Long.parseLong(files.get(0).getFileName().toString().replace(".log", ""));
    } catch (Exception e) {
      return -1;
    }
  }

  private static Map<String, byte[]> segmentContents(MiniCluster c, int node) throws Exception {
    Map<String, byte[]> out = new TreeMap<>();
    for (Path f : segmentFiles(c, node)) {
      out.put(f.getFileName().toString(), Files.readAllBytes(f));
    }
    return out;
  }
}
