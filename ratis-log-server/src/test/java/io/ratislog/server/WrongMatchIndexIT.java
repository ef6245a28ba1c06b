package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.RecordMetadata;
import io.ratislog.server.partition.PartitionStateMachine;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LogAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose record of a follower's match index is past the end of that follower's log (what Ratis 3.3.0 was
 * seen to keep for a restarted old leader in the failover benchmark) still brings the follower up to date. Ratis alone would send
 * it only requests it refuses, for as long as that leader leads; {@code GuardedLogAppender} restarts the appender.
 */
class WrongMatchIndexIT {
  @TempDir Path dir;

  @Test
  void aFollowerTheLeaderThinksIsFurtherAlongCatchesUp() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(0).build())) {
      admin.createTopic("events", 1, 3);
      Map<String, RecordMetadata> acked = new HashMap<>(produceAll(producer, "events", "a", 50));
      int leader = leaderOf(c, "events", 0);
      int follower = c.ids().stream().filter(id -> id != leader).findFirst().orElseThrow();
      c.stop(follower);
      acked.putAll(produceAll(producer, "events", "b", 200));

      RaftServer.Division leaderDivision = division(c, leader, "events", 0);
      FollowerInfo record = followerRecord(leaderDivision, follower);
      long lastIndex = leaderDivision.getRaftLog().getLastEntryTermIndex().getIndex();
      record.updateMatchIndex(lastIndex);
      assertEquals(lastIndex, record.getMatchIndex(), "the leader's record of the stopped follower, made wrong");

      c.start(follower);
      await("the follower catches up", 45_000, () -> {
        PartitionStateMachine f = replica(c, follower, "events", 0);
        PartitionStateMachine l = replica(c, leader, "events", 0);
        return f != null && l != null && f.isServing() && f.logEndOffset() == l.logEndOffset();
      });
      assertEquals(allBatches(replica(c, leader, "events", 0)), allBatches(replica(c, follower, "events", 0)));
      List<ConsumerRecord> read = readAll(c, "events", 1, acked.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
    }
  }

  /** The leader's {@link FollowerInfo} for {@code follower}, reached through Ratis' package-private leader state. */
  @SuppressWarnings("unchecked")
  private static FollowerInfo followerRecord(RaftServer.Division leader, int follower) throws Exception {
    Method getRole = leader.getClass().getDeclaredMethod("getRole");
    getRole.setAccessible(true);
    Object role = getRole.invoke(leader);
    Method getLeaderState = role.getClass().getDeclaredMethod("getLeaderState");
    getLeaderState.setAccessible(true);
    Object leaderState = ((Optional<Object>) getLeaderState.invoke(role)).orElseThrow();
    Method getLogAppenders = leaderState.getClass().getDeclaredMethod("getLogAppenders");
    getLogAppenders.setAccessible(true);
    try (Stream<LogAppender> appenders = (Stream<LogAppender>) getLogAppenders.invoke(leaderState)) {
      return appenders.map(LogAppender::getFollower)
          .filter(f -> f.getId().toString().equals(Integer.toString(follower)))
          .findFirst().orElseThrow();
    }
  }
}
