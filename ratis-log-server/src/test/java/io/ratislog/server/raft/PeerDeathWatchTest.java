package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.server.membership.RaftPeers;
import java.util.List;
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
    assertEquals(List.of(3, 2), PeerDeathWatch.turnOrder(voters, RaftPeers.id(1)));
    assertEquals(List.of(1, 2), PeerDeathWatch.turnOrder(voters, RaftPeers.id(3)));
    assertEquals(List.of(2, 4, 5), PeerDeathWatch.turnOrder(
        List.of(peer(5, 0), peer(4, 0), peer(2, 0), peer(1, 1)), RaftPeers.id(1)));
  }
}
