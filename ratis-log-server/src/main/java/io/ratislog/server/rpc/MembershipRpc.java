package io.ratislog.server.rpc;

import io.ratislog.proto.AddNodeRequest;
import io.ratislog.proto.AddNodeResponse;
import io.ratislog.proto.DescribeReassignmentRequest;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.PartitionMove;
import io.ratislog.proto.ReassignPartitionRequest;
import io.ratislog.proto.ReassignPartitionResponse;
import io.ratislog.proto.RemoveNodeRequest;
import io.ratislog.proto.RemoveNodeResponse;
import io.ratislog.proto.ReplicaProgress;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.ReassignPartitionCommand;
import io.ratislog.server.entries.RegisterNodeCommand;
import io.ratislog.server.entries.RemoveNodeCommand;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.membership.ClusterNodes;
import io.ratislog.server.membership.MembershipController;
import io.ratislog.server.membership.MovePlanner;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.raft.GroupIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;

/**
 * The membership side of the AdminService: adding and removing nodes, reassigning partitions, and the
 * progress of a reassignment. Changes are metadata commands; the partitions' leaders carry the moves out
 * ({@link MembershipController}).
 */
final class MembershipRpc {
  /** A replica this close to the leader's commit index counts as caught up. */
  static final long CAUGHT_UP_GAP = 8;

  private final NodeConfig config;
  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final MembershipController membership;
  private final ClusterNodes nodes;
  private final PartitionRouter router;

  MembershipRpc(NodeConfig config, RaftServer server, MetadataState metadata, MetadataClient metadataClient,
                MembershipController membership, ClusterNodes nodes, PartitionRouter router) {
    this.config = config;
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.membership = membership;
    this.nodes = nodes;
    this.router = router;
  }

  CompletableFuture<AddNodeResponse> addNode(AddNodeRequest r) {
    NodeRecord node = NodeRecord.newBuilder().setId(r.getNode().getId()).setHost(r.getNode().getHost())
        .setRaftPort(r.getRaftPort()).setClientPort(r.getNode().getClientPort()).build();
    RegisterNodeCommand c = RegisterNodeCommand.newBuilder().setNode(node).addAllBootstrap(nodes.bootstrap()).build();
    return metadataClient.submit(MetadataCommand.newBuilder().setRegisterNode(c).build()).handle((result, t) -> {
      Error e = Errors.metadataOutcome(result, t);
      return AddNodeResponse.newBuilder().setError(e).build();
    }).thenCompose(resp -> {
      if (resp.getError().getCode() != ErrorCode.NONE || !r.getRebalance()) {
        return CompletableFuture.completedFuture(resp);
      }
      List<Integer> ids = new ArrayList<>(nodes.all().stream().map(PeerInfo::id).toList());
      if (!ids.contains(node.getId())) {
        ids.add(node.getId());
      }
      List<MovePlanner.Move> plan = MovePlanner.rebalanceOnto(node.getId(), metadata.topics(), ids);
      return startMoves(plan).thenApply(moves -> resp.toBuilder().addAllMoves(moves).build());
    });
  }

  CompletableFuture<RemoveNodeResponse> removeNode(RemoveNodeRequest r, Set<Integer> metadataVoters) {
    int id = r.getNodeId();
    if (metadataVoters.contains(id)) {
      return done(RemoveNodeResponse.newBuilder().setError(Errors.of(ErrorCode.NODE_IN_USE, "node " + id
          + " votes in the metadata group " + metadataVoters + ": replace its vote first (logctl cluster remove-node " + id
          + " --replace-with NODE)")).build());
    }
    List<PartitionMove> underWay = movesInvolving(id);
    if (!r.getDrain() || (underWay.isEmpty() && !holdsReplicas(id))) {
      if (!underWay.isEmpty()) {
        return done(RemoveNodeResponse.newBuilder().setError(Errors.of(ErrorCode.NODE_IN_USE, "node " + id
            + " is part of " + underWay.size() + " reassignment(s) under way")).addAllMoves(underWay).build());
      }
      RemoveNodeCommand c = RemoveNodeCommand.newBuilder().setNodeId(id).addAllBootstrap(nodes.bootstrap()).build();
      return metadataClient.submit(MetadataCommand.newBuilder().setRemoveNode(c).build()).handle((result, t) -> {
        Error e = Errors.metadataOutcome(result, t);
        return RemoveNodeResponse.newBuilder().setError(e).setRemoved(e.getCode() == ErrorCode.NONE).build();
      });
    }
    List<MovePlanner.Move> plan;
    try {
      plan = MovePlanner.drain(id, metadata.topics(), nodes.all().stream().map(PeerInfo::id).toList());
    } catch (IllegalStateException e) {
      return done(RemoveNodeResponse.newBuilder().setError(Errors.of(ErrorCode.NODE_IN_USE, e.getMessage())).build());
    }
    return startMoves(plan).thenApply(started -> {
      List<PartitionMove> all = new ArrayList<>(underWay);
      all.addAll(started);
      return RemoveNodeResponse.newBuilder().setError(Errors.NONE).setRemoved(false).addAllMoves(all).build();
    });
  }

  /** One step of replacing a metadata voter (on the metadata leader; NOT_LEADER elsewhere). */
  CompletableFuture<io.ratislog.proto.ReplaceMetadataVoterResponse> replaceMetadataVoter(
      io.ratislog.proto.ReplaceMetadataVoterRequest r) {
    return membership.replaceMetadataVoter(r.getFromNode(), r.getToNode());
  }

