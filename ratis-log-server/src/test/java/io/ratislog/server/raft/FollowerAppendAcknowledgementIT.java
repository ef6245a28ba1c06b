package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.server.config.NodeConfig;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.ProtoUtils;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower acknowledges only entries its Raft log holds, forced. This test plays the leader of a two-member group
 * against a real follower (ratislog's Raft settings), and sends what a leader resending after an error does: an
 * append of two entries and, while it is being written, one from the same index with ten. Through Ratis 3.3.0 alone
 * the second is answered SUCCESS up to its tenth entry while the log ends at the second (see
 * {@link AppendReplyVerifier}); the servers' transport answers it INCONSISTENCY instead.
 */
class FollowerAppendAcknowledgementIT {
  private static final int ROUNDS = 10;
  private static final long TERM = 1;

  @TempDir Path dir;
  private long callId;

  @Test
  void everyAcknowledgedEntryIsInTheFollowersLogAndForced() throws Exception {
    RaftGroupId gid = RaftGroupId.valueOf(UUID.randomUUID());
    RaftServer server = startFollower(gid);
    try {
      RaftServer follower = AppendReplyVerifier.wrap(server);
      RaftLog log = server.getDivision(gid).getRaftLog();
      int acknowledged = 0;
      int refused = 0;
      for (int round = 0; round < ROUNDS; round++) {
        long start = log.getNextIndex();
        TermIndex previous = start == 0 ? null : log.getTermIndex(start - 1);
        CompletableFuture<AppendEntriesReplyProto> shorter = follower.appendEntriesAsync(append(gid, previous, start, 2));
        CompletableFuture<AppendEntriesReplyProto> longer = follower.appendEntriesAsync(append(gid, previous, start, 10));
        AppendEntriesReplyProto longerReply = longer.get(30, TimeUnit.SECONDS);
        if (longerReply.getResult() == AppendResult.INCONSISTENCY) {
          refused++;
        }
        for (AppendEntriesReplyProto reply : List.of(shorter.get(30, TimeUnit.SECONDS), longerReply)) {
          if (reply.getResult() == AppendResult.SUCCESS) {
            acknowledged++;
            long match = reply.getMatchIndex();
            assertTrue(log.getNextIndex() > match && log.getFlushIndex() >= match, "round " + round
                + ": acknowledged up to " + match + ", but the log ends at " + (log.getNextIndex() - 1)
                + ", forced up to " + log.getFlushIndex());
          }
        }
        // What a leader does next: send from where the follower is.
        long next = log.getNextIndex();
        AppendEntriesReplyProto rest = follower.appendEntriesAsync(
            append(gid, log.getTermIndex(next - 1), next, (int) (start + 10 - next))).get(30, TimeUnit.SECONDS);
        assertEquals(AppendResult.SUCCESS, rest.getResult(), "round " + round + ": " + rest);
        assertEquals(start + 10, log.getNextIndex(), "round " + round);
      }
      assertTrue(acknowledged >= ROUNDS, "the shorter append of every round succeeds: " + acknowledged);
      // Not vacuous: the longer append did arrive while the shorter was being written (Ratis composes it with the
      // shorter, and the verifier refuses the part it dropped). Should Ratis append it instead, this fails, and the
      // verifier may be retired.
      assertTrue(refused > 0, "no round refused the longer append");
    } finally {
      server.close();
    }
  }

  private AppendEntriesRequestProto append(RaftGroupId gid, TermIndex previous, long first, int count) {
    List<LogEntryProto> entries = new ArrayList<>();
    for (long i = first; i < first + count; i++) {
      entries.add(LogEntryProto.newBuilder().setTerm(TERM).setIndex(i)
          .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
              .setLogData(ByteString.copyFromUtf8("entry " + i)).setCallId(i))
          .build());
    }
    AppendEntriesRequestProto.Builder b = AppendEntriesRequestProto.newBuilder()
        .setServerRequest(RaftRpcRequestProto.newBuilder()
            .setRequestorId(ByteString.copyFromUtf8("1"))
            .setReplyId(ByteString.copyFromUtf8("2"))
            .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(gid))
            .setCallId(++callId))
        .setLeaderTerm(TERM)
        .setLeaderCommit(RaftLog.INVALID_LOG_INDEX)
        .addAllEntries(entries);
    if (previous != null) {
      b.setPreviousLog(previous.toProto());
    }
    return b.build();
  }

  /** A follower of a group whose other member (the leader this test plays) listens nowhere. */
  private RaftServer startFollower(RaftGroupId gid) throws Exception {
    int raftPort = freePort();
    int leaderPort = freePort();
    Properties props = new Properties();
    props.setProperty("node.id", "2");
    props.setProperty("peers", "1=127.0.0.1:" + leaderPort + ":" + freePort() + ",2=127.0.0.1:" + raftPort + ":"
        + freePort());
    props.setProperty("data.dir", dir.toString());
    RaftProperties p = RaftPropertiesFactory.create(NodeConfig.of(props));
    // The follower must not campaign while the test plays its leader.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(120, TimeUnit.SECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(121, TimeUnit.SECONDS));
    RaftGroup group = RaftGroup.valueOf(gid,
        RaftPeer.newBuilder().setId("1").setAddress("127.0.0.1:" + leaderPort).build(),
        RaftPeer.newBuilder().setId("2").setAddress("127.0.0.1:" + raftPort).build());
    RaftServer server = RaftServer.newBuilder().setServerId(group.getPeers().stream()
            .filter(peer -> peer.getId().toString().equals("2")).findFirst().orElseThrow().getId())
        .setGroup(group).setProperties(p).setStateMachine(new RenewingRaftClientIT.NoOp())
        .setOption(RaftStorage.StartupOption.FORMAT).build();
    server.start();
    return server;
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
