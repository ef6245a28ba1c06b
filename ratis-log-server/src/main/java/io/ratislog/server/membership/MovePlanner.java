package io.ratislog.server.membership;

import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Plans replica moves for draining a node and for giving a new node its share. Each move replaces one
 * replica of one partition by another node, keeping the replica's position (so a drained preferred leader
 * is replaced as preferred leader). Deterministic: topics by name, partitions in order, ties by node id.
 * Partitions already being reassigned are left alone.
 */
public final class MovePlanner {
  /** One planned move. */
  public record Move(String topic, int partition, List<Integer> from, List<Integer> to) {}

  private MovePlanner() {
  }

  /**
   * Moves every replica off {@code node} onto the least-loaded other nodes.
   *
   * @throws IllegalStateException when a partition has no node left to take the replica
   */
  public static List<Move> drain(int node, List<TopicRecord> topics, List<Integer> nodeIds) {
    Map<Integer, Integer> load = load(topics, nodeIds);
    List<Move> moves = new ArrayList<>();
    for (TopicRecord t : sorted(topics)) {
      for (int p = 0; p < t.getPartitionsCount(); p++) {
        PartitionPlacement pl = t.getPartitions(p);
        if (pl.getTargetReplicasCount() > 0 || !pl.getReplicasList().contains(node)) {
          continue;
        }
        int best = -1;
        for (int candidate : nodeIds) {
          if (candidate != node && !pl.getReplicasList().contains(candidate)
              && (best < 0 || load.get(candidate) < load.get(best))) {
            best = candidate;
          }
        }
        if (best < 0) {
          throw new IllegalStateException(t.getName() + "-" + p + " has replicas " + pl.getReplicasList()
              + " and no other node can take the replica of node " + node);
        }
        moves.add(replace(t.getName(), p, pl.getReplicasList(), node, best));
        load.merge(best, 1, Integer::sum);
        load.merge(node, -1, Integer::sum);
      }
    }
    return moves;
  }

  /** Moves replicas from the most loaded nodes onto {@code node} until it holds its share (total / nodes). */
  public static List<Move> rebalanceOnto(int node, List<TopicRecord> topics, List<Integer> nodeIds) {
    Map<Integer, Integer> load = load(topics, nodeIds);
    int total = load.values().stream().mapToInt(Integer::intValue).sum();
    int share = total / Math.max(1, nodeIds.size());
    List<Move> moves = new ArrayList<>();
    List<String> moved = new ArrayList<>();
    boolean progress = true;
    while (load.getOrDefault(node, 0) < share && progress) {
      progress = false;
      int donor = -1;
      for (int id : nodeIds) {
        if (id != node && (donor < 0 || load.get(id) > load.get(donor))) {
          donor = id;
        }
      }
      if (donor < 0 || load.get(donor) <= load.get(node) + 1) {
        break;
      }
      outer:
      for (TopicRecord t : sorted(topics)) {
        for (int p = 0; p < t.getPartitionsCount(); p++) {
          PartitionPlacement pl = t.getPartitions(p);
          String key = t.getName() + "-" + p;
          if (pl.getTargetReplicasCount() > 0 || moved.contains(key) || !pl.getReplicasList().contains(donor)
              || pl.getReplicasList().contains(node)) {
            continue;
          }
          moves.add(replace(t.getName(), p, pl.getReplicasList(), donor, node));
          moved.add(key);
          load.merge(node, 1, Integer::sum);
          load.merge(donor, -1, Integer::sum);
          progress = true;
          break outer;
        }
      }
    }
    return moves;
  }

  private static Move replace(String topic, int partition, List<Integer> replicas, int out, int in) {
    List<Integer> to = new ArrayList<>(replicas);
    to.set(to.indexOf(out), in);
    return new Move(topic, partition, List.copyOf(replicas), List.copyOf(to));
  }

  /** Replicas per node, counting reassignment targets, over the given nodes. */
  static Map<Integer, Integer> load(List<TopicRecord> topics, List<Integer> nodeIds) {
    Map<Integer, Integer> load = new TreeMap<>();
    nodeIds.forEach(id -> load.put(id, 0));
    for (TopicRecord t : topics) {
      for (PartitionPlacement pl : t.getPartitionsList()) {
        List<Integer> ids = pl.getTargetReplicasCount() > 0 ? pl.getTargetReplicasList() : pl.getReplicasList();
        for (int id : ids) {
          load.computeIfPresent(id, (k, v) -> v + 1);
        }
      }
    }
    return load;
  }

  private static List<TopicRecord> sorted(List<TopicRecord> topics) {
    List<TopicRecord> out = new ArrayList<>(topics);
    out.sort((a, b) -> a.getName().compareTo(b.getName()));
    return out;
  }
}
