package io.ratislog.server.metadata;

import io.ratislog.server.entries.PartitionPlacement;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses each partition's replicas. Partition p of a topic starts at node index (offset + p) mod N and takes
 * the next RF nodes, so both replicas and preferred leaders (the first replica) are spread evenly. The offset
 * comes from the topic name, so topics do not all lead on the same node. The proposer computes the placement
 * and puts it in the command: replicas never recompute it.
 */
public final class Placement {
  private Placement() {
  }

  public static List<PartitionPlacement> place(String topic, int partitions, int replicationFactor, List<Integer> nodeIds) {
    List<Integer> nodes = new ArrayList<>(nodeIds);
    nodes.sort(Integer::compare);
    int n = nodes.size();
    if (replicationFactor < 1 || replicationFactor > n) {
      throw new IllegalArgumentException("replication factor " + replicationFactor + " with " + n + " nodes");
    }
    int offset = Math.floorMod(topic.hashCode(), n);
    List<PartitionPlacement> result = new ArrayList<>(partitions);
    for (int p = 0; p < partitions; p++) {
      PartitionPlacement.Builder b = PartitionPlacement.newBuilder();
      for (int r = 0; r < replicationFactor; r++) {
        b.addReplicas(nodes.get((offset + p + r) % n));
      }
      result.add(b.build());
    }
    return result;
  }
}
