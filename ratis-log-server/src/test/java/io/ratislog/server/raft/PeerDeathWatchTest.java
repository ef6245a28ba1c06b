package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.server.membership.RaftPeers;
import java.util.List;
import java.util.function.IntToLongFunction;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;

class PeerDeathWatchTest {
  private static RaftPeer peer(int id, int priority) {
    return RaftPeer.newBuilder().setId(RaftPeers.id(id)).setAddress("127.0.0.1:" + (9000 + id)).setPriority(priority).build();
  }

  @Test
  void thePreferredLeaderStandsFirstThenTheLowestId() {
    // The failover benchmark: node 1 led a partition whose preferred replica is node 3. Node 2 stood first (lowest
    // id), node 3 refused it for its higher priority, and the group waited for the election timeout.
    List<RaftPeer> voters = List.of(peer(3, 1), peer(1, 0), peer(2, 0));
    assertEquals(List.of(3, 2), PeerDeathWatch.turnOrder(voters, RaftPeers.id(1), SAME_START));
    assertEquals(List.of(1, 2), PeerDeathWatch.turnOrder(voters, RaftPeers.id(3), SAME_START));
    assertEquals(List.of(2, 4, 5), PeerDeathWatch.turnOrder(
        List.of(peer(5, 0), peer(4, 0), peer(2, 0), peer(1, 1)), RaftPeers.id(1), SAME_START));
  }

  private static final IntToLongFunction SAME_START = id -> 1_000;

  @Test
  void amongEqualPrioritiesTheLongestRunningNodeStandsFirst() {
    // The failover benchmark kills the leader every ~15 s and restarts it: the next new leader was, by node id, the
    // node restarted seconds before: produce recovered in a median 0.50 s with it, 0.30 s with a node up since the start.
    IntToLongFunction restarted1 = id -> id == 1 ? 90_000 : 1_000;
    List<RaftPeer> voters = List.of(peer(1, 0), peer(2, 0), peer(3, 0));
    assertEquals(List.of(3, 1), PeerDeathWatch.turnOrder(voters, RaftPeers.id(2), restarted1));
    assertEquals(List.of(2, 1), PeerDeathWatch.turnOrder(voters, RaftPeers.id(3), restarted1));
    // Priority still comes first: a voter refuses a lower-priority candidate whose log is no longer than its own.
    assertEquals(List.of(1, 3), PeerDeathWatch.turnOrder(List.of(peer(1, 1), peer(2, 0), peer(3, 0)),
        RaftPeers.id(2), restarted1));
    // An unknown start (0: a node that has not registered one) counts as the earliest, the same on every survivor.
    assertEquals(List.of(3, 2), PeerDeathWatch.turnOrder(voters, RaftPeers.id(1), id -> id == 3 ? 0 : 1_000));
  }
}
