package io.ratislog.client;

/**
 * Where an acknowledged record was stored.
 *
 * @param topic     the topic
 * @param partition the partition
 * @param offset    the record's offset in the partition
 */
public record RecordMetadata(String topic, int partition, long offset) {

  /**
   * The partition as a {@link TopicPartition}.
   *
   * @return the topic partition
   */
  public TopicPartition topicPartition() {
    return new TopicPartition(topic, partition);
  }
}
