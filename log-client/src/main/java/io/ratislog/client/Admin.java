package io.ratislog.client;

import io.ratislog.proto.CreateTopicRequest;
import io.ratislog.proto.CreateTopicResponse;
import io.ratislog.proto.DeleteTopicRequest;
import io.ratislog.proto.DeleteTopicResponse;
import io.ratislog.proto.DescribeClusterRequest;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.ListTopicsRequest;
import io.ratislog.proto.ListTopicsResponse;
import io.ratislog.proto.AddNodeRequest;
import io.ratislog.proto.AddNodeResponse;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.DescribeReassignmentRequest;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Node;
import io.ratislog.proto.PartitionMove;
import io.ratislog.proto.ReassignPartitionRequest;
import io.ratislog.proto.ReassignPartitionResponse;
import io.ratislog.proto.RemoveNodeRequest;
import io.ratislog.proto.RemoveNodeResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Topic and cluster administration. Each call goes to any node (the server forwards it to the
 * metadata leader); when a node is unreachable the next one is tried, up to the admin timeout.
 * Mutations (create, delete) are retried only when they certainly had no effect (UNAVAILABLE,
 * NOT_LEADER, LEADER_NOT_AVAILABLE); reads also on timeouts. Errors raise
 * {@link RatislogException}. Thread-safe.
 */
public final class Admin implements AutoCloseable {
  /** Default overall time budget of one admin call. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final ClusterConnection conn;
  private final long timeoutMs;

  private Admin(ClusterConnection conn, long timeoutMs) {
    this.conn = conn;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Creates an admin client with the default 30 s timeout.
   *
   * @param bootstrap {@code host:port,host:port,...}
   * @return the admin client
   */
  public static Admin create(String bootstrap) {
    return create(bootstrap, DEFAULT_TIMEOUT);
  }

  /**
   * Creates an admin client.
   *
   * @param bootstrap {@code host:port,host:port,...}
   * @param timeout   overall time budget of each call (across node failover and retries)
   * @return the admin client
   */
  public static Admin create(String bootstrap, Duration timeout) {
    return create(bootstrap, timeout, ChannelFactory.plaintext());
  }

  /**
   * Creates an admin client with a custom channel factory (tests, TLS).
   *
   * @param bootstrap      {@code host:port,host:port,...}
   * @param timeout        overall time budget of each call
   * @param channelFactory opens the channel to a node
   * @return the admin client
   */
  public static Admin create(String bootstrap, Duration timeout, ChannelFactory channelFactory) {
    long ms = Math.max(1, timeout.toMillis());
    return new Admin(new ClusterConnection(bootstrap, Math.min(ms, 10_000), channelFactory), ms);
  }

  /**
   * Creates a topic with no config overrides.
   *
   * @param name              the topic name ([A-Za-z0-9._-], not empty)
   * @param partitions        the partition count, at least 1
   * @param replicationFactor replicas per partition; 0 = the server's default
   * @return the created topic
   * @throws RatislogException e.g. TOPIC_ALREADY_EXISTS, INVALID_TOPIC, INVALID_PARTITIONS,
   *                           INVALID_REPLICATION_FACTOR, REPLICA_LIMIT_EXCEEDED (a node would hold more
   *                           partition replicas than its {@code max.partitions.per.node})
   */
  public TopicDescription createTopic(String name, int partitions, int replicationFactor) {
    return createTopic(name, partitions, replicationFactor, Map.of());
  }

  /**
   * Creates a topic.
   *
   * @param name              the topic name
   * @param partitions        the partition count, at least 1
   * @param replicationFactor replicas per partition; 0 = the server's default
   * @param configs           topic configuration overrides
   * @return the created topic
   * @throws RatislogException on any error
   */
  public TopicDescription createTopic(String name, int partitions, int replicationFactor,
      Map<String, String> configs) {
    CreateTopicRequest req = CreateTopicRequest.newBuilder().setName(Objects.requireNonNull(name))
        .setPartitions(partitions).setReplicationFactor(replicationFactor)
        .putAllConfigs(configs).build();
    CreateTopicResponse resp = conn.callAdmin("CreateTopic(" + name + ")", s -> s.createTopic(req),
        CreateTopicResponse::getError, false, timeoutMs);
    return TopicDescription.fromProto(resp.getTopic());
  }

  /**
   * Changes a topic's configs through the metadata group, atomically: sets {@code set}, removes {@code remove}
   * (back to the default). Known keys: {@code retention.ms}, {@code retention.bytes} (-1 = unlimited).
   *
   * @return the topic with its new configs
   * @throws RatislogException e.g. UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG
   */
  public TopicDescription alterTopicConfig(String name, Map<String, String> set, java.util.Collection<String> remove) {
    io.ratislog.proto.AlterTopicConfigRequest req = io.ratislog.proto.AlterTopicConfigRequest.newBuilder()
        .setName(Objects.requireNonNull(name)).putAllSet(set).addAllRemove(remove).build();
    io.ratislog.proto.AlterTopicConfigResponse resp = conn.callAdmin("AlterTopicConfig(" + name + ")",
        s -> s.alterTopicConfig(req), io.ratislog.proto.AlterTopicConfigResponse::getError, false, timeoutMs);
    return TopicDescription.fromProto(resp.getTopic());
  }

