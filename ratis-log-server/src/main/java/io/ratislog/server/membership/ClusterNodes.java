package io.ratislog.server.membership;

import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.metadata.MetadataState;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the nodes of the cluster are, as this node knows it: the metadata group's node registry once it is
 * seeded, and until then the configured {@code peers} (the bootstrap set). Every lookup of another node's
 * address goes through here, so that a node added at runtime is reachable without configuration changes.
 */
public final class ClusterNodes {
  private final NodeConfig config;
  private final MetadataState metadata;

  public ClusterNodes(NodeConfig config, MetadataState metadata) {
    this.config = config;
    this.metadata = metadata;
  }

  /** Every node, sorted by id. */
  public List<PeerInfo> all() {
    if (!metadata.registrySeeded()) {
      return config.peers();
    }
    List<PeerInfo> out = new ArrayList<>();
    for (NodeRecord n : metadata.nodes()) {
      out.add(toPeer(n));
    }
    return out;
  }

  /** The node with this id, or null when it is not (or no longer) part of the cluster. */
  public PeerInfo peer(int id) {
    if (!metadata.registrySeeded()) {
      return config.peer(id);
    }
    return metadata.node(id).map(ClusterNodes::toPeer).orElse(null);
  }

  /** The configured peers as registry records: what seeds an empty registry. */
  public List<NodeRecord> bootstrap() {
    List<NodeRecord> out = new ArrayList<>();
    for (PeerInfo p : config.peers()) {
      out.add(toRecord(p));
    }
    return out;
  }

  public static NodeRecord toRecord(PeerInfo p) {
    return NodeRecord.newBuilder().setId(p.id()).setHost(p.host()).setRaftPort(p.raftPort())
        .setClientPort(p.clientPort()).build();
  }

  public static PeerInfo toPeer(NodeRecord n) {
    return new PeerInfo(n.getId(), n.getHost(), n.getRaftPort(), n.getClientPort());
  }
}
