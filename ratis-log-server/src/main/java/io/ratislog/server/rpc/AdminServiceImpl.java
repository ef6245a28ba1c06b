package io.ratislog.server.rpc;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.ratislog.proto.AclBinding;
import io.ratislog.proto.ReplaceMetadataVoterRequest;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
import io.ratislog.proto.AddAclRequest;
import io.ratislog.proto.AddAclResponse;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.AlterTopicConfigRequest;
import io.ratislog.proto.AlterTopicConfigResponse;
import io.ratislog.proto.ListAclsRequest;
import io.ratislog.proto.ListAclsResponse;
import io.ratislog.proto.RemoveAclRequest;
import io.ratislog.proto.RemoveAclResponse;
import io.ratislog.server.entries.AclRecord;
import io.ratislog.server.security.AclTable;
import io.ratislog.server.security.TlsContexts;
import io.ratislog.proto.CreateTopicRequest;
import io.ratislog.proto.CreateTopicResponse;
import io.ratislog.proto.DeleteTopicRequest;
import io.ratislog.proto.DeleteTopicResponse;
import io.ratislog.proto.DescribeClusterRequest;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.DescribeTopicRequest;
import io.ratislog.proto.DescribeTopicResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ListTopicsRequest;
import io.ratislog.proto.ListTopicsResponse;
import io.ratislog.proto.Node;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.PartitionDescription;
import io.ratislog.proto.PingRequest;
import io.ratislog.proto.PingResponse;
import io.ratislog.proto.TopicDescription;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.AlterTopicConfigCommand;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.DeleteTopicCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.proto.AddNodeRequest;
import io.ratislog.proto.AddNodeResponse;
import io.ratislog.proto.DescribeReassignmentRequest;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.ReassignPartitionRequest;
import io.ratislog.proto.ReassignPartitionResponse;
import io.ratislog.proto.RemoveNodeRequest;
import io.ratislog.proto.RemoveNodeResponse;
import io.ratislog.server.membership.ClusterNodes;
import io.ratislog.server.membership.MembershipController;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.metadata.Placement;
import io.ratislog.server.metadata.TopicConfigs;
import io.ratislog.server.metadata.TopicNames;
import io.ratislog.server.raft.GroupIds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topic and cluster administration. Writes go through the metadata group (from any node: the metadata client
 * finds its leader). Admin reads (list and linearizable describe, the cluster's nodes) read through the metadata
 * leader, so a caller sees its own changes whichever node answers; route refreshes answer from this node's replica,
 * falling back to a linearizable read when the replica does not know a topic yet.
 */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServiceImpl.class);
  public static final int MAX_PARTITIONS_PER_TOPIC = 10_000;
  public static final int MAX_TOPIC_CONFIGS = 100;
  public static final int MAX_CONFIG_KEY_LENGTH = 256;
  public static final int MAX_CONFIG_VALUE_LENGTH = 4_096;

  private final NodeConfig config;
  private final RaftServer server;
  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final PartitionRouter router;
  private final ClusterNodes nodes;
  private final MembershipRpc membershipRpc;
  /** Channels to other nodes' client ports, by {@code host:port} (a re-registered node may move). */
  private final Function<String, ManagedChannel> peerChannels;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  /**
   * @param membership the node's membership controller (add/remove node, reassignment)
   * @param peerTls    the TLS context for channels to the peers' client ports (Ping), or null for plaintext
   */
  public AdminServiceImpl(NodeConfig config, RaftServer server, MetadataState metadata, MetadataClient metadataClient,
                          MembershipController membership, io.grpc.netty.shaded.io.netty.handler.ssl.SslContext peerTls) {
    this.config = config;
    this.server = server;
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.nodes = new ClusterNodes(config, metadata);
    this.router = new PartitionRouter(config, server, metadata, metadataClient);
    this.membershipRpc = new MembershipRpc(config, server, metadata, metadataClient, membership, nodes, router);
    this.peerChannels = address -> channels.computeIfAbsent(address, k -> {
      int colon = k.lastIndexOf(':');
      return TlsContexts.peerChannel(k.substring(0, colon), Integer.parseInt(k.substring(colon + 1)), peerTls).build();
    });
  }

  @Override
  public void createTopic(CreateTopicRequest request, StreamObserver<CreateTopicResponse> out) {
    String problem = TopicNames.problem(request.getName());
    if (problem != null) {
      reply(out, CreateTopicResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_TOPIC, problem)).build());
      return;
    }
    if (request.getPartitions() < 1 || request.getPartitions() > MAX_PARTITIONS_PER_TOPIC) {
      reply(out, CreateTopicResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_PARTITIONS,
          "partitions must be in 1.." + MAX_PARTITIONS_PER_TOPIC + ", got " + request.getPartitions())).build());
      return;
    }
    String configProblem = configsProblem(request.getConfigsMap());
    if (configProblem == null) {
      configProblem = TopicConfigs.problem(request.getConfigsMap());
    }
    if (configProblem != null) {
      reply(out, CreateTopicResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_CONFIG, configProblem)).build());
      return;
    }
    List<Integer> ids = nodes.all().stream().map(PeerInfo::id).toList();
    int count = ids.size();
    int rf = request.getReplicationFactor() == 0 ? Math.min(3, count) : request.getReplicationFactor();
    if (rf < 1 || rf > count) {
      reply(out, CreateTopicResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REPLICATION_FACTOR,
          "replication factor must be in 1.." + count + " (the cluster has " + count + " nodes), got " + rf)).build());
      return;
    }
    MetadataCommand command = MetadataCommand.newBuilder().setCreateTopic(CreateTopicCommand.newBuilder()
        .setName(request.getName())
        .setReplicationFactor(rf)
        .addAllPartitions(Placement.place(request.getName(), request.getPartitions(), rf, ids))
        .putAllConfigs(request.getConfigsMap())
        .setCreatedMs(System.currentTimeMillis()))
        .build();
    metadataClient.submit(command).whenComplete((result, t) -> {
      CreateTopicResponse.Builder b = CreateTopicResponse.newBuilder().setError(Errors.metadataOutcome(result, t));
      if (b.getError().getCode() == ErrorCode.NONE) {
        b.setTopic(describe(result.getTopic()));
      }
      reply(out, b.build());
    });
  }

  /** Topic configs are stored in the metadata group for good: bounded in number and size. */
  static String configsProblem(Map<String, String> configs) {
    if (configs.size() > MAX_TOPIC_CONFIGS) {
      return "at most " + MAX_TOPIC_CONFIGS + " topic configs, got " + configs.size();
    }
    for (Map.Entry<String, String> e : configs.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().length() > MAX_CONFIG_KEY_LENGTH || e.getValue().length() > MAX_CONFIG_VALUE_LENGTH) {
        return "a topic config key has 1.." + MAX_CONFIG_KEY_LENGTH + " characters and its value at most "
            + MAX_CONFIG_VALUE_LENGTH + " (key '" + PartitionRouter.abbreviate(e.getKey()) + "')";
      }
    }
    return null;
  }

  @Override
  public void alterTopicConfig(AlterTopicConfigRequest request, StreamObserver<AlterTopicConfigResponse> out) {
    String problem = TopicConfigs.problem(request.getSetMap());
    for (String key : request.getRemoveList()) {
      if (problem == null && !TopicConfigs.isKnown(key)) {
        problem = "unknown topic config '" + key + "'";
      }
    }
    if (problem == null && request.getSetCount() == 0 && request.getRemoveCount() == 0) {
      problem = "nothing to change: give configs to set or remove";
    }
    if (problem != null) {
      reply(out, AlterTopicConfigResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_CONFIG, problem)).build());
      return;
    }
    MetadataCommand command = MetadataCommand.newBuilder().setAlterTopicConfig(AlterTopicConfigCommand.newBuilder()
        .setName(request.getName()).putAllSet(request.getSetMap()).addAllRemove(request.getRemoveList())).build();
    metadataClient.submit(command).whenComplete((result, t) -> {
      AlterTopicConfigResponse.Builder b = AlterTopicConfigResponse.newBuilder().setError(Errors.metadataOutcome(result, t));
      if (b.getError().getCode() == ErrorCode.NONE) {
        b.setTopic(describe(result.getTopic()));
      }
      reply(out, b.build());
    });
  }

  @Override
  public void deleteTopic(DeleteTopicRequest request, StreamObserver<DeleteTopicResponse> out) {
    String problem = TopicNames.problem(request.getName());
    if (problem != null) {
      reply(out, DeleteTopicResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_TOPIC, problem)).build());
      return;
    }
    MetadataCommand command = MetadataCommand.newBuilder()
        .setDeleteTopic(DeleteTopicCommand.newBuilder().setName(request.getName())).build();
    metadataClient.submit(command).whenComplete((result, t) -> {
      reply(out, DeleteTopicResponse.newBuilder().setError(Errors.metadataOutcome(result, t)).build());
    });
  }

  /** Lists topics from a linearizable read of the metadata; without a metadata leader, from this node's replica. */
  @Override
  public void listTopics(ListTopicsRequest request, StreamObserver<ListTopicsResponse> out) {
    metadataClient.query("").handle((r, t) -> t == null ? r.getTopicsList() : metadata.topics())
        .thenAccept(topics -> {
          ListTopicsResponse.Builder b = ListTopicsResponse.newBuilder().setError(Errors.NONE);
          topics.forEach(topic -> b.addTopics(describe(topic)));
          reply(out, b.build());
        });
  }

  /**
   * Describes a topic. A linearizable request (admin calls) reads through the metadata leader, so that a change
   * the caller just made is seen even if this node's replica has not applied it yet; other requests (clients
   * refreshing routes, often during a failover) answer from this node's replica when it knows the topic. Without a
   * metadata leader, the replica answers either way.
   */
  @Override
  public void describeTopic(DescribeTopicRequest request, StreamObserver<DescribeTopicResponse> out) {
    String name = request.getName();
    var local = metadata.topic(name);
    if (local.isPresent() && !request.getLinearizable()) {
      reply(out, describeResponse(local.get()));
      return;
    }
    if (TopicNames.problem(name) != null) {
      reply(out, unknownTopic(name));
      return;
    }
    metadataClient.query(name).whenComplete((r, t) -> {
      if (t != null) {
        reply(out, local.isPresent() ? describeResponse(local.get())
            : DescribeTopicResponse.newBuilder().setError(Errors.metadataUnavailable(t)).build());
      } else if (r.getTopicsCount() == 0) {
        reply(out, unknownTopic(name));
      } else {
        reply(out, describeResponse(r.getTopics(0)));
      }
    });
  }

  private DescribeTopicResponse unknownTopic(String name) {
    return DescribeTopicResponse.newBuilder().setError(Errors.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        "unknown topic '" + name + "'")).build();
  }

  private DescribeTopicResponse describeResponse(TopicRecord t) {
    DescribeTopicResponse.Builder b = DescribeTopicResponse.newBuilder().setError(Errors.NONE).setTopic(describe(t));
    for (PeerInfo p : nodes.all()) {
      b.addNodes(router.node(p.id()));
    }
    return b.build();
  }

  private TopicDescription describe(TopicRecord t) {
    TopicDescription.Builder b = TopicDescription.newBuilder()
        .setName(t.getName())
        .setTopicId(t.getTopicId())
        .setReplicationFactor(t.getReplicationFactor())
        .putAllConfigs(t.getConfigsMap());
    for (int p = 0; p < t.getPartitionsCount(); p++) {
      RaftGroupId gid = GroupIds.partition(t.getTopicId(), p);
      b.addPartitions(PartitionDescription.newBuilder()
          .setPartition(p)
          .addAllReplicas(t.getPartitions(p).getReplicasList())
          .addAllTargetReplicas(t.getPartitions(p).getTargetReplicasList())
          .setLeader(leaderOf(gid))
          .setRaftGroupId(gid.getUuid().toString()));
    }
    return b.build();
  }

  /** The leader this node knows of for a group it holds a replica of, else -1. */
  private int leaderOf(RaftGroupId gid) {
    try {
      RaftServer.Division d = server.getDivision(gid);
      RaftPeerId leader = d.getInfo().getLeaderId();
      return leader == null ? -1 : Integer.parseInt(leader.toString());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The nodes come from a linearizable read of the registry, so a node a client just added or removed is listed (or
   * not) whichever node answers; without a metadata leader, from this node's replica. Roles and replica counts are
   * this node's view.
   */
  @Override
  public void describeCluster(DescribeClusterRequest request, StreamObserver<DescribeClusterResponse> out) {
    metadataClient.queryNodes()
        .handle((r, t) -> t == null && r.getNodesCount() > 0
            ? r.getNodesList().stream().map(ClusterNodes::toPeer).toList() : nodes.all())
        .thenAccept(registered -> describeCluster(registered, out));
  }

  private void describeCluster(List<PeerInfo> registered, StreamObserver<DescribeClusterResponse> out) {
    List<CompletableFuture<NodeStatus>> statuses = new ArrayList<>();
    MetadataRoles roles = metadataRoles();
    Map<Integer, Integer> replicas = metadata.replicaCounts();
    for (PeerInfo p : registered) {
      Node node = PartitionRouter.toNode(p);
      statuses.add(ping(p).thenApply(up -> NodeStatus.newBuilder().setNode(node).setUp(up)
          .setMetadataVoter(roles.voters().contains(p.id())).setMetadataListener(roles.listeners().contains(p.id()))
          .setRaftPort(p.raftPort()).setReplicaCount(replicas.getOrDefault(p.id(), 0))
          .setMaxReplicas(metadata.node(p.id()).map(NodeRecord::getMaxReplicas).orElse(0)).build()));
    }
    CompletableFuture.allOf(statuses.toArray(new CompletableFuture[0])).whenComplete((v, t) -> {
      DescribeClusterResponse.Builder b = DescribeClusterResponse.newBuilder().setError(Errors.NONE)
          .setAnsweredBy(config.nodeId()).setMetadataLeader(leaderOf(GroupIds.metadata()));
      statuses.forEach(s -> b.addNodes(s.join()));
      reply(out, b.build());
    });
  }

  /** The metadata group's voters and listeners as this node's replica of it holds them. */
  record MetadataRoles(java.util.Set<Integer> voters, java.util.Set<Integer> listeners) {}

  MetadataRoles metadataRoles() {
    java.util.Set<Integer> voters = new java.util.TreeSet<>();
    java.util.Set<Integer> listeners = new java.util.TreeSet<>();
    try {
      var conf = server.getDivision(GroupIds.metadata()).getRaftConf();
      conf.getCurrentPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER)
          .forEach(p -> voters.add(Integer.parseInt(p.getId().toString())));
      conf.getCurrentPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER)
          .forEach(p -> listeners.add(Integer.parseInt(p.getId().toString())));
    } catch (IOException | RuntimeException e) {
      LOG.debug("no metadata configuration: {}", e.toString());
    }
    return new MetadataRoles(voters, listeners);
  }

  @Override
  public void addNode(AddNodeRequest request, StreamObserver<AddNodeResponse> out) {
    membershipRpc.addNode(request).whenComplete((r, t) -> reply(out, t == null ? r
        : AddNodeResponse.newBuilder().setError(Errors.of(ErrorCode.INTERNAL_ERROR, t.toString())).build()));
  }

  @Override
  public void removeNode(RemoveNodeRequest request, StreamObserver<RemoveNodeResponse> out) {
    membershipRpc.removeNode(request, metadataRoles().voters()).whenComplete((r, t) -> reply(out, t == null ? r
        : RemoveNodeResponse.newBuilder().setError(Errors.of(ErrorCode.INTERNAL_ERROR, t.toString())).build()));
  }

  @Override
  public void replaceMetadataVoter(ReplaceMetadataVoterRequest request, StreamObserver<ReplaceMetadataVoterResponse> out) {
    membershipRpc.replaceMetadataVoter(request).whenComplete((r, t) -> reply(out, t == null ? r
        : ReplaceMetadataVoterResponse.newBuilder().setError(Errors.of(ErrorCode.INTERNAL_ERROR, t.toString())).build()));
  }

  @Override
  public void reassignPartition(ReassignPartitionRequest request, StreamObserver<ReassignPartitionResponse> out) {
    membershipRpc.reassign(request).whenComplete((r, t) -> reply(out, t == null ? r
        : ReassignPartitionResponse.newBuilder().setError(Errors.of(ErrorCode.INTERNAL_ERROR, t.toString())).build()));
  }

  @Override
  public void describeReassignment(DescribeReassignmentRequest request, StreamObserver<DescribeReassignmentResponse> out) {
    reply(out, membershipRpc.describe(request));
  }

  private CompletableFuture<Boolean> ping(PeerInfo peer) {
    int id = peer.id();
    if (id == config.nodeId()) {
      return CompletableFuture.completedFuture(true);
    }
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    AdminServiceGrpc.newStub(peerChannels.apply(peer.clientAddress())).withDeadlineAfter(1, TimeUnit.SECONDS)
        .ping(PingRequest.getDefaultInstance(), new StreamObserver<>() {
          @Override
          public void onNext(PingResponse value) {
            f.complete(value.getNodeId() == id);
          }

          @Override
          public void onError(Throwable t) {
            f.complete(false);
          }

          @Override
          public void onCompleted() {
            f.complete(false);
          }
        });
    return f;
  }

  @Override
  public void ping(PingRequest request, StreamObserver<PingResponse> out) {
    reply(out, PingResponse.newBuilder().setNodeId(config.nodeId()).build());
  }


  // ---------------------------------------------------------------- security: ACLs

  @Override
  public void addAcl(AddAclRequest request, StreamObserver<AddAclResponse> out) {
    AclRecord record = toRecord(request.getBinding());
    String problem = AclTable.problem(record);
    if (problem != null) {
      reply(out, AddAclResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST, problem)).build());
      return;
    }
    metadataClient.submit(MetadataCommand.newBuilder().setAddAcl(record).build()).whenComplete((result, t) ->
        reply(out, AddAclResponse.newBuilder().setError(Errors.metadataOutcome(result, t)).build()));
  }

  @Override
  public void removeAcl(RemoveAclRequest request, StreamObserver<RemoveAclResponse> out) {
    AclRecord record = toRecord(request.getBinding());
    String problem = AclTable.problem(record);
    if (problem != null) {
      reply(out, RemoveAclResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST, problem)).build());
      return;
    }
    metadataClient.submit(MetadataCommand.newBuilder().setRemoveAcl(record).build()).whenComplete((result, t) -> {
      RemoveAclResponse.Builder b = RemoveAclResponse.newBuilder().setError(Errors.metadataOutcome(result, t));
      if (b.getError().getCode() == ErrorCode.NONE) {
        b.setRemoved(result.getAclsRemoved());
      }
      reply(out, b.build());
    });
  }

  @Override
  public void listAcls(ListAclsRequest request, StreamObserver<ListAclsResponse> out) {
    metadataClient.queryAcls().whenComplete((r, t) -> {
      ListAclsResponse.Builder b = ListAclsResponse.newBuilder();
      if (t != null) {
        b.setError(Errors.metadataUnavailable(t));
      } else {
        b.setError(Errors.NONE);
        for (AclRecord a : r.getAclsList()) {
          if (request.getPrincipal().isEmpty() || request.getPrincipal().equals(a.getPrincipal())) {
            b.addBindings(toBinding(a));
          }
        }
      }
      reply(out, b.build());
    });
  }

  private static AclRecord toRecord(AclBinding b) {
    return AclRecord.newBuilder().setPrincipal(b.getPrincipal()).setResourceType(b.getResourceTypeValue())
        .setResourceName(b.getResourceName()).setPatternType(b.getPatternTypeValue())
        .setOperation(b.getOperationValue()).setPermission(b.getPermissionValue()).build();
  }

  private static AclBinding toBinding(AclRecord a) {
    return AclBinding.newBuilder().setPrincipal(a.getPrincipal()).setResourceTypeValue(a.getResourceType())
        .setResourceName(a.getResourceName()).setPatternTypeValue(a.getPatternType())
        .setOperationValue(a.getOperation()).setPermissionValue(a.getPermission()).build();
  }

  /** Closes the channels used to ping peers. */
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }

  private static <T> void reply(StreamObserver<T> out, T response) {
    try {
      out.onNext(response);
      out.onCompleted();
    } catch (RuntimeException e) {
      LOG.debug("reply failed (client gone?): {}", e.toString());
    }
  }
}
