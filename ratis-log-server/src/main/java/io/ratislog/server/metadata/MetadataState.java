package io.ratislog.server.metadata;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AlterTopicConfigCommand;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.DeleteTopicCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.MetadataSnapshot;
import io.ratislog.server.entries.GroupRecord;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.group.GroupTable;
import io.ratislog.server.raft.GroupIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The cluster's metadata as the metadata group's state machine holds it: topics with their partitions'
 * placement, the producer-id counter (ids are never reused, so a session can always be told apart), and the
 * consumer groups' membership, generations and assignments ({@link GroupTable}). A pure, deterministic function of the applied commands: the same commands in the same order give
 * the same state on every replica. Readers get immutable copies; {@link #apply} runs on the apply thread only.
 */
public final class MetadataState {
  private final Map<String, TopicRecord> topics = new TreeMap<>();
  private long nextTopicId = 1;
  private long nextProducerId = 1;
  private final GroupTable groups = new GroupTable();

  /** Applies one command and answers what happened. */
  public synchronized MetadataResult apply(MetadataCommand command) {
    return switch (command.getKindCase()) {
      case CREATE_TOPIC -> createTopic(command.getCreateTopic());
      case DELETE_TOPIC -> deleteTopic(command.getDeleteTopic());
      case ALLOCATE_PRODUCER_ID -> MetadataResult.newBuilder().setProducerId(nextProducerId++).build();
      case JOIN_GROUP -> groups.join(command.getJoinGroup(), partitionCounts());
      case LEAVE_GROUP -> groups.leave(command.getLeaveGroup(), partitionCounts());
      case EXPIRE_MEMBER -> groups.expire(command.getExpireMember(), partitionCounts());
      case ALTER_TOPIC_CONFIG -> alterTopicConfig(command.getAlterTopicConfig());
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

  private static MetadataResult error(ErrorCode code, String message) {
    return MetadataResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message).build();
  }

  private Map<String, Integer> partitionCounts() {
    Map<String, Integer> counts = new TreeMap<>();
    topics.forEach((name, t) -> counts.put(name, t.getPartitionsCount()));
    return counts;
  }

  /** A consumer group, if it exists. */
  public synchronized Optional<GroupRecord> group(String name) {
    return groups.group(name);
  }

  /** Every consumer group, by name. */
  public synchronized List<GroupRecord> groups() {
    return groups.groups();
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
        .addAllTopics(topics.values()).addAllGroups(groups.groups()).build();
  }

  public synchronized void restore(MetadataSnapshot snapshot) {
    topics.clear();
    for (TopicRecord t : snapshot.getTopicsList()) {
      topics.put(t.getName(), t);
    }
    nextTopicId = snapshot.getNextTopicId();
    nextProducerId = Math.max(1, snapshot.getNextProducerId());
    groups.restore(snapshot.getGroupsList());
  }
}
