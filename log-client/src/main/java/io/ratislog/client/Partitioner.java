package io.ratislog.client;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Chooses the partition of a record without an explicit one: murmur2 hash of the key modulo the
 * partition count (the same function as Kafka's default partitioner, so equal keys always land on
 * the same partition), or, for records without a key, a "sticky" partition that moves on
 * round-robin each time a batch for it fills up.
 */
public final class Partitioner {
  private final ConcurrentHashMap<String, Integer> sticky = new ConcurrentHashMap<>();

  /** Creates a partitioner. */
  public Partitioner() {}

  /**
   * The partition for a record.
   *
   * @param topic         the topic
   * @param key           the record key, or null
   * @param numPartitions the topic's partition count, at least 1
   * @return a partition in {@code [0, numPartitions)}
   */
  public int partition(String topic, byte[] key, int numPartitions) {
    if (numPartitions <= 0) {
      throw new IllegalArgumentException("numPartitions must be > 0");
    }
    if (key != null) {
      return partitionForKey(key, numPartitions);
    }
    int p = sticky.computeIfAbsent(topic, t -> ThreadLocalRandom.current().nextInt(numPartitions));
    return p % numPartitions;
  }

  /**
   * Moves the sticky partition for key-less records of a topic to the next partition; called when
   * the batch of the current one is full.
   *
   * @param topic         the topic
   * @param fullPartition the partition whose batch filled up
   * @param numPartitions the topic's partition count
   */
  public void onBatchFull(String topic, int fullPartition, int numPartitions) {
    sticky.compute(topic, (t, cur) ->
        (cur == null || cur == fullPartition) ? (fullPartition + 1) % numPartitions : cur);
  }

  /**
   * The partition of a key: {@code toPositive(murmur2(key)) % numPartitions}.
   *
   * @param key           the key, not null
   * @param numPartitions the partition count
   * @return a partition in {@code [0, numPartitions)}
   */
  public static int partitionForKey(byte[] key, int numPartitions) {
    return (murmur2(key) & 0x7fffffff) % numPartitions;
  }

  /**
   * 32-bit murmur2 hash with Kafka's seed ({@code 0x9747b28c}).
   *
   * @param data the bytes to hash
   * @return the hash
   */
  public static int murmur2(byte[] data) {
    int length = data.length;
    int seed = 0x9747b28c;
    final int m = 0x5bd1e995;
    final int r = 24;
    int h = seed ^ length;
    int length4 = length / 4;
    for (int i = 0; i < length4; i++) {
      final int i4 = i * 4;
      int k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8)
          + ((data[i4 + 2] & 0xff) << 16) + ((data[i4 + 3] & 0xff) << 24);
      k *= m;
      k ^= k >>> r;
      k *= m;
      h *= m;
      h ^= k;
    }
    switch (length % 4) {
      case 3:
        h ^= (data[(length & ~3) + 2] & 0xff) << 16;
        // fall through
      case 2:
        h ^= (data[(length & ~3) + 1] & 0xff) << 8;
        // fall through
      case 1:
        h ^= data[length & ~3] & 0xff;
        h *= m;
        break;
      default:
        break;
    }
    h ^= h >>> 13;
    h *= m;
    h ^= h >>> 15;
    return h;
  }
}
