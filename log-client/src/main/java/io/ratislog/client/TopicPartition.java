package io.ratislog.client;

import java.util.Objects;

/**
 * A partition of a topic: the unit of ordering and replication (each partition is one Raft group).
 *
 * @param topic     the topic name
 * @param partition the partition number, {@code 0 <= partition < partitionCount}
 */
public record TopicPartition(String topic, int partition) implements Comparable<TopicPartition> {

  /**
   * Validates the components.
   *
   * @param topic     the topic name, not null
   * @param partition the partition number, not negative
   */
  public TopicPartition {
    Objects.requireNonNull(topic, "topic");
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0: " + partition);
    }
  }

  /** Orders by topic name, then partition number. */
  @Override
  public int compareTo(TopicPartition o) {
    int c = topic.compareTo(o.topic);
    return c != 0 ? c : Integer.compare(partition, o.partition);
  }

  /** Returns {@code topic-partition}, e.g. {@code orders-3}. */
  @Override
  public String toString() {
    return topic + "-" + partition;
  }
}
