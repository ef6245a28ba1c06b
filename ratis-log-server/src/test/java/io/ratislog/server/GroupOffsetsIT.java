package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.proto.CommitOffsetRequest;
import io.ratislog.proto.CommitOffsetResponse;
import io.ratislog.proto.DescribeGroupRequest;
import io.ratislog.proto.DescribeGroupResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchCommittedOffsetRequest;
import io.ratislog.proto.FetchCommittedOffsetResponse;
import io.ratislog.proto.HeartbeatRequest;
import io.ratislog.proto.HeartbeatResponse;
import io.ratislog.proto.JoinGroupRequest;
import io.ratislog.proto.JoinGroupResponse;
import io.ratislog.proto.ResetOffsetsRequest;
import io.ratislog.proto.ResetOffsetsResponse;
import io.ratislog.proto.ResetTarget;
import io.ratislog.server.entries.GroupRecord;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Committed offsets through the partitions' Raft groups, fenced by group generation, against a real 3-node
 * cluster, at the RPC level: a zombie member cannot commit, offsets never go back, they survive leader failover
 * and a restart of every node (from snapshots), an admin reset rewinds them, silent members expire after their
 * session timeout, and bad input gets its error code.
 */
class GroupOffsetsIT {
  @TempDir Path dir;

  private static JoinGroupResponse join(GroupRpc rpc, String group, String topic, int sessionMs) throws Exception {
    JoinGroupRequest req = JoinGroupRequest.newBuilder().setGroup(group).addTopics(topic).setSessionTimeoutMs(sessionMs)
        .setClientId("it").build();
    JoinGroupResponse r = rpc.anyNode(s -> s.joinGroup(req), x -> x.getError().getCode());
    assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
    return r;
  }

  private static CommitOffsetResponse commit(GroupRpc rpc, String group, String topic, int partition, long offset,
                                             JoinGroupResponse member) throws Exception {
    CommitOffsetRequest req = CommitOffsetRequest.newBuilder().setGroup(group).setTopic(topic).setPartition(partition)
        .setOffset(offset).setGeneration(member.getGeneration()).setMemberId(member.getMemberId()).build();
    return rpc.anyNode(s -> s.commitOffset(req), x -> x.getError().getCode());
  }

  private static FetchCommittedOffsetResponse committed(GroupRpc rpc, String group, String topic, int partition)
      throws Exception {
    FetchCommittedOffsetRequest req = FetchCommittedOffsetRequest.newBuilder().setGroup(group).setTopic(topic)
        .setPartition(partition).build();
    FetchCommittedOffsetResponse r = rpc.anyNode(s -> s.fetchCommittedOffset(req), x -> x.getError().getCode());
    assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
    return r;
  }

  private static void awaitGenerationEverywhere(MiniCluster c, String group, long generation) throws Exception {
    await("generation " + generation + " of " + group + " on every running node", 10_000, () -> c.ids().stream()
        .filter(c::isRunning).allMatch(id -> c.node(id).metadata().group(group).map(GroupRecord::getGeneration)
            .orElse(-1L) == generation));
  }

  @Test
  void zombieFencingNoGoingBackFailoverRestartAndReset() throws Exception {
    Properties props = new Properties();
    props.setProperty("snapshot.threshold.entries", "16");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll(); GroupRpc rpc = new GroupRpc(c)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("t", 1, 3);
      }
      try (Producer p = producer(c)) {
        produceAll(p, "t", "r", 40);
      }
      JoinGroupResponse a = join(rpc, "g", "t", 60_000);
      assertEquals(1, a.getGeneration());
      assertEquals(0, a.getAssignment(0).getPartitions(0));
      assertEquals(ErrorCode.NONE, commit(rpc, "g", "t", 0, 10, a).getError().getCode());
      assertEquals(10, committed(rpc, "g", "t", 0).getOffset());

