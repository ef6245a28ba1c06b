package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.server.raft.GroupIds;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose leader's process is gone stands for election at once (PeerDeathWatch), not after the election
 * timeout. The timeouts here are 8-9 s and Ratis' leader heartbeats every 4 s, so a follower's own timer cannot
 * elect anyone sooner than 4 s after the leader stopped: a new leader within 2 s is the watch's doing.
 */
class PeerDeathElectionIT {
  private static final long WITHIN_MS = 2_000;
  @TempDir Path dir;

  @Test
  void theGroupsOfAStoppedLeaderElectANewOneWithinAFractionOfTheElectionTimeout() throws Exception {
    Properties slowTimer = new Properties();
    slowTimer.setProperty("election.timeout.min.ms", "8000");
    slowTimer.setProperty("election.timeout.max.ms", "9000");
    try (MiniCluster c = new MiniCluster(dir, 3, slowTimer).startAll();
         Admin admin = admin(c);
         Producer producer = producer(c)) {
      admin.createTopic("orders", 1, 3);
      produceAll(producer, "orders", "before", 50);
      int metadataLeader = metadataLeader(c);
      int old = leaderOf(c, "orders", 0);
      assertTrue(old > 0);

      c.stop(old);
      long stoppedAt = System.nanoTime();
      await("a new partition leader", 30_000, () -> leaderOf(c, "orders", 0) > 0);
      long partitionMs = (System.nanoTime() - stoppedAt) / 1_000_000;
      await("a metadata leader", 30_000, () -> metadataLeader(c) > 0);
      long metadataMs = (System.nanoTime() - stoppedAt) / 1_000_000;

      assertNotEquals(old, leaderOf(c, "orders", 0));
      assertTrue(partitionMs < WITHIN_MS, "the partition elected a leader " + partitionMs + " ms after its leader stopped");
      if (metadataLeader == old) {
        assertTrue(metadataMs < WITHIN_MS, "the metadata group elected a leader " + metadataMs + " ms after its leader stopped");
      }
      long started = 0;
      for (int id : c.ids()) {
        if (c.isRunning(id)) {
          started += c.node(id).metrics().counter("ratislog.raft.elections_on_peer_death_total").getCount();
          assertEquals(1, c.node(id).metrics().counter("ratislog.raft.peer_deaths_total").getCount(),
              "node " + id + " saw node " + old + " die once");
        }
      }
      assertTrue(started >= 1, "an election was started by the watch");
      assertEquals(50, produceAll(producer, "orders", "after", 50).size());
    }
  }

  private static int metadataLeader(MiniCluster c) {
    for (int id : c.ids()) {
      if (!c.isRunning(id)) {
        continue;
      }
      try {
        RaftServer.Division d = c.node(id).raftServer().getDivision(GroupIds.metadata());
        if (d.getInfo().isLeader()) {
          return id;
        }
      } catch (IOException | RuntimeException e) {
        // not a member (yet)
      }
    }
    return -1;
  }
}
