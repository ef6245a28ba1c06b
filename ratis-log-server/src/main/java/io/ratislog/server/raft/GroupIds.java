package io.ratislog.server.raft;

import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * Raft group ids that say what they are. The most significant half of the UUID is a fixed tag (one for the
 * metadata group, one for partition groups); for a partition the least significant half holds the topic id
 * (upper 40 bits) and the partition number (lower 24 bits). So any node, on restart, knows from a group
 * directory's name which state machine to build, and a re-created topic (new topic id) never reuses an old
 * topic's groups.
 */
public final class GroupIds {
  private static final long METADATA_TAG = 0x7261746973_000001L; // "ratis" + 1
  private static final long PARTITION_TAG = 0x7261746973_000002L; // "ratis" + 2
  public static final int MAX_PARTITIONS = 1 << 24;
  public static final long MAX_TOPIC_ID = (1L << 40) - 1;

  private GroupIds() {
  }

  public static RaftGroupId metadata() {
    return RaftGroupId.valueOf(new UUID(METADATA_TAG, 0));
  }

  public static boolean isMetadata(RaftGroupId id) {
    return id.getUuid().getMostSignificantBits() == METADATA_TAG;
  }

  public static RaftGroupId partition(long topicId, int partition) {
    if (topicId < 0 || topicId > MAX_TOPIC_ID || partition < 0 || partition >= MAX_PARTITIONS) {
      throw new IllegalArgumentException("topic id " + topicId + " partition " + partition);
    }
    return RaftGroupId.valueOf(new UUID(PARTITION_TAG, (topicId << 24) | partition));
  }

  public static boolean isPartition(RaftGroupId id) {
    return id.getUuid().getMostSignificantBits() == PARTITION_TAG;
  }

  public static long topicIdOf(RaftGroupId id) {
    return id.getUuid().getLeastSignificantBits() >>> 24;
  }

  public static int partitionOf(RaftGroupId id) {
    return (int) (id.getUuid().getLeastSignificantBits() & (MAX_PARTITIONS - 1));
  }
}
