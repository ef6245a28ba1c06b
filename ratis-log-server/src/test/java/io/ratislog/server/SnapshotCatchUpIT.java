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
 * leader's snapshot (sealed segments plus meta), then ends with the same bytes as the leader.
 */
class SnapshotCatchUpIT {
  @TempDir Path dir;

  @Test
  void followerBehindThePurgedLogInstallsTheSnapshot() throws Exception {
    Properties props = new Properties();
    props.setProperty("snapshot.threshold.entries", "16");
    props.setProperty("segment.bytes", "65536");
    props.setProperty("max.batch.bytes", "16384");
    props.setProperty("max.record.bytes", "16384");
    props.setProperty("raft.segment.bytes", "65536");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll();
         Admin admin = admin(c)) {
      admin.createTopic("events", 1, 3);
      Map<String, RecordMetadata> acked = new HashMap<>();
      // Small batches (no linger): many Raft entries, so many snapshots and purges.
      try (Producer producer = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(0).batchSizeBytes(1024).build())) {
        acked.putAll(produceAll(producer, "events", "a", 200));
        int leader = leaderOf(c, "events", 0);
        int follower = c.ids().stream().filter(id -> id != leader).findFirst().orElseThrow();
        long followerIndexBefore = division(c, follower, "events", 0).getInfo().getLastAppliedIndex();
        c.stop(follower);

        // One record per Raft entry, padded, so that several Raft log segments fill up and get purged.
        String pad = "x".repeat(300);
        for (int i = 0; i < 1500; i++) {
          String v = "b-" + i + "-" + pad;
          acked.put(v, producer.send(new ProducerRecord("events", 0, null, v.getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS));
        }
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
}
