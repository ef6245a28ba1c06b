package io.ratislog.client;

import java.nio.charset.StandardCharsets;

/**
 * A record read from a partition.
 *
 * @param topic           the topic
 * @param partition       the partition
 * @param offset          the record's offset
 * @param key             the key, or null when the record has none (an empty key reads as null)
 * @param value           the value (never null, may be empty)
 * @param timestampMs     the producer's creation time (ms since the epoch), 0 when unset
 * @param logAppendTimeMs the time the partition leader appended the record's batch
 */
public record ConsumerRecord(String topic, int partition, long offset, byte[] key, byte[] value,
    long timestampMs, long logAppendTimeMs) {

  /**
   * The value decoded as UTF-8.
   *
   * @return the value as a string
   */
  public String valueAsString() {
    return new String(value, StandardCharsets.UTF_8);
  }

  /**
   * The key decoded as UTF-8, or null.
   *
   * @return the key as a string, or null
   */
  public String keyAsString() {
    return key == null ? null : new String(key, StandardCharsets.UTF_8);
  }

  /**
   * A stable idempotency key for this record: {@code topic/partition/offset}. A record keeps its partition and
   * offset forever, so a sink outside ratislog that stores this key with its effect (a unique column, a
   * conditional put) applies each record once even when an at-least-once consumer redelivers it: that is
   * exactly-once delivery to an external sink. ('/' cannot occur in topic names.)
   *
   * @return the key
   */
  public String idempotencyKey() {
    return topic + "/" + partition + "/" + offset;
  }

  /**
   * The record's partition.
   *
   * @return the topic partition
   */
  public TopicPartition topicPartition() {
    return new TopicPartition(topic, partition);
  }
}
