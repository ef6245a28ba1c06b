package io.ratislog.client;

import io.ratislog.proto.PartitionDescription;
import java.util.List;

/**
 * One partition of a topic as the cluster describes it.
 *
 * @param partition   the partition number
 * @param leader      the current leader's node id, or -1 when unknown
 * @param replicas    node ids holding a replica; the first is the preferred leader
 * @param raftGroupId the partition's Raft group id
 */
public record PartitionInfo(int partition, int leader, List<Integer> replicas, String raftGroupId) {

  /**
   * Copies the replica list.
   *
   * @param partition   the partition number
   * @param leader      the leader node id or -1
   * @param replicas    the replica node ids
   * @param raftGroupId the Raft group id
   */
  public PartitionInfo {
    replicas = List.copyOf(replicas);
  }

  /**
   * Converts the wire form.
   *
   * @param p the wire description
   * @return the partition info
   */
  public static PartitionInfo fromProto(PartitionDescription p) {
    return new PartitionInfo(p.getPartition(), p.getLeader(), p.getReplicasList(), p.getRaftGroupId());
  }

  /**
   * Whether the leader is known.
   *
   * @return true when {@link #leader()} is a node id
   */
  public boolean hasLeader() {
    return leader >= 0;
  }
}
