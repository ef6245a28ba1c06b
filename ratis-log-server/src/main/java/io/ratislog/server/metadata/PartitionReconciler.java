package io.ratislog.server.metadata;

import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.entries.MetadataQuery;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.membership.ClusterNodes;
import io.ratislog.server.membership.RaftPeers;
import io.ratislog.server.raft.GroupIds;
import io.ratislog.server.raft.ShadedBytes;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's Raft server host exactly the partition groups the metadata places on it: it adds a group
 * for every placed partition it lacks, and removes (with its data) a group whose topic was deleted or whose
 * replicas no longer include this node (after a reassignment completed). Every node
 * does this for itself from its own replica of the metadata, so a group forms as soon as a quorum of its
 * replicas applied the topic's creation, and a node that was down catches up when it returns.
 *
 * <p>Invariant: a group is removed only when its topic id is below the metadata's next topic id and either no
 * topic has that id (this replica of the metadata saw the topic created and deleted) or the partition's
 * replicas and reassignment target both exclude this node (a reassignment is completed in the metadata only
 * after the group's Raft configuration excluded the node).
 */
public final class PartitionReconciler implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionReconciler.class);
  private static final long PERIOD_MS = 2_000;
  private static final long BARRIER_TIMEOUT_MS = 10_000;
  /** Group additions asked of Ratis at once. */
  private static final int ADDS_IN_FLIGHT = 8;

  private final NodeConfig config;
  private final MetadataState metadata;
  private final RaftServer server;
  private final ClusterNodes nodes;
  private final String storageId;
  private final java.util.Set<RaftGroupId> warnedLost = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Map<RaftGroupId, java.util.concurrent.CompletableFuture<?>> removing = new java.util.concurrent.ConcurrentHashMap<>();
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Thread thread;
  private final Object signal = new Object();
  private boolean pending;
  private volatile boolean closed;

  public PartitionReconciler(NodeConfig config, MetadataState metadata, RaftServer server, ClusterNodes nodes,
                             String storageId) {
    this.config = config;
    this.metadata = metadata;
    this.server = server;
    this.nodes = nodes;
    this.storageId = storageId;
    this.thread = new Thread(this::run, "partition-reconciler-" + config.nodeId());
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Asks for a reconciliation soon (called after every applied metadata command). */
  public void trigger() {
    synchronized (signal) {
      pending = true;
      signal.notifyAll();
    }
  }

  private void run() {
    while (!closed) {
      try {
        synchronized (signal) {
          if (!pending) {
            signal.wait(PERIOD_MS);
          }
          pending = false;
        }
        if (!closed) {
          reconcile();
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.warn("reconciliation failed, retrying: {}", e.toString());
      }
    }
  }

  /**
   * One pass: add missing groups, remove groups this node no longer holds a replica of.
   *
   * <p>A replica is created in one of two ways. An <em>initial</em> replica (this node is in the placement's
   * replicas) is created with the whole replica set as its Raft configuration, as at topic creation; this is
   * only done when this node's storage existed when the topic was created (see {@link #trustsInitial}), so
   * that a node that lost its data never votes in a group as if it remembered. A <em>joining</em> replica
   * (this node is in a reassignment's target but not yet a replica) is created with an empty configuration:
   * it waits, voting in nothing, until the partition's leader adds it to the group and it catches up.
   */
  void reconcile() {
    PlacementView view = placementView();
    List<RaftGroupId> hosted = new ArrayList<>();
    server.getGroupIds().forEach(hosted::add);
    List<RaftGroup> missing = new ArrayList<>();
    for (Map.Entry<RaftGroupId, RaftGroup> e : view.wanted().entrySet()) {
      // A group whose removal is still under way keeps its directory until it is gone: never re-add it meanwhile.
      if (!hosted.contains(e.getKey()) && !removing.containsKey(e.getKey())) {
        missing.add(e.getValue());
      }
    }
    addAll(missing);
    for (Map.Entry<RaftGroupId, String> e : view.lost().entrySet()) {
      if (!hosted.contains(e.getKey()) && warnedLost.add(e.getKey())) {
        LOG.error("node {} is a replica of {} but has no data for it (its storage is newer than the topic, or not "
            + "registered yet): it will not re-create the replica; remove it from the partition and add it back "
            + "(logctl partition reassign)", config.nodeId(), e.getValue());
      }
    }
    if (removals(view, hosted).isEmpty() || !metadataCaughtUp()) {
      return;
    }
    // Replaying after a restart, an older state may not list this node for a partition it holds again now, and
    // deleting on that view would wipe a current replica (and its votes): remove only on a view taken after the
    // barrier.
    view = placementView();
    for (Map.Entry<RaftGroupId, String> r : removals(view, hosted).entrySet()) {
      remove(r.getKey(), r.getValue());
    }
  }

  /** The partition groups the metadata places on this node, from one view of it. */
  private record PlacementView(long nextTopicId, List<TopicRecord> topics, Map<RaftGroupId, RaftGroup> wanted,
                               Map<RaftGroupId, String> lost) {
  }

  private PlacementView placementView() {
    // The next topic id first, then the topics, so that every topic id below it is either in the list or deleted.
    long nextTopicId = metadata.nextTopicId();
    List<TopicRecord> topics = metadata.topics();
    Map<RaftGroupId, RaftGroup> wanted = new HashMap<>();
    Map<RaftGroupId, String> lost = new HashMap<>();
    for (TopicRecord t : topics) {
      for (int p = 0; p < t.getPartitionsCount(); p++) {
        PartitionPlacement placement = t.getPartitions(p);
        RaftGroupId gid = GroupIds.partition(t.getTopicId(), p);
        if (placement.getReplicasList().contains(config.nodeId())) {
          if (trustsInitial(t)) {
            wanted.put(gid, RaftGroup.valueOf(gid, RaftPeers.of(placement.getReplicasList(), nodes)));
          } else {
            lost.put(gid, t.getName() + "-" + p);
          }
        } else if (placement.getTargetReplicasList().contains(config.nodeId())) {
          wanted.put(gid, RaftGroup.valueOf(gid)); // joining: no configuration until the leader adds it
        }
      }
    }
    return new PlacementView(nextTopicId, topics, wanted, lost);
  }

  /** The hosted partition groups the view no longer places on this node, each with why it is removed. */
  private Map<RaftGroupId, String> removals(PlacementView view, List<RaftGroupId> hosted) {
    Map<RaftGroupId, String> removals = new HashMap<>();
    for (RaftGroupId gid : hosted) {
      if (!GroupIds.isPartition(gid) || view.wanted().containsKey(gid) || view.lost().containsKey(gid)
          || removing.containsKey(gid) || closed) {
        continue;
      }
      long topicId = GroupIds.topicIdOf(gid);
      if (topicId >= view.nextTopicId()) {
        continue; // this replica of the metadata has not seen the topic yet
      }
      TopicRecord topic = view.topics().stream().filter(t -> t.getTopicId() == topicId).findFirst().orElse(null);
      if (topic == null) {
        removals.put(gid, "of deleted topic id " + topicId);
      } else if (GroupIds.partitionOf(gid) < topic.getPartitionsCount()) {
        removals.put(gid, "of " + topic.getName() + "-" + GroupIds.partitionOf(gid) + ", moved to "
            + topic.getPartitions(GroupIds.partitionOf(gid)).getReplicasList());
      }
    }
    return removals;
  }

  /**
   * A read barrier on this node's metadata replica: true once it has applied everything its group had committed
   * when asked, as confirmed by a current leader (a linearizable read, which Ratis serves on a follower through
   * the leader's read index). Then a partition missing from its placements really moved away (or was deleted).
   * This does not rely on the replica's own record of its commit index, which a restarted node does not have
   * until a leader tells it (Ratis' log-metadata entries are off, see {@code RaftPropertiesFactory}).
   */
  private boolean metadataCaughtUp() {
    RaftClientRequest barrier = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server.getId())
        .setGroupId(GroupIds.metadata())
        .setCallId(callIds.incrementAndGet())
        .setMessage(ShadedBytes.toMessage(MetadataQuery.newBuilder().setNodes(true).build()))
        .setType(RaftClientRequest.readRequestType())
        .build();
    try {
      return server.submitClientRequestAsync(barrier).get(BARRIER_TIMEOUT_MS, TimeUnit.MILLISECONDS).isSuccess();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (IOException | ExecutionException | TimeoutException e) {
      LOG.debug("metadata read barrier failed, removals wait: {}", e.toString());
      return false;
    }
  }

  /**
   * Whether this node may create its initial replica of the topic from scratch: its registered storage is
   * the one it has now, and existed when the topic was created. Before the registry is seeded (a new
   * cluster) every node is trusted.
   */
  private boolean trustsInitial(TopicRecord topic) {
    if (!metadata.registrySeeded()) {
      return true;
    }
    NodeRecord self = metadata.node(config.nodeId()).orElse(null);
    return self != null && self.getStorageId().equals(storageId) && topic.getTopicId() >= self.getFirstTopicId();
  }

  /**
   * Adds the groups, {@link #ADDS_IN_FLIGHT} at a time: Ratis builds each new division (its storage and state
   * machine) on a pool, so a topic's replicas come up in parallel rather than one by one.
   */
  private void addAll(List<RaftGroup> groups) {
    for (int from = 0; from < groups.size() && !closed; from += ADDS_IN_FLIGHT) {
      List<RaftGroup> wave = groups.subList(from, Math.min(groups.size(), from + ADDS_IN_FLIGHT));
      List<java.util.concurrent.CompletableFuture<?>> adds = new ArrayList<>();
      for (RaftGroup group : wave) {
        adds.add(server.groupManagementAsync(GroupManagementRequest.newAdd(clientId, server.getId(),
            callIds.incrementAndGet(), group)));
      }
      for (int i = 0; i < wave.size(); i++) {
        RaftGroup group = wave.get(i);
        try {
          adds.get(i).get(30, TimeUnit.SECONDS);
          LOG.info("node {} joined partition group {} (topic id {}, partition {})", config.nodeId(), group.getGroupId(),
              GroupIds.topicIdOf(group.getGroupId()), GroupIds.partitionOf(group.getGroupId()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          if (!(rootCause(e) instanceof AlreadyExistsException)) {
            LOG.warn("cannot add partition group {}: {}", group.getGroupId(), rootCause(e).toString());
          }
        }
      }
    }
  }

  /**
   * Removes a group and deletes its data in the background: closing a division can take a while (Ratis waits
   * for its pending requests), and must not hold up the other groups' reconciliation.
   */
  private void remove(RaftGroupId gid, String why) {
    // Ratis closes the division on the calling thread: call it from a thread of its own.
    java.util.concurrent.CompletableFuture<Object> f = new java.util.concurrent.CompletableFuture<>();
    removing.put(gid, f);
    Thread t0 = new Thread(() -> {
      try {
        f.complete(server.groupManagementAsync(GroupManagementRequest.newRemove(clientId, server.getId(),
            callIds.incrementAndGet(), gid, true, false)).get());
      } catch (Exception e) {
        f.completeExceptionally(e);
      }
    }, "remove-" + gid);
    t0.setDaemon(true);
    t0.start();
    f.whenComplete((r, t) -> {
      removing.remove(gid);
      if (t != null) {
        LOG.warn("cannot remove partition group {}: {}", gid, rootCause(t).toString());
      } else {
        LOG.info("node {} removed its replica (and data) of partition group {} {}", config.nodeId(), gid, why);
      }
      trigger();
    });
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