  /**
   * Deletes a topic.
   *
   * @param name the topic name
   * @throws RatislogException e.g. UNKNOWN_TOPIC_OR_PARTITION
   */
  public void deleteTopic(String name) {
    DeleteTopicRequest req = DeleteTopicRequest.newBuilder().setName(Objects.requireNonNull(name)).build();
    conn.callAdmin("DeleteTopic(" + name + ")", s -> s.deleteTopic(req),
        DeleteTopicResponse::getError, false, timeoutMs);
    conn.invalidate(name);
  }

  /**
   * Lists all topics.
   *
   * @return the topics, in the server's order
   * @throws RatislogException on any error
   */
  public List<TopicDescription> listTopics() {
    ListTopicsResponse resp = conn.callAdmin("ListTopics", s -> s.listTopics(ListTopicsRequest.getDefaultInstance()),
        ListTopicsResponse::getError, true, timeoutMs);
    return resp.getTopicsList().stream().map(TopicDescription::fromProto).collect(Collectors.toList());
  }

  /**
   * Describes a topic, including each partition's current leader. The placement is read through the metadata
   * leader, so it reflects every change that completed before this call (a reassignment, a node removal).
   *
   * @param name the topic name
   * @return the topic
   * @throws RatislogException e.g. UNKNOWN_TOPIC_OR_PARTITION
   */
  public TopicDescription describeTopic(String name) {
    return TopicDescription.fromProto(conn.describeTopic(Objects.requireNonNull(name), timeoutMs, true).getTopic());
  }

  /**
   * Describes the cluster: every node with its address, whether it is up and a metadata voter, and
   * the metadata leader (-1 when unknown).
   *
   * @return the response of the node that answered (its error is NONE)
   * @throws RatislogException when no node answered in time
   */
  public DescribeClusterResponse describeCluster() {
    return conn.callAdmin("DescribeCluster",
        s -> s.describeCluster(DescribeClusterRequest.getDefaultInstance()),
        DescribeClusterResponse::getError, true, timeoutMs);
  }

  // ------------------------------------------------------------------ membership

  /**
   * Registers a node with the cluster; optionally starts moving replicas onto it.
   *
   * @param id         the new node's id
   * @param host       its host
   * @param raftPort   its Raft port
   * @param clientPort its client port
   * @param rebalance  also move partition replicas onto it until it holds about its share
   * @return the reassignments started (empty without rebalance)
   * @throws RatislogException e.g. NODE_ALREADY_EXISTS, INVALID_REQUEST
   */
  public List<PartitionMove> addNode(int id, String host, int raftPort, int clientPort, boolean rebalance) {
    AddNodeRequest req = AddNodeRequest.newBuilder()
        .setNode(Node.newBuilder().setId(id).setHost(Objects.requireNonNull(host)).setClientPort(clientPort))
        .setRaftPort(raftPort).setRebalance(rebalance).build();
    return conn.callAdmin("AddNode(" + id + ")", s -> s.addNode(req), AddNodeResponse::getError, false, timeoutMs)
        .getMovesList();
  }

  /**
   * Unregisters a node, or with {@code drain} starts moving its replicas away (call again until
   * {@link RemoveNodeResponse#getRemoved()}).
   *
   * @param id    the node id
   * @param drain reassign the node's replicas to other nodes first
   * @return the response: removed, or the moves under way
   * @throws RatislogException e.g. UNKNOWN_NODE, NODE_IN_USE (replicas or a metadata vote)
   */
  public RemoveNodeResponse removeNode(int id, boolean drain) {
    RemoveNodeRequest req = RemoveNodeRequest.newBuilder().setNodeId(id).setDrain(drain).build();
    return conn.callAdmin("RemoveNode(" + id + ")", s -> s.removeNode(req), RemoveNodeResponse::getError, false,
        timeoutMs);
  }

  /**
   * Takes the next step of replacing a metadata voter by a registered node (see
   * {@link io.ratislog.proto.ReplaceMetadataVoterRequest}); call again until the response is done. Stateless
   * on the cluster's side: calling again after an interruption resumes.
   *
   * @param from the voter to replace
   * @param to   the registered node that takes its vote
   * @return the metadata leader's answer: done, or the step under way, with the group's members and progress
   * @throws RatislogException e.g. UNKNOWN_NODE, NOT_ENOUGH_REPLICAS (no caught-up majority), INVALID_REQUEST
   */
  public io.ratislog.proto.ReplaceMetadataVoterResponse replaceMetadataVoter(int from, int to) {
    io.ratislog.proto.ReplaceMetadataVoterRequest req = io.ratislog.proto.ReplaceMetadataVoterRequest.newBuilder()
        .setFromNode(from).setToNode(to).build();
    return conn.callAdmin("ReplaceMetadataVoter(" + from + " -> " + to + ")", s -> s.replaceMetadataVoter(req),
        io.ratislog.proto.ReplaceMetadataVoterResponse::getError, false, timeoutMs);
  }

