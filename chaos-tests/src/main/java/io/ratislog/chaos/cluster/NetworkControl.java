package io.ratislog.chaos.cluster;

import java.util.Map;
import java.util.Set;

/**
 * Real network faults between the nodes of a cluster: what the partition nemeses need. Only a
 * {@link ProcessCluster} whose nodes run in their own network namespaces ({@link NetnsNetwork}) has
 * it; the clients (the test JVM) always keep reaching every node.
 */
public interface NetworkControl {
  /**
   * Replaces the current cuts: afterwards node {@code a} and node {@code b} cannot exchange a single
   * packet (in either direction) exactly when {@code b ∈ cuts.get(a)} or {@code a ∈ cuts.get(b)}.
   * Traffic between a node and the clients is never cut.
   *
   * @param cuts node id to the node ids it must not reach
   */
  void cut(Map<Integer, Set<Integer>> cuts);

  /** Removes every cut this object made; a no-op when there is none. */
  void heal();

  /**
   * Drops a random fraction of the packets a node receives (from peers and clients alike), until
   * {@link #heal}: a lossy link. ({@code tc netem} would do loss and delay, but this kernel has no
   * {@code sch_netem}; the netfilter {@code statistic} match does loss.)
   *
   * @param node        the node
   * @param probability each packet's chance to be dropped, in (0, 1)
   */
  default void lossy(int node, double probability) {
    throw new UnsupportedOperationException("no packet loss here");
  }
}
