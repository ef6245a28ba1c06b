package io.ratislog.client;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A topic as the cluster describes it.
 *
 * @param name              the topic name
 * @param topicId           the cluster-assigned topic id
 * @param replicationFactor the number of replicas per partition
 * @param partitions        the partitions, ordered by number
 * @param configs           the topic's configuration overrides
 */
public record TopicDescription(String name, long topicId, int replicationFactor,
    List<PartitionInfo> partitions, Map<String, String> configs) {

  /**
   * Copies the collections.
   *
   * @param name              the topic name
   * @param topicId           the topic id
   * @param replicationFactor the replication factor
   * @param partitions        the partitions
   * @param configs           the configs
   */
  public TopicDescription {
    partitions = partitions.stream().sorted(Comparator.comparingInt(PartitionInfo::partition))
        .collect(Collectors.toUnmodifiableList());
    configs = Map.copyOf(configs);
  }

  /**
   * Converts the wire form.
   *
   * @param t the wire description
   * @return the topic description
   */
  public static TopicDescription fromProto(io.ratislog.proto.TopicDescription t) {
    return new TopicDescription(t.getName(), t.getTopicId(), t.getReplicationFactor(),
        t.getPartitionsList().stream().map(PartitionInfo::fromProto).collect(Collectors.toList()),
        t.getConfigsMap());
  }

  /**
   * The number of partitions.
   *
   * @return the partition count
   */
  public int partitionCount() {
    return partitions.size();
  }
}