  /**
   * Starts moving a partition to new replicas (the first is the preferred leader). The same set in
   * another order moves only the preferred leader and leadership.
   *
   * @param topic     the topic
   * @param partition the partition
   * @param replicas  the new replicas
   * @return the move (from, to)
   * @throws RatislogException e.g. REASSIGNMENT_IN_PROGRESS, UNKNOWN_NODE, UNKNOWN_TOPIC_OR_PARTITION,
   *                           REPLICA_LIMIT_EXCEEDED (a target node is full)
   */
  public PartitionMove reassignPartition(String topic, int partition, List<Integer> replicas) {
    ReassignPartitionRequest req = ReassignPartitionRequest.newBuilder().setTopic(Objects.requireNonNull(topic))
        .setPartition(partition).addAllReplicas(replicas).build();
    PartitionMove move = conn.callAdmin("ReassignPartition(" + topic + "-" + partition + ")",
        s -> s.reassignPartition(req), ReassignPartitionResponse::getError, false, timeoutMs).getMove();
    conn.invalidate(topic);
    return move;
  }

  /**
   * The state of a partition's replicas as its leader sees them: placement, reassignment target, Raft
   * voters and listeners, and how far each replica caught up.
   *
   * @param topic     the topic
   * @param partition the partition
   * @return the leader's answer
   * @throws RatislogException e.g. LEADER_NOT_AVAILABLE when no leader answered in time
   */
  public DescribeReassignmentResponse describeReassignment(String topic, int partition) {
    DescribeReassignmentRequest req = DescribeReassignmentRequest.newBuilder().setTopic(Objects.requireNonNull(topic))
        .setPartition(partition).build();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    RatislogException last = null;
    while (System.nanoTime() < deadline) {
      long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
      DescribeReassignmentResponse any = conn.callAdmin("DescribeReassignment", s -> s.describeReassignment(req),
          r -> r.getError().getCode() == ErrorCode.NOT_LEADER && r.hasLeader() ? Error.getDefaultInstance() : r.getError(),
          true, left);
      if (any.getError().getCode() == ErrorCode.NONE) {
        return any;
      }
      HostPort leader = new HostPort(any.getLeader().getHost(), any.getLeader().getClientPort());
      try {
        DescribeReassignmentResponse r = AdminServiceGrpc.newBlockingStub(conn.channel(leader))
            .withDeadlineAfter(Math.min(left, 2_000), TimeUnit.MILLISECONDS).describeReassignment(req);
        if (r.getError().getCode() == ErrorCode.NONE) {
          return r;
        }
        last = new RatislogException(r.getError().getCode(), r.getError().getMessage());
      } catch (io.grpc.StatusRuntimeException e) {
        last = RatislogException.transport(e.getStatus(), "DescribeReassignment on " + leader, e);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw last != null ? last : new RatislogException(ErrorCode.TIMEOUT, "DescribeReassignment: no time left");
  }

  /**
   * Adds an ACL binding (adding an existing one changes nothing). Needs ALTER on the cluster.
   *
   * @param binding the binding
   * @throws RatislogException e.g. INVALID_REQUEST, AUTHORIZATION_FAILED
   */
  public void addAcl(io.ratislog.proto.AclBinding binding) {
    io.ratislog.proto.AddAclRequest req = io.ratislog.proto.AddAclRequest.newBuilder().setBinding(binding).build();
    conn.callAdmin("AddAcl", s -> s.addAcl(req), io.ratislog.proto.AddAclResponse::getError, true, timeoutMs);
  }

  /**
   * Removes an ACL binding. Needs ALTER on the cluster.
   *
   * @param binding the binding, exactly as added
   * @return how many bindings were removed (0 or 1)
   * @throws RatislogException e.g. INVALID_REQUEST, AUTHORIZATION_FAILED
   */
  public int removeAcl(io.ratislog.proto.AclBinding binding) {
    io.ratislog.proto.RemoveAclRequest req = io.ratislog.proto.RemoveAclRequest.newBuilder().setBinding(binding).build();
    return conn.callAdmin("RemoveAcl", s -> s.removeAcl(req), io.ratislog.proto.RemoveAclResponse::getError, false,
        timeoutMs).getRemoved();
  }

  /**
   * Lists ACL bindings. Needs DESCRIBE on the cluster.
   *
   * @param principal only this principal's bindings, or null/empty for all
   * @return the bindings
   */
  public List<io.ratislog.proto.AclBinding> listAcls(String principal) {
    io.ratislog.proto.ListAclsRequest req = io.ratislog.proto.ListAclsRequest.newBuilder()
        .setPrincipal(principal == null ? "" : principal).build();
    return conn.callAdmin("ListAcls", s -> s.listAcls(req), io.ratislog.proto.ListAclsResponse::getError, true,
        timeoutMs).getBindingsList();
  }

  /** Closes the channels. */
  @Override
  public void close() {
    conn.close();
  }
}
