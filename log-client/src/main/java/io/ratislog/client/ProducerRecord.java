package io.ratislog.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A record to send. Arrays are not copied: do not modify them until the send's future completed.
 *
 * @param topic     the topic
 * @param partition an explicit partition, or null to let the partitioner choose (by key hash, or
 *                  sticky round-robin for a null key)
 * @param key       the key, or null
 * @param value     the value, not null (may be empty)
 */
public record ProducerRecord(String topic, Integer partition, byte[] key, byte[] value) {

  /**
   * Validates the components.
   *
   * @param topic     not null
   * @param partition null or not negative
   * @param key       may be null
   * @param value     not null
   */
  public ProducerRecord {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(value, "value");
    if (partition != null && partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0: " + partition);
    }
  }

  /**
   * A record with a key and no explicit partition.
   *
   * @param topic the topic
   * @param key   the key, or null
   * @param value the value
   */
  public ProducerRecord(String topic, byte[] key, byte[] value) {
    this(topic, null, key, value);
  }

  /**
   * A record with neither key nor explicit partition.
   *
   * @param topic the topic
   * @param value the value
   */
  public ProducerRecord(String topic, byte[] value) {
    this(topic, null, null, value);
  }

  /**
   * A key-less record whose value is a UTF-8 string.
   *
   * @param topic the topic
   * @param value the value
   * @return the record
   */
  public static ProducerRecord of(String topic, String value) {
    return new ProducerRecord(topic, value.getBytes(StandardCharsets.UTF_8));
  }
}
