package io.ratislog.server.metadata;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.RegisterNodeCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The nodes of the cluster as the metadata group knows them: id, Raft and client addresses, and the
 * identity of each node's storage. Part of {@link MetadataState}, changed only by applied commands.
 *
 * <p>The rule: a node's configured {@code peers} are only the bootstrap set. The registry is empty in a new
 * cluster; the first membership command applied (every node registers itself at start) carries its
 * proposer's configured peers and seeds the registry with them. From then on the registry is authoritative:
 * nodes are added and removed only through commands, so a node added at runtime is known to every node
 * without any other node's configuration changing.
 *
 * <p>Storage identity: a node registers the id of its data directory. When a registered storage id changes
 * (the node lost or wiped its data), {@link NodeRecord#getFirstTopicId()} moves to the next topic id, and the
 * node will not re-create, from scratch, a replica of any older topic: a replica whose Raft state was lost
 * must be removed from its group and added back, never vote as if it remembered.
 */
final class NodeRegistry {
  private final Map<Integer, NodeRecord> nodes = new TreeMap<>();

  boolean seeded() {
    return !nodes.isEmpty();
  }

  /** Seeds an empty registry with the proposer's bootstrap peers (no storage ids yet). */
  void seed(List<NodeRecord> bootstrap) {
    if (nodes.isEmpty()) {
      for (NodeRecord n : bootstrap) {
        nodes.put(n.getId(), n.toBuilder().clearStorageId().setFirstTopicId(0).build());
      }
    }
  }

  MetadataResult register(RegisterNodeCommand c, long nextTopicId) {
    seed(c.getBootstrapList());
    NodeRecord n = c.getNode();
    String problem = addressProblem(n);
    if (problem != null) {
      return MetadataState.error(ErrorCode.INVALID_REQUEST, problem);
    }
    NodeRecord existing = nodes.get(n.getId());
    for (NodeRecord other : nodes.values()) {
      if (other.getId() != n.getId() && other.getHost().equals(n.getHost())
          && (other.getRaftPort() == n.getRaftPort() || other.getClientPort() == n.getClientPort()
              || other.getRaftPort() == n.getClientPort() || other.getClientPort() == n.getRaftPort())) {
        return MetadataState.error(ErrorCode.NODE_ALREADY_EXISTS,
            "node " + other.getId() + " already uses an address of " + describe(n));
      }
    }
    if (c.getSelf()) {
      if (existing == null) {
        return MetadataState.error(ErrorCode.UNKNOWN_NODE, "node " + n.getId()
            + " is not registered: add it first (logctl cluster add-node " + n.getId() + " " + n.getHost() + ":"
            + n.getRaftPort() + ":" + n.getClientPort() + ")");
      }
      NodeRecord.Builder b = existing.toBuilder().setHost(n.getHost()).setRaftPort(n.getRaftPort())
          .setClientPort(n.getClientPort()).setStartedAtMs(n.getStartedAtMs())
          .setMaxReplicas(n.getMaxReplicas());
      if (!n.getStorageId().isEmpty() && !n.getStorageId().equals(existing.getStorageId())) {
        // A first registration keeps the trust it was added with; a changed storage forgot its replicas.
        b.setStorageId(n.getStorageId()).setFirstTopicId(existing.getStorageId().isEmpty() ? existing.getFirstTopicId() : nextTopicId);
      }
      NodeRecord updated = b.build();
      nodes.put(updated.getId(), updated);
      return MetadataResult.newBuilder().setNode(updated).build();
    }
    if (existing != null) {
      if (sameAddresses(existing, n)) {
        return MetadataResult.newBuilder().setNode(existing).build();
      }
      return MetadataState.error(ErrorCode.NODE_ALREADY_EXISTS, "node " + n.getId() + " is already registered as "
          + describe(existing));
    }
    NodeRecord added = n.toBuilder().clearStorageId().clearStartedAtMs().clearMaxReplicas().setFirstTopicId(0).build();
    nodes.put(added.getId(), added);
    return MetadataResult.newBuilder().setNode(added).build();
  }

  /** Removes a node; the caller checked that nothing is placed on it. */
  MetadataResult remove(int id) {
    NodeRecord n = nodes.get(id);
    if (n == null) {
      return MetadataState.error(ErrorCode.UNKNOWN_NODE, "node " + id + " is not registered");
    }
    if (nodes.size() == 1) {
      return MetadataState.error(ErrorCode.NODE_IN_USE, "node " + id + " is the last node of the cluster");
    }
    nodes.remove(id);
    return MetadataResult.newBuilder().setNode(n).build();
  }

  boolean contains(int id) {
    return nodes.containsKey(id);
  }

  Optional<NodeRecord> get(int id) {
    return Optional.ofNullable(nodes.get(id));
  }

  List<NodeRecord> all() {
    return new ArrayList<>(nodes.values());
  }

  void restore(List<NodeRecord> list) {
    nodes.clear();
    for (NodeRecord n : list) {
      nodes.put(n.getId(), n);
    }
  }

  private static boolean sameAddresses(NodeRecord a, NodeRecord b) {
    return a.getHost().equals(b.getHost()) && a.getRaftPort() == b.getRaftPort() && a.getClientPort() == b.getClientPort();
  }

  private static String addressProblem(NodeRecord n) {
    if (n.getId() < 1) {
      return "node id must be >= 1, got " + n.getId();
    }
    if (n.getHost().isBlank()) {
      return "node " + n.getId() + " has no host";
    }
    if (n.getRaftPort() < 1 || n.getRaftPort() > 65535 || n.getClientPort() < 1 || n.getClientPort() > 65535) {
      return "node " + n.getId() + " ports must be in 1..65535";
    }
    if (n.getRaftPort() == n.getClientPort()) {
      return "node " + n.getId() + " uses port " + n.getRaftPort() + " twice";
    }
    return null;
  }

  static String describe(NodeRecord n) {
    return n.getId() + "=" + n.getHost() + ":" + n.getRaftPort() + ":" + n.getClientPort();
  }
}