  CompletableFuture<ReassignPartitionResponse> reassign(ReassignPartitionRequest r) {
    ReassignPartitionCommand c = ReassignPartitionCommand.newBuilder().setTopic(r.getTopic()).setPartition(r.getPartition())
        .addAllReplicas(r.getReplicasList()).addAllBootstrap(nodes.bootstrap()).build();
    return metadataClient.submit(MetadataCommand.newBuilder().setReassignPartition(c).build()).handle((result, t) -> {
      Error e = Errors.metadataOutcome(result, t);
      ReassignPartitionResponse.Builder b = ReassignPartitionResponse.newBuilder().setError(e);
      if (e.getCode() == ErrorCode.NONE && r.getPartition() < result.getTopic().getPartitionsCount()) {
        PartitionPlacement pl = result.getTopic().getPartitions(r.getPartition());
        b.setMove(PartitionMove.newBuilder().setTopic(r.getTopic()).setPartition(r.getPartition())
            .addAllFromReplicas(pl.getReplicasList()).addAllToReplicas(
                pl.getTargetReplicasCount() > 0 ? pl.getTargetReplicasList() : pl.getReplicasList()));
      }
      return b.build();
    });
  }

  DescribeReassignmentResponse describe(DescribeReassignmentRequest r) {
    DescribeReassignmentResponse.Builder b = DescribeReassignmentResponse.newBuilder();
    Optional<TopicRecord> t = metadata.topic(r.getTopic());
    if (t.isPresent() && r.getPartition() >= 0 && r.getPartition() < t.get().getPartitionsCount()) {
      PartitionPlacement pl = t.get().getPartitions(r.getPartition());
      b.addAllReplicas(pl.getReplicasList()).addAllTargetReplicas(pl.getTargetReplicasList());
    }
    PartitionRouter.Route route = router.route(r.getTopic(), r.getPartition());
    if (!route.ok()) {
      b.setError(route.error());
      if (route.leader() != null) {
        b.setLeader(route.leader());
      }
      return b.build();
    }
    RaftServer.Division d = route.division();
    RaftConfiguration conf = d.getRaftConf();
    long leaderCommit = d.getRaftLog().getLastCommittedIndex();
    Map<Integer, Long> commits = new TreeMap<>();
    for (CommitInfoProto ci : d.getCommitInfos()) {
      commits.put(Integer.parseInt(ci.getServer().getId().toStringUtf8()), ci.getCommitIndex());
    }
    List<Integer> voters = new ArrayList<>();
    conf.getCurrentPeers(RaftPeerRole.FOLLOWER).forEach(p -> voters.add(Integer.parseInt(p.getId().toString())));
    List<Integer> listeners = new ArrayList<>();
    conf.getCurrentPeers(RaftPeerRole.LISTENER).forEach(p -> listeners.add(Integer.parseInt(p.getId().toString())));
    List<Integer> shown = new ArrayList<>(b.getReplicasList());
    b.getTargetReplicasList().forEach(id -> { if (!shown.contains(id)) shown.add(id); });
    voters.forEach(id -> { if (!shown.contains(id)) shown.add(id); });
    listeners.forEach(id -> { if (!shown.contains(id)) shown.add(id); });
    for (int id : shown) {
      long ci = commits.getOrDefault(id, -1L);
      String role = voters.contains(id) ? "VOTER" : listeners.contains(id) ? "LISTENER" : "NONE";
      b.addProgress(ReplicaProgress.newBuilder().setNodeId(id).setRole(role).setCommitIndex(ci)
          .setCaughtUp(!role.equals("NONE") && ci >= 0 && ci + CAUGHT_UP_GAP >= leaderCommit));
    }
    String step = b.getTargetReplicasCount() == 0 ? "" : membership.stepOf(route.groupId());
    return b.setError(Errors.NONE).setLeader(router.node(config.nodeId())).addAllVoters(voters)
        .addAllListeners(listeners).setLeaderCommitIndex(leaderCommit).setStep(step).build();
  }

  private boolean holdsReplicas(int id) {
    return metadata.topics().stream().flatMap(t -> t.getPartitionsList().stream())
        .anyMatch(pl -> pl.getReplicasList().contains(id) || pl.getTargetReplicasList().contains(id));
  }

  private List<PartitionMove> movesInvolving(int id) {
    List<PartitionMove> out = new ArrayList<>();
    for (TopicRecord t : metadata.topics()) {
      for (int p = 0; p < t.getPartitionsCount(); p++) {
        PartitionPlacement pl = t.getPartitions(p);
        if (pl.getTargetReplicasCount() > 0
            && (pl.getReplicasList().contains(id) || pl.getTargetReplicasList().contains(id))) {
          out.add(PartitionMove.newBuilder().setTopic(t.getName()).setPartition(p).addAllFromReplicas(pl.getReplicasList())
              .addAllToReplicas(pl.getTargetReplicasList()).build());
        }
      }
    }
    return out;
  }

  /** Proposes the moves one after the other; completes with those the metadata accepted. */
  private CompletableFuture<List<PartitionMove>> startMoves(List<MovePlanner.Move> plan) {
    CompletableFuture<List<PartitionMove>> chain = CompletableFuture.completedFuture(new ArrayList<>());
    for (MovePlanner.Move m : plan) {
      chain = chain.thenCompose(acc -> reassign(ReassignPartitionRequest.newBuilder().setTopic(m.topic())
          .setPartition(m.partition()).addAllReplicas(m.to()).build()).thenApply(resp -> {
            if (resp.getError().getCode() == ErrorCode.NONE) {
              acc.add(resp.getMove());
            }
            return acc;
          }));
    }
    return chain;
  }

  private static <T> CompletableFuture<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
