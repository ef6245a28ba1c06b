package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.GroupIds;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.ratis.protocol.RaftGroupId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every node hosts exactly the partition replicas the metadata places on it ({@code PartitionReconciler}): a
 * deleted topic's replicas go away on every node, and a restarted node, whose metadata replica replays from an
 * older state and learns its commit index only from a leader, never drops a replica it still holds.
 */
class ReplicaReconciliationIT {
  @TempDir Path dir;

  @Test
  void aDeletedTopicsReplicasLeaveEveryNodeAndOtherTopicsStay() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = producer(c)) {
      admin.createTopic("gone", 1, 3);
      admin.createTopic("kept", 1, 3);
      produceAll(producer, "gone", "g", 50);
      produceAll(producer, "kept", "k", 50);
      RaftGroupId gone = GroupIds.partition(c.node(1).metadata().topic("gone").orElseThrow().getTopicId(), 0);

      admin.deleteTopic("gone");

      await("every node to remove the deleted topic's replica", 30_000,
          () -> c.ids().stream().noneMatch(id -> hosts(c, id, gone)));
      for (int id : c.ids()) {
        assertNotNull(division(c, id, "kept", 0), "node " + id + " still hosts kept-0");
      }
      assertEquals(50, readAll(c, "kept", 1, 50).size());
    }
  }

  @Test
  void aRestartedNodeKeepsItsReplicasWhileItCatchesUp() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = producer(c)) {
      admin.createTopic("kept", 1, 3);
      // Metadata commands after the topic's creation, so that a restarted node replays past it.
      for (int i = 0; i < 5; i++) {
        admin.createTopic("later-" + i, 1, 3);
      }
      produceAll(producer, "kept", "before", 200);
      RaftGroupId kept = GroupIds.partition(c.node(1).metadata().topic("kept").orElseThrow().getTopicId(), 0);
      int restarted = leaderOf(c, "kept", 0) == 3 ? 2 : 3;

      c.stop(restarted);
      produceAll(producer, "kept", "while-down", 200);
      c.start(restarted);

      await("the restarted node to host its replica again", 30_000, () -> hosts(c, restarted, kept));
      long deadline = System.currentTimeMillis() + 10_000;
      while (System.currentTimeMillis() < deadline) {
        assertTrue(hosts(c, restarted, kept), "node " + restarted + " dropped its replica of kept-0 after restarting");
        Thread.sleep(20);
      }
      await("the restarted replica to catch up", 30_000, () -> {
        PartitionStateMachine sm = replica(c, restarted, "kept", 0);
        return sm != null && sm.logEndOffset() == 400;
      });
    }
  }

  private static boolean hosts(MiniCluster c, int id, RaftGroupId gid) {
    if (!c.isRunning(id)) {
      return false;
    }
    try {
      for (RaftGroupId g : c.node(id).raftServer().getGroupIds()) {
        if (g.equals(gid)) {
          return true;
        }
      }
      return false;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
