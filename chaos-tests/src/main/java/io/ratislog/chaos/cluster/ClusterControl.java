package io.ratislog.chaos.cluster;

import java.util.List;
import java.util.Optional;

/**
 * What a nemesis may do to a cluster: process faults always; real network faults through the
 * optional {@link #network()} capability, which only a cluster whose nodes run in their own network
 * namespaces has ({@link ProcessCluster#inNamespaces}).
 */
public interface ClusterControl {
  /**
   * The node ids, ascending.
   *
   * @return the ids
   */
  List<Integer> nodeIds();

  /**
   * Whether the node's process is alive (possibly paused).
   *
   * @param id node id
   * @return true when running
   */
  boolean isRunning(int id);

  /**
   * Whether the node is stopped with SIGSTOP.
   *
   * @param id node id
   * @return true when paused
   */
  boolean isPaused(int id);

  /**
   * Kills the node with SIGKILL and waits until it is gone. No-op when not running.
   *
   * @param id node id
   */
  void kill9(int id);

  /**
   * Stops the node with SIGSTOP.
   *
   * @param id node id
   */
  void pause(int id);

  /**
   * Continues a paused node with SIGCONT. No-op when not paused.
   *
   * @param id node id
   */
  void resume(int id);

  /**
   * Starts the node again with its data. No-op when running.
   *
   * @param id node id
   */
  void start(int id);

  /**
   * The current leader of a partition as the cluster reports it.
   *
   * @param topic     the topic
   * @param partition the partition
   * @return the leader's node id, or -1 when unknown or the cluster did not answer
   */
  int leaderOf(String topic, int partition);

  /**
   * The replicas of a partition as the cluster reports them.
   *
   * @param topic     the topic
   * @param partition the partition
   * @return node ids (first the preferred leader); empty when unknown
   */
  default List<Integer> replicasOf(String topic, int partition) {
    return nodeIds();
  }

  /**
   * The node id of the metadata group's leader (the controller), as the cluster reports it.
   *
   * @return the id, or -1 when unknown or the cluster did not answer
   */
  default int metadataLeader() {
    return -1;
  }

  /**
   * Whether {@link #setClock} works here.
   *
   * @return true when the nodes run with libfaketime
   */
  default boolean hasClockControl() {
    return false;
  }

  /**
   * Moves a node's wall clock.
   *
   * @param id   node id
   * @param spec a libfaketime offset, e.g. {@code +5m}, {@code +0 x1.5}; {@code +0} restores it
   */
  default void setClock(int id, String spec) {
    throw new UnsupportedOperationException("no clock control");
  }

  /**
   * The data directory of a node (its {@code data.dir}), for disk faults on a stopped node.
   *
   * @param id node id
   * @return the directory, or empty when this cluster cannot reach its nodes' files
   */
  default Optional<java.nio.file.Path> dataDir(int id) {
    return Optional.empty();
  }

  /**
   * An admin client of the cluster (membership nemeses reassign partitions with it).
   *
   * @return the admin client
   * @throws UnsupportedOperationException when this cluster has none
   */
  default io.ratislog.client.Admin admin() {
    throw new UnsupportedOperationException("no admin client");
  }

  /**
   * Deletes a stopped node's data directory, except the given paths (relative to it), as a replaced
   * disk or an operator's {@code rm -rf} would.
   *
   * @param id   node id
   * @param keep relative paths to keep (e.g. the metadata group's Raft directory)
   * @throws IllegalStateException when the node is running
   */
  default void wipeData(int id, java.util.Set<java.nio.file.Path> keep) {
    throw new UnsupportedOperationException("cannot wipe node data");
  }

  /**
   * Real network faults between the nodes, when this cluster can make them.
   *
   * @return the control, or empty (e.g. every node on 127.0.0.1)
   */
  default Optional<NetworkControl> network() {
    return Optional.empty();
  }

  /** Removes every network cut, resets every clock, resumes every paused node and starts every stopped one. */
  default void healAll() {
    network().ifPresent(NetworkControl::heal);
    if (hasClockControl()) {
      nodeIds().forEach(id -> setClock(id, "+0"));
    }
    for (int id : nodeIds()) {
      if (isPaused(id)) {
        resume(id);
      }
      if (!isRunning(id)) {
        start(id);
      }
    }
  }
}
