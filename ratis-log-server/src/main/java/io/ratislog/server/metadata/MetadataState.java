package io.ratislog.server.metadata;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AlterTopicConfigCommand;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.DeleteTopicCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.MetadataSnapshot;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.ReassignPartitionCommand;
import io.ratislog.server.entries.CompleteReassignmentCommand;
import io.ratislog.server.entries.RemoveNodeCommand;
import io.ratislog.server.entries.GroupRecord;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.entries.TransactionRecord;
import io.ratislog.server.txn.TransactionTable;
import io.ratislog.server.group.GroupTable;
import io.ratislog.server.security.AclTable;
import io.ratislog.server.raft.GroupIds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The cluster's metadata as the metadata group's state machine holds it: topics with their partitions'
 * placement, the producer-id counter (ids are never reused, so a session can always be told apart), and the
 * consumer groups' membership, generations and assignments ({@link GroupTable}), the transaction
 * coordinator's records ({@link TransactionTable}), and the node registry ({@link NodeRegistry}) with partition
 * reassignments. A pure, deterministic function of the applied commands: the same commands in the same order give
 * the same state on every replica. Readers get immutable copies; {@link #apply} runs on the apply thread only.
 */
public final class MetadataState {
  private final Map<String, TopicRecord> topics = new TreeMap<>();
  private long nextTopicId = 1;
  private long nextProducerId = 1;
  private final GroupTable groups = new GroupTable();
  private final TransactionTable transactions = new TransactionTable();
  private final NodeRegistry registry = new NodeRegistry();
  private final AclTable acls = new AclTable();

  /** Applies one command and answers what happened. */
  public synchronized MetadataResult apply(MetadataCommand command) {
    return switch (command.getKindCase()) {
      case CREATE_TOPIC -> createTopic(command.getCreateTopic());
      case DELETE_TOPIC -> deleteTopic(command.getDeleteTopic());
      case ALLOCATE_PRODUCER_ID -> MetadataResult.newBuilder().setProducerId(nextProducerId++).build();
      case JOIN_GROUP -> groups.join(command.getJoinGroup(), partitionCounts());
      case LEAVE_GROUP -> groups.leave(command.getLeaveGroup(), partitionCounts());
      case EXPIRE_MEMBER -> groups.expire(command.getExpireMember(), partitionCounts());
      case INIT_TXN -> transactions.init(command.getInitTxn(), () -> nextProducerId++);
      case ADD_TXN_PARTITIONS -> transactions.addPartitions(command.getAddTxnPartitions());
      case END_TXN -> transactions.end(command.getEndTxn());
      case COMPLETE_TXN -> transactions.complete(command.getCompleteTxn());
      case ABORT_EXPIRED_TXN -> transactions.abortExpired(command.getAbortExpiredTxn());
      case REGISTER_NODE -> registry.register(command.getRegisterNode(), nextTopicId);
      case REMOVE_NODE -> removeNode(command.getRemoveNode());
      case REASSIGN_PARTITION -> reassign(command.getReassignPartition());
      case COMPLETE_REASSIGNMENT -> completeReassignment(command.getCompleteReassignment());
      case ALTER_TOPIC_CONFIG -> alterTopicConfig(command.getAlterTopicConfig());
      case ADD_ACL -> acls.add(command.getAddAcl());
      case REMOVE_ACL -> acls.remove(command.getRemoveAcl());
      case KIND_NOT_SET -> error(ErrorCode.INVALID_REQUEST, "empty metadata command");
    };
  }

  private MetadataResult createTopic(CreateTopicCommand c) {
    String problem = TopicNames.problem(c.getName());
    if (problem != null) {
      return error(ErrorCode.INVALID_TOPIC, problem);
    }
    if (topics.containsKey(c.getName())) {
      return error(ErrorCode.TOPIC_ALREADY_EXISTS, "topic '" + c.getName() + "' already exists");
    }
    if (c.getPartitionsCount() < 1 || c.getPartitionsCount() > GroupIds.MAX_PARTITIONS) {
      return error(ErrorCode.INVALID_PARTITIONS, "partitions must be in 1.." + GroupIds.MAX_PARTITIONS);
    }
    // Configs are validated where the request arrives (AdminServiceImpl), not here: a create entry written by an
    // older version, which took any config, must replay to the same state. Unreadable values count as unset.
    if (nextTopicId > GroupIds.MAX_TOPIC_ID) {
      return error(ErrorCode.INTERNAL_ERROR, "topic ids exhausted");
    }
    Map<Integer, Integer> adding = new TreeMap<>();
    c.getPartitionsList().forEach(pl -> pl.getReplicasList().forEach(id -> adding.merge(id, 1, Integer::sum)));
    String overLimit = replicaLimitProblem(adding);
    if (overLimit != null) {
      return error(ErrorCode.REPLICA_LIMIT_EXCEEDED, "topic '" + c.getName() + "' (" + c.getPartitionsCount()
          + " partitions, replication factor " + c.getReplicationFactor() + ") refused: " + overLimit);
    }
    TopicRecord topic = TopicRecord.newBuilder()
        .setName(c.getName())
        .setTopicId(nextTopicId++)
        .setReplicationFactor(c.getReplicationFactor())
        .addAllPartitions(c.getPartitionsList())
        .putAllConfigs(c.getConfigsMap())
        .setCreatedMs(c.getCreatedMs())
        .build();
    topics.put(topic.getName(), topic);
    groups.onTopicsChanged(partitionCounts());
    return MetadataResult.newBuilder().setTopic(topic).build();
  }

  private MetadataResult alterTopicConfig(AlterTopicConfigCommand c) {
    TopicRecord t = topics.get(c.getName());
    if (t == null) {
      return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + c.getName() + "' does not exist");
    }
    String problem = TopicConfigs.problem(c.getSetMap());
    if (problem != null) {
      return error(ErrorCode.INVALID_CONFIG, problem);
    }
    for (String key : c.getRemoveList()) {
      if (!TopicConfigs.isKnown(key)) {
        return error(ErrorCode.INVALID_CONFIG, "unknown topic config '" + key + "'");
      }
      if (c.getSetMap().containsKey(key)) {
        return error(ErrorCode.INVALID_CONFIG, "config '" + key + "' is both set and removed");
      }
    }
    Map<String, String> configs = new TreeMap<>(t.getConfigsMap());
    configs.putAll(c.getSetMap());
    c.getRemoveList().forEach(configs::remove);
    TopicRecord altered = t.toBuilder().clearConfigs().putAllConfigs(configs).build();
    topics.put(altered.getName(), altered);
    return MetadataResult.newBuilder().setTopic(altered).build();
  }

  private MetadataResult deleteTopic(DeleteTopicCommand c) {
    TopicRecord removed = topics.remove(c.getName());
    if (removed == null) {
      return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + c.getName() + "' does not exist");
    }
    groups.onTopicsChanged(partitionCounts());
    return MetadataResult.newBuilder().setTopic(removed).build();
  }

  private MetadataResult removeNode(RemoveNodeCommand c) {
    registry.seed(c.getBootstrapList());
    List<String> placed = placementsOf(c.getNodeId());
    if (!placed.isEmpty() && registry.contains(c.getNodeId())) {
      return error(ErrorCode.NODE_IN_USE, "node " + c.getNodeId() + " holds " + placed.size() + " replica(s) ("
          + String.join(", ", placed.subList(0, Math.min(5, placed.size()))) + (placed.size() > 5 ? ", ..." : "")
          + "): reassign them first (logctl cluster remove-node " + c.getNodeId() + " --drain)");
    }
    return registry.remove(c.getNodeId());
  }

  /** The partitions ({@code topic-p}) whose replicas or reassignment target include the node. */
  private List<String> placementsOf(int nodeId) {
    List<String> out = new ArrayList<>();
    for (TopicRecord t : topics.values()) {
      for (int p = 0; p < t.getPartitionsCount(); p++) {
        PartitionPlacement pl = t.getPartitions(p);
        if (pl.getReplicasList().contains(nodeId) || pl.getTargetReplicasList().contains(nodeId)) {
          out.add(t.getName() + "-" + p);
        }
      }
    }
    return out;
  }

  private MetadataResult reassign(ReassignPartitionCommand c) {
    registry.seed(c.getBootstrapList());
    TopicRecord t = topics.get(c.getTopic());
    if (t == null) {
      return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + c.getTopic() + "' does not exist");
    }
    if (c.getPartition() < 0 || c.getPartition() >= t.getPartitionsCount()) {
      return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + c.getTopic() + "' has no partition " + c.getPartition());
    }
    if (c.getReplicasCount() == 0) {
      return error(ErrorCode.INVALID_REPLICATION_FACTOR, "a partition needs at least one replica");
    }
    Set<Integer> seen = new HashSet<>();
    for (int id : c.getReplicasList()) {
      if (!seen.add(id)) {
        return error(ErrorCode.INVALID_REQUEST, "node " + id + " is listed twice in " + c.getReplicasList());
      }
      if (!registry.contains(id)) {
        return error(ErrorCode.UNKNOWN_NODE, "node " + id + " is not registered");
      }
    }
    PartitionPlacement current = t.getPartitions(c.getPartition());
    if (current.getTargetReplicasCount() > 0) {
      if (current.getTargetReplicasList().equals(c.getReplicasList())) {
        return MetadataResult.newBuilder().setTopic(t).build(); // the same request again
      }
      return error(ErrorCode.REASSIGNMENT_IN_PROGRESS, c.getTopic() + "-" + c.getPartition() + " is moving from "
          + current.getReplicasList() + " to " + current.getTargetReplicasList());
    }
    if (current.getReplicasList().equals(c.getReplicasList())) {
      return MetadataResult.newBuilder().setTopic(t).build(); // nothing to do
    }
    Map<Integer, Integer> adding = new TreeMap<>();
    c.getReplicasList().stream().filter(id -> !current.getReplicasList().contains(id)).forEach(id -> adding.put(id, 1));
    String overLimit = replicaLimitProblem(adding);
    if (overLimit != null) {
      return error(ErrorCode.REPLICA_LIMIT_EXCEEDED, c.getTopic() + "-" + c.getPartition() + " cannot move to "
          + c.getReplicasList() + ": " + overLimit);
    }
    PartitionPlacement next = current.toBuilder().clearTargetReplicas().addAllTargetReplicas(c.getReplicasList()).build();
    TopicRecord updated = t.toBuilder().setPartitions(c.getPartition(), next).build();
    topics.put(updated.getName(), updated);
    return MetadataResult.newBuilder().setTopic(updated).build();
  }

  private MetadataResult completeReassignment(CompleteReassignmentCommand c) {
    TopicRecord t = topics.get(c.getTopic());
    if (t == null || t.getTopicId() != c.getTopicId() || c.getPartition() < 0 || c.getPartition() >= t.getPartitionsCount()) {
      return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no partition " + c.getTopic() + "-" + c.getPartition()
          + " of topic id " + c.getTopicId());
    }
    PartitionPlacement current = t.getPartitions(c.getPartition());
    if (!current.getTargetReplicasList().equals(c.getReplicasList())) {
      return error(ErrorCode.REASSIGNMENT_IN_PROGRESS, c.getTopic() + "-" + c.getPartition() + " is not moving to "
          + c.getReplicasList() + " (target " + current.getTargetReplicasList() + ")");
    }
    PartitionPlacement next = PartitionPlacement.newBuilder().addAllReplicas(c.getReplicasList()).build();
    TopicRecord updated = t.toBuilder().setPartitions(c.getPartition(), next).build();
    topics.put(updated.getName(), updated);
    return MetadataResult.newBuilder().setTopic(updated).build();
  }

  /**
   * The first node that {@code adding} (new replicas per node id) would take past the limit it registered
   * ({@link NodeRecord#getMaxReplicas()}, 0: none), described; null when every node has room. Depends only on
   * applied state, so every replica decides the same.
   */
  private String replicaLimitProblem(Map<Integer, Integer> adding) {
    Map<Integer, Integer> held = countReplicas();
    for (Map.Entry<Integer, Integer> e : adding.entrySet()) {
      int max = registry.get(e.getKey()).map(NodeRecord::getMaxReplicas).orElse(0);
      int has = held.getOrDefault(e.getKey(), 0);
      if (max > 0 && has + e.getValue() > max) {
        return "node " + e.getKey() + " holds " + has + " partition replicas and takes at most " + max
            + " (its max.partitions.per.node); this adds " + e.getValue() + ". Delete topics, add nodes, or raise"
            + " the node's limit";
      }
    }
    return null;
  }

  /** Partition replicas per node id, reassignment targets counted. */
  public synchronized Map<Integer, Integer> replicaCounts() {
    return countReplicas();
  }

  private Map<Integer, Integer> countReplicas() {
    Map<Integer, Integer> counts = new TreeMap<>();
    for (TopicRecord t : topics.values()) {
      for (PartitionPlacement pl : t.getPartitionsList()) {
        Set<Integer> ids = new HashSet<>(pl.getReplicasList());
        ids.addAll(pl.getTargetReplicasList());
        ids.forEach(id -> counts.merge(id, 1, Integer::sum));
      }
    }
    return counts;
  }

  static MetadataResult error(ErrorCode code, String message) {
    return MetadataResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message).build();
  }

  private Map<String, Integer> partitionCounts() {
    Map<String, Integer> counts = new TreeMap<>();
    topics.forEach((name, t) -> counts.put(name, t.getPartitionsCount()));
    return counts;
  }

  /** Whether the node registry was seeded (until then the configured peers are the cluster). */
  public synchronized boolean registrySeeded() {
    return registry.seeded();
  }

  /** Every registered node, by id (empty until seeded). */
  public synchronized List<NodeRecord> nodes() {
    return registry.all();
  }

  /** A registered node. */
  public synchronized Optional<NodeRecord> node(int id) {
    return registry.get(id);
  }

  /** The ACL bindings (lock-free reads; changed only by applied commands). */
  public AclTable acls() {
    return acls;
  }

  /** A consumer group, if it exists. */
  public synchronized Optional<GroupRecord> group(String name) {
    return groups.group(name);
  }

  /** Every consumer group, by name. */
  public synchronized List<GroupRecord> groups() {
    return groups.groups();
  }

  /** A transactional id's coordinator record, if it exists. */
  public synchronized Optional<TransactionRecord> transaction(String transactionalId) {
    return transactions.get(transactionalId);
  }

  /** Every transactional id's coordinator record, by id. */
  public synchronized List<TransactionRecord> transactions() {
    return transactions.all();
  }

  public synchronized Optional<TopicRecord> topic(String name) {
    return Optional.ofNullable(topics.get(name));
  }

  public synchronized List<TopicRecord> topics() {
    return new ArrayList<>(topics.values());
  }

  /** Topic ids below this one were handed out; those not in {@link #topics()} belong to deleted topics. */
  public synchronized long nextTopicId() {
    return nextTopicId;
  }

  public synchronized MetadataSnapshot toSnapshot() {
    return MetadataSnapshot.newBuilder().setNextTopicId(nextTopicId).setNextProducerId(nextProducerId)
        .addAllTopics(topics.values()).addAllGroups(groups.groups()).addAllTransactions(transactions.all())
        .addAllNodes(registry.all()).addAllAcls(acls.list()).build();
  }

  public synchronized void restore(MetadataSnapshot snapshot) {
    topics.clear();
    for (TopicRecord t : snapshot.getTopicsList()) {
      topics.put(t.getName(), t);
    }
    nextTopicId = snapshot.getNextTopicId();
    nextProducerId = Math.max(1, snapshot.getNextProducerId());
    groups.restore(snapshot.getGroupsList());
    transactions.restore(snapshot.getTransactionsList());
    registry.restore(snapshot.getNodesList());
    acls.restore(snapshot.getAclsList());
  }
}
