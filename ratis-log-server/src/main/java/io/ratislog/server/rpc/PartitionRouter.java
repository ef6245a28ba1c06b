package io.ratislog.server.rpc;

import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Node;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.membership.ClusterNodes;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.metadata.TopicNames;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.GroupIds;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * Finds the local replica of a partition and checks that this node leads it. A request for a partition this
 * node does not lead is answered NOT_LEADER with the leader it knows of (or the preferred leader when it
 * holds no replica), so that clients go straight to the leader next time.
 */
final class PartitionRouter {
  /**
   * A partition led by this node, or the error to answer with. {@code unknownHere}: the error is this node's metadata
   * replica not knowing the topic or partition, which {@link #confirmedError} confirms before it is answered.
   */
  record Route(RaftGroupId groupId, RaftServer.Division division, PartitionStateMachine stateMachine, Error error,
               Node leader, boolean unknownHere) {
    boolean ok() {
      return error == null;
    }

    /** Whether this node still leads the partition. */
    boolean stillLeader() {
      return division.getInfo().isLeader();
    }

    /**
     * Whether the leader applied every committed entry, so that its end offset is the partition's. A new leader
     * knows which entries are committed only once it committed one of its own term (Ratis' startup entry, which
     * {@code isLeaderReady} reports applied): before that its commit index may be older than entries already
     * acknowledged, for instance after a restart of every replica.
     */
    boolean caughtUp() {
      return division.getInfo().isLeaderReady()
          && division.getInfo().getLastAppliedIndex() >= division.getRaftLog().getLastCommittedIndex();
    }
  }

  private final NodeConfig config;
  private final RaftServer server;
  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final ClusterNodes nodes;

  PartitionRouter(NodeConfig config, RaftServer server, MetadataState metadata, MetadataClient metadataClient) {
    this.config = config;
    this.server = server;
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.nodes = new ClusterNodes(config, metadata);
  }

  Route route(String topic, int partition) {
    if (topic.isEmpty()) {
      return failed(ErrorCode.INVALID_REQUEST, "topic is empty", null);
    }
    if (partition < 0) {
      return failed(ErrorCode.INVALID_REQUEST, "partition must be >= 0, got " + partition, null);
    }
    String invalid = TopicNames.problem(topic);
    if (invalid != null) {
      // No such topic can exist; the message does not echo a name that may be megabytes long.
      return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic: " + abbreviate(invalid), null);
    }
    Optional<TopicRecord> t = metadata.topic(topic);
    if (t.isEmpty()) {
      return unknownHere("unknown topic '" + topic + "'");
    }
    TopicRecord record = t.get();
    if (partition >= record.getPartitionsCount()) {
      return unknownHere("topic '" + topic + "' has " + record.getPartitionsCount() + " partitions, no partition "
          + partition);
    }
    RaftGroupId gid = GroupIds.partition(record.getTopicId(), partition);
    int preferred = record.getPartitions(partition).getReplicas(0);
    RaftServer.Division division;
    try {
      division = server.getDivision(gid);
    } catch (IOException e) {
      division = null;
    }
    if (division == null) {
      boolean replicaHere = record.getPartitions(partition).getReplicasList().contains(config.nodeId());
      if (replicaHere) {
        return failed(ErrorCode.LEADER_NOT_AVAILABLE, topic + "-" + partition + " is still starting on node " + config.nodeId(), null);
      }
      return failed(ErrorCode.NOT_LEADER, topic + "-" + partition + " has no replica on node " + config.nodeId(), node(preferred));
    }
    if (!division.getInfo().isLeader()) {
      Node hint = leaderHint(division);
      if (hint == null) {
        return failed(ErrorCode.LEADER_NOT_AVAILABLE, topic + "-" + partition + " has no leader right now (election under way)", null);
      }
      return failed(ErrorCode.NOT_LEADER, "node " + config.nodeId() + " does not lead " + topic + "-" + partition, hint);
    }
    PartitionStateMachine sm = (PartitionStateMachine) division.getStateMachine();
    if (!sm.isServing()) {
      return failed(ErrorCode.LEADER_NOT_AVAILABLE, topic + "-" + partition + " is loading", null);
    }
    return new Route(gid, division, sm, null, null, false);
  }

  /**
   * Like {@link #route}, and also refuses (LEADER_NOT_AVAILABLE) while the leader has not applied every
   * committed entry: for reads whose answer must be the partition's, not a new leader's lagging view (list
   * offsets, committed offsets, resets).
   */
  Route routeCaughtUp(String topic, int partition) {
    Route r = route(topic, partition);
    if (r.ok() && !r.caughtUp()) {
      return failed(ErrorCode.LEADER_NOT_AVAILABLE,
          "the new leader of " + topic + "-" + partition + " is still applying committed entries", null);
    }
    return r;
  }

  /**
   * The error to answer for a route that failed. UNKNOWN_TOPIC_OR_PARTITION comes from this node's metadata replica,
   * which may lag: a restarted node applies the metadata log only once the metadata leader has told it the commit
   * index, and Ratis reopens (and may elect it leader of) its partition groups before that. A client told the topic
   * does not exist gives up (a producer fails its batch, though an earlier attempt may have been appended; a push
   * subscription ends), so the absence is confirmed by a linearizable read through the metadata leader first. If
   * the leader knows the partition, or cannot be asked, the answer is retriable (LEADER_NOT_AVAILABLE, or TIMEOUT).
   * Every other error, and a name no topic can have, is answered at once.
   *
   * @return the error to answer; never completes exceptionally
   */
  CompletableFuture<Error> confirmedError(String topic, int partition, Route failed) {
    if (!failed.unknownHere()) {
      return CompletableFuture.completedFuture(failed.error());
    }
    return metadataClient.query(topic).handle((r, t) -> {
      if (t != null) {
        return Errors.metadataUnavailable(t);
      }
      if (r.getTopicsCount() == 0 || partition >= r.getTopics(0).getPartitionsCount()) {
        return failed.error();
      }
      return Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "node " + config.nodeId() + " has not applied "
          + topic + "-" + partition + " to its metadata yet");
    });
  }

  /** The node this node believes leads the group now, or null. */
  Node leaderHint(RaftServer.Division division) {
    RaftPeerId leaderId = division.getInfo().getLeaderId();
    return leaderId == null ? null : node(Integer.parseInt(leaderId.toString()));
  }

  /** The client address of node {@code id}, or null when no such node is registered (or configured). */
  Node node(int id) {
    PeerInfo p = nodes.peer(id);
    return p == null ? null : toNode(p);
  }

  /** The client address of {@code p}, as the API names a node. */
  static Node toNode(PeerInfo p) {
    return Node.newBuilder().setId(p.id()).setHost(p.host()).setClientPort(p.clientPort()).build();
  }

  /** At most 200 characters of {@code s}. */
  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " characters)";
  }

  private static Route failed(ErrorCode code, String message, Node leader) {
    return new Route(null, null, null, Errors.of(code, message), leader, false);
  }

  private static Route unknownHere(String message) {
    return new Route(null, null, null, Errors.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message), null, true);
  }
}