      // Offsets never go back; beyond the end and negative are refused.
      CommitOffsetResponse back = commit(rpc, "g", "t", 0, 7, a);
      assertEquals(ErrorCode.INVALID_COMMIT, back.getError().getCode(), back.getError().getMessage());
      assertEquals(10, back.getCommittedOffset());
      long end = committed(rpc, "g", "t", 0).getLogEndOffset();
      assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, commit(rpc, "g", "t", 0, end + 1, a).getError().getCode());
      assertEquals(ErrorCode.INVALID_REQUEST, commit(rpc, "g", "t", 0, -1, a).getError().getCode());

      // B joins: generation 2; the range assignor gives the one partition to the first member id.
      JoinGroupResponse b = join(rpc, "g", "t", 60_000);
      assertEquals(2, b.getGeneration());
      awaitGenerationEverywhere(c, "g", 2);
      CommitOffsetResponse zombie = commit(rpc, "g", "t", 0, 20, a);
      assertEquals(ErrorCode.FENCED_GENERATION, zombie.getError().getCode(), zombie.getError().getMessage());
      assertEquals(10, committed(rpc, "g", "t", 0).getOffset(), "the zombie did not move the offset");
      JoinGroupResponse owner = b.getAssignmentCount() > 0 ? b : JoinGroupResponse.newBuilder(a).setGeneration(2).build();
      JoinGroupResponse notOwner = owner == b ? JoinGroupResponse.newBuilder(a).setGeneration(2).build() : b;
      assertEquals(ErrorCode.FENCED_GENERATION, commit(rpc, "g", "t", 0, 20, notOwner).getError().getCode(),
          "a member of the current generation that does not own the partition cannot commit on it");
      assertEquals(ErrorCode.NONE, commit(rpc, "g", "t", 0, 20, owner).getError().getCode());

      // Heartbeats: only the metadata leader answers; an old generation is told to re-sync.
      HeartbeatRequest oldHb = HeartbeatRequest.newBuilder().setGroup("g").setMemberId(a.getMemberId()).setGeneration(1).build();
      HeartbeatResponse hb = rpc.anyNode(s -> s.heartbeat(oldHb), x -> x.getError().getCode());
      assertEquals(ErrorCode.REBALANCE_IN_PROGRESS, hb.getError().getCode());
      int metaLeader = -1;
      for (int id : c.ids()) {
        HeartbeatResponse r = rpc.node(id).heartbeat(oldHb);
        if (r.getError().getCode() == ErrorCode.NOT_LEADER) {
          assertTrue(r.hasLeader(), "NOT_LEADER names the metadata leader");
          metaLeader = r.getLeader().getId();
        }
      }
      assertTrue(metaLeader > 0, "followers send heartbeats to the leader");
      HeartbeatRequest unknown = HeartbeatRequest.newBuilder().setGroup("g").setMemberId("nobody").setGeneration(2).build();
      assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, rpc.anyNode(s -> s.heartbeat(unknown), x -> x.getError().getCode()).getError().getCode());
      HeartbeatRequest noGroup = HeartbeatRequest.newBuilder().setGroup("nogroup").setMemberId("m").setGeneration(1).build();
      assertEquals(ErrorCode.UNKNOWN_GROUP, rpc.anyNode(s -> s.heartbeat(noGroup), x -> x.getError().getCode()).getError().getCode());
      DescribeGroupRequest noGroupDescribe = DescribeGroupRequest.newBuilder().setGroup("nogroup").build();
      assertEquals(ErrorCode.UNKNOWN_GROUP, rpc.anyNode(s -> s.describeGroup(noGroupDescribe), x -> x.getError().getCode()).getError().getCode());
      assertEquals(ErrorCode.UNKNOWN_GROUP, commit(rpc, "nogroup", "t", 0, 1, owner).getError().getCode());

      // Leader failover of the partition: the committed offset is still there, fencing too.
      int leader = leaderOf(c, "t", 0);
      c.stop(leader);
      assertEquals(20, committed(rpc, "g", "t", 0).getOffset());
      assertEquals(ErrorCode.FENCED_GENERATION, commit(rpc, "g", "t", 0, 30, a).getError().getCode());
      c.start(leader);

      // Every node restarted: from snapshots and the replayed Raft logs.
      for (int id : c.ids()) {
        c.stop(id);
      }
      for (int id : c.ids()) {
        c.start(id);
      }
      FetchCommittedOffsetResponse after = committed(rpc, "g", "t", 0);
      assertEquals(20, after.getOffset(), "committed offsets survive a restart of every node");
      assertEquals(2, after.getGeneration());

      // Administrative reset moves it back.
      ResetOffsetsRequest reset = ResetOffsetsRequest.newBuilder().setGroup("g").setTopic("t").setPartition(0)
          .setTarget(ResetTarget.TO_EARLIEST).build();
      ResetOffsetsResponse rr = rpc.anyNode(s -> s.resetOffsets(reset), x -> x.getError().getCode());
      assertEquals(ErrorCode.NONE, rr.getError().getCode(), rr.getError().getMessage());
      assertEquals(0, committed(rpc, "g", "t", 0).getOffset());

      // The group and its members survived the restart (they have a fresh grace period on the new leader).
      DescribeGroupRequest describe = DescribeGroupRequest.newBuilder().setGroup("g").build();
      assertEquals(2, rpc.anyNode(s -> s.describeGroup(describe), x -> x.getError().getCode()).getMembersCount());
    }
  }

  @Test
  void silentMembersExpireAndTheirPartitionsMove() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); GroupRpc rpc = new GroupRpc(c)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("e", 4, 3);
      }
      JoinGroupResponse quiet = join(rpc, "eg", "e", 1_500);
      JoinGroupResponse live = join(rpc, "eg", "e", 1_500);
      assertEquals(2, live.getGeneration());
      long start = System.nanoTime();
      long deadline = start + 15_000_000_000L;
      DescribeGroupRequest describe = DescribeGroupRequest.newBuilder().setGroup("eg").build();
      DescribeGroupResponse d = null;
      while (System.nanoTime() < deadline) {
        HeartbeatRequest hb = HeartbeatRequest.newBuilder().setGroup("eg").setMemberId(live.getMemberId())
            .setGeneration(live.getGeneration()).build();
        HeartbeatResponse r = rpc.anyNode(s -> s.heartbeat(hb), x -> x.getError().getCode());
        d = rpc.anyNode(s -> s.describeGroup(describe), x -> x.getError().getCode());
        if (d.getMembersCount() == 1) {
          assertEquals(ErrorCode.REBALANCE_IN_PROGRESS, rpc.anyNode(s -> s.heartbeat(hb), x -> x.getError().getCode())
              .getError().getCode(), "the live member learns of the new generation through its heartbeat");
          break;
        }
        assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
        Thread.sleep(300);
      }
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(1, d.getMembersCount(), "the silent member expired");
      assertTrue(tookMs >= 1_000, "not before its session timeout: " + tookMs + " ms");
      assertEquals(live.getMemberId(), d.getMembers(0).getMemberId());
      assertEquals(3, d.getGeneration());
      assertEquals(4, d.getMembers(0).getAssignment(0).getPartitionsCount(), "its partitions moved to the live member");
      assertTrue(quiet.getAssignmentCount() > 0);
    }
  }

  /**
   * A leader cut off from its quorum must not answer committed offsets from its own state once it cannot know
   * whether a new leader moved them: Ratis keeps it leader until an election timeout without acknowledgements
   * (1-2 s here) while the others may already have elected a successor. Past the lease (0.9 of the minimum
   * election timeout after the last acknowledgement) every answer it gives is an error.
   */
  @Test
  void aLeaderWithoutItsQuorumDoesNotAnswerCommittedOffsets() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); GroupRpc rpc = new GroupRpc(c)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("q", 1, 3);
      }
      try (Producer p = producer(c)) {
        produceAll(p, "q", "r", 10);
      }
      ResetOffsetsRequest reset = ResetOffsetsRequest.newBuilder().setGroup("qg").setTopic("q")
          .setTarget(ResetTarget.TO_OFFSET).setOffset(4).build();
      ResetOffsetsResponse rr = rpc.anyNode(s -> s.resetOffsets(reset), x -> x.getError().getCode());
      assertEquals(ErrorCode.NONE, rr.getError().getCode(), rr.getError().getMessage());
      assertEquals(4, committed(rpc, "qg", "q", 0).getOffset());

      int leader = leaderOf(c, "q", 0);
      for (int id : c.ids()) {
        if (id != leader) {
          c.stop(id);
        }
      }
      Thread.sleep(1_200);
      FetchCommittedOffsetRequest req = FetchCommittedOffsetRequest.newBuilder().setGroup("qg").setTopic("q")
          .setPartition(0).build();
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < until) {
        FetchCommittedOffsetResponse r;
        try {
          r = rpc.node(leader).withDeadlineAfter(1, java.util.concurrent.TimeUnit.SECONDS).fetchCommittedOffset(req);
        } catch (io.grpc.StatusRuntimeException e) {
          continue;
        }
        assertTrue(r.getError().getCode() != ErrorCode.NONE,
            "node " + leader + " answered committed offset " + r.getOffset() + " without its quorum");
      }
    }
  }
}
