package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import io.ratislog.client.RecordMetadata;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.GroupIds;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower that was down while the leader snapshotted and purged its Raft log catches up by installing the
 * leader's snapshot (sealed segments plus meta), then ends with the same bytes as the leader. Ratis purges only what
 * every replica committed, so the leader purges past a stopped follower only once its Raft log outgrew
 * {@code raft.log.retain.bytes}; below that, the follower catches up from the log.
 */
class SnapshotCatchUpIT {
  @TempDir Path dir;

  @Test
  void followerBehindThePurgedLogInstallsTheSnapshot() throws Exception {
    Properties props = smallEntries();
    props.setProperty("raft.log.retain.bytes", "131072");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll();
         Admin admin = admin(c)) {
      admin.createTopic("events", 1, 3);
      Map<String, RecordMetadata> acked = new HashMap<>();
      // Small batches (no linger): many Raft entries, so many snapshots and purges.
      try (Producer producer = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(0).batchSizeBytes(1024).build())) {
        // 1500 entries: several Raft log segments fill up and get purged.
        Stopped stopped = stopAFollowerAndWrite(c, producer, acked, 1500);
        int follower = stopped.follower();
        long followerIndexBefore = stopped.appliedIndexBefore();
        RaftServer.Division leaderDivision = division(c, leaderOf(c, "events", 0), "events", 0);
        await("the leader purged its log past the stopped follower", 20_000,
            () -> leaderDivision.getRaftLog().getStartIndex() > followerIndexBefore + 1);

        c.start(follower);
        await("the follower catches up", 60_000, () -> {
          PartitionStateMachine f = replica(c, follower, "events", 0);
          PartitionStateMachine l = replica(c, leaderOf(c, "events", 0), "events", 0);
          return f != null && l != null && f.isServing() && f.logEndOffset() == l.logEndOffset();
        });
        PartitionStateMachine f = replica(c, follower, "events", 0);
        assertNotNull(f.getLatestSnapshot(), "the follower holds a snapshot");
        assertTrue(f.getLatestSnapshot().getIndex() > followerIndexBefore, "it came from the leader");
        assertEquals(allBatches(replica(c, leaderOf(c, "events", 0), "events", 0)), allBatches(f));

        // The follower can lead: stop the others' leader and read everything from it.
        acked.putAll(produceAll(producer, "events", "c", 100));
      }
      List<ConsumerRecord> read = readAll(c, "events", 1, acked.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
    }
  }

  /**
   * The same for the metadata group: a voter that was down while the metadata leader snapshotted and purged its
   * log installs the leader's snapshot, keeps its metadata replica running and ends with the leader's state. (Ratis
   * reloads a state machine after an installation only from PAUSED: a metadata state machine that did not pause
   * closed its replica for good.)
   */
  @Test
  void metadataFollowerBehindThePurgedLogInstallsTheSnapshot() throws Exception {
    Properties props = smallEntries();
    props.setProperty("raft.log.retain.bytes", "0");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll();
         Admin admin = admin(c)) {
      admin.createTopic("configs", 1, 3);
      int metaLeader = admin.describeCluster().getMetadataLeader();
      int follower = c.ids().stream().filter(id -> id != metaLeader).findFirst().orElseThrow();
      long followerIndexBefore = metadataDivision(c, follower).getInfo().getLastAppliedIndex();
      c.stop(follower);

      // Each alteration is one metadata entry: alter until Raft log segments filled up and were purged past the
      // follower (snapshots every 16 entries; the segments are at least max.batch.bytes + 64 KiB).
      long last = 3_600_000L;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      for (int i = 0; !purgedPast(c, admin, followerIndexBefore); i++) {
        assertTrue(System.nanoTime() < deadline && i < 20_000, "the metadata leader never purged its log");
        last = 3_600_000L + i;
        admin.alterTopicConfig("configs", Map.of("retention.ms", Long.toString(last)), List.of());
      }
      String expected = Long.toString(last);

      c.start(follower);
      await("the follower's metadata replica catches up", 60_000,
          () -> expected.equals(c.node(follower).metadata().topic("configs").orElseThrow().getConfigsMap()
              .get("retention.ms")));
      RaftServer.Division d = metadataDivision(c, follower);
      assertNotNull(d.getStateMachine().getLatestSnapshot(), "the follower holds a snapshot");
      assertTrue(d.getStateMachine().getLatestSnapshot().getIndex() > followerIndexBefore, "it came from the leader");

      // The replica keeps applying: it follows the next change and can lead the group.
      admin.alterTopicConfig("configs", Map.of("retention.ms", "42"), List.of());
      await("the follower applies the next entry", 20_000,
          () -> "42".equals(c.node(follower).metadata().topic("configs").orElseThrow().getConfigsMap()
              .get("retention.ms")));
      int leader = admin.describeCluster().getMetadataLeader();
      if (leader != follower) {
        c.stop(leader);
      }
      admin.createTopic("after", 1, 2);
      assertEquals(1, admin.describeTopic("after").partitionCount());
    }
  }

  /**
   * Under the default {@code raft.log.retain.bytes} the leader keeps its Raft log for a stopped follower through many
   * snapshots, and the follower catches up from it: no snapshot of the partition's segments is shipped.
   */
  @Test
  void followerThatWasDownCatchesUpFromTheRetainedLog() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, smallEntries()).startAll();
         Admin admin = admin(c)) {
      admin.createTopic("events", 1, 3);
      Map<String, RecordMetadata> acked = new HashMap<>();
      try (Producer producer = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(0).batchSizeBytes(1024).build())) {
        Stopped stopped = stopAFollowerAndWrite(c, producer, acked, 600);
        int follower = stopped.follower();
        long followerIndexBefore = stopped.appliedIndexBefore();
        RaftServer.Division leaderDivision = division(c, leaderOf(c, "events", 0), "events", 0);
        assertTrue(leaderDivision.getStateMachine().getLatestSnapshot().getIndex() > followerIndexBefore + 16,
            "the leader snapshotted while the follower was down");
        assertTrue(leaderDivision.getRaftLog().getStartIndex() <= followerIndexBefore + 1,
            "the leader kept its log from the stopped follower's last index on");

        c.start(follower);
        await("the follower catches up", 60_000, () -> {
          PartitionStateMachine f = replica(c, follower, "events", 0);
          PartitionStateMachine l = replica(c, leaderOf(c, "events", 0), "events", 0);
          return f != null && l != null && f.isServing() && f.logEndOffset() == l.logEndOffset();
        });
        assertEquals(allBatches(replica(c, leaderOf(c, "events", 0), "events", 0)), allBatches(replica(c, follower, "events", 0)));
        // Purges follow snapshots (every 16 entries): write one entry at a time until each replica took one since.
        int[] next = {0};
        await("every replica purged its log again once the follower committed", 30_000, () -> {
          String v = "c-" + next[0]++;
          try {
            acked.put(v, producer.send(new ProducerRecord("events", 0, null, v.getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS));
          } catch (Exception e) {
            throw new IllegalStateException("record " + v + " was not acknowledged", e);
          }
          return c.ids().stream().allMatch(id -> division(c, id, "events", 0).getRaftLog().getStartIndex() > followerIndexBefore + 1);
        });
      }
      List<ConsumerRecord> read = readAll(c, "events", 1, acked.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
    }
  }

  /** A follower stopped by {@link #stopAFollowerAndWrite}, and the last index it had applied. */
  private record Stopped(int follower, long appliedIndexBefore) {}

  /**
   * Writes 200 records, stops a follower of partition 0 of "events", then writes {@code entries} more padded
   * records, one per Raft entry (the producer does not linger), while it is down.
   */
  private static Stopped stopAFollowerAndWrite(MiniCluster c, Producer producer, Map<String, RecordMetadata> acked,
                                               int entries) throws Exception {
    acked.putAll(produceAll(producer, "events", "a", 200));
    int leader = leaderOf(c, "events", 0);
    int follower = c.ids().stream().filter(id -> id != leader).findFirst().orElseThrow();
    long before = division(c, follower, "events", 0).getInfo().getLastAppliedIndex();
    c.stop(follower);
    String pad = "x".repeat(300);
    for (int i = 0; i < entries; i++) {
      String v = "b-" + i + "-" + pad;
      acked.put(v, producer.send(new ProducerRecord("events", 0, null, v.getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS));
    }
    return new Stopped(follower, before);
  }

  /** Snapshots every 16 entries and small Raft log segments, so that a few hundred batches make several purges. */
  private static Properties smallEntries() {
    Properties props = new Properties();
    props.setProperty("snapshot.threshold.entries", "16");
    props.setProperty("segment.bytes", "65536");
    props.setProperty("max.batch.bytes", "16384");
    props.setProperty("max.record.bytes", "16384");
    props.setProperty("raft.segment.bytes", "65536");
    return props;
  }

  private static boolean purgedPast(MiniCluster c, Admin admin, long index) {
    int leader = admin.describeCluster().getMetadataLeader();
    return leader > 0 && metadataDivision(c, leader).getRaftLog().getStartIndex() > index + 1;
  }

  private static RaftServer.Division metadataDivision(MiniCluster c, int node) {
    try {
      return c.node(node).raftServer().getDivision(GroupIds.metadata());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
