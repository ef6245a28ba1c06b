package io.ratislog.server.membership;

import io.ratislog.server.config.PeerInfo;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Builds the Raft peers of a partition group from its replica list. The first replica is the preferred
 * leader: it gets Ratis priority 1, the others 0, so that Ratis hands leadership back to it whenever it is
 * caught up (how leaders stay balanced across nodes).
 */
public final class RaftPeers {
  private RaftPeers() {
  }

  public static RaftPeerId id(int nodeId) {
    return RaftPeerId.valueOf(String.valueOf(nodeId));
  }

  public static int nodeId(RaftPeerId id) {
    return Integer.parseInt(id.toString());
  }

  /**
   * The peers for these replicas, first preferred.
   *
   * @throws IllegalStateException when a node's address is unknown
   */
  public static List<RaftPeer> of(List<Integer> replicas, ClusterNodes nodes) {
    List<RaftPeer> peers = new ArrayList<>();
    int preferred = replicas.isEmpty() ? -1 : replicas.get(0);
    for (int id : replicas) {
      peers.add(peer(id, id == preferred ? 1 : 0, nodes));
    }
    return peers;
  }

  /** One peer with the given priority. */
  public static RaftPeer peer(int id, int priority, ClusterNodes nodes) {
    PeerInfo p = nodes.peer(id);
    if (p == null) {
      throw new IllegalStateException("node " + id + " is not registered: its address is unknown");
    }
    return RaftPeer.newBuilder().setId(id(id)).setAddress(p.raftAddress()).setPriority(priority).build();
  }
}
