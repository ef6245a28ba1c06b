package io.ratislog.chaos.nemesis;

import io.ratislog.chaos.cluster.ClusterControl;
import java.util.List;
import java.util.Random;

/**
 * What a nemesis sees: the cluster, the topic under test (to find partition leaders) and a seeded
 * random source.
 *
 * @param cluster    the cluster
 * @param topic      the workload's topic
 * @param partitions its partition count
 * @param random     seeded randomness (the scheduler's thread only)
 */
public record NemesisContext(ClusterControl cluster, String topic, int partitions, Random random) {

  /**
   * A random running, unpaused node.
   *
   * @return its id, or -1 when none
   */
  public int randomLiveNode() {
    List<Integer> live = cluster.nodeIds().stream()
        .filter(id -> cluster.isRunning(id) && !cluster.isPaused(id)).toList();
    return live.isEmpty() ? -1 : live.get(random.nextInt(live.size()));
  }

  /**
   * The target of a leader-directed fault: the leader of a random partition, falling back to a
   * random live node when the leader is unknown.
   *
   * @return the node id (or -1 when no node is live) and how it was chosen
   */
  public Target leaderOrRandom() {
    int p = random.nextInt(partitions);
    int leader = cluster.leaderOf(topic, p);
    if (leader > 0 && cluster.isRunning(leader) && !cluster.isPaused(leader)) {
      return new Target(leader, "leader of " + topic + "-" + p);
    }
    return new Target(randomLiveNode(), "leader of " + topic + "-" + p + " unknown; random node");
  }

  /**
   * The metadata group's leader, falling back to a random live node when it is unknown.
   *
   * @return the node id (or -1 when no node is live) and how it was chosen
   */
  public Target metadataLeaderOrRandom() {
    int leader = cluster.metadataLeader();
    if (leader > 0 && cluster.isRunning(leader) && !cluster.isPaused(leader)) {
      return new Target(leader, "metadata leader");
    }
    return new Target(randomLiveNode(), "metadata leader unknown; random node");
  }

  /**
   * A chosen node.
   *
   * @param node the node id, -1 for none
   * @param note how it was chosen
   */
  public record Target(int node, String note) {}
}
