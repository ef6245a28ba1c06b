package io.ratislog.server.metadata;

import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.raft.GroupIds;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's Raft server host exactly the partition groups the metadata places on it: it adds a group
 * for every placed partition it lacks, and removes (with its data) a group whose topic was deleted. Every node
 * does this for itself from its own replica of the metadata, so a group forms as soon as a quorum of its
 * replicas applied the topic's creation, and a node that was down catches up when it returns.
 *
 * <p>Invariant: a group is removed only when its topic id is below the metadata's next topic id and no topic
 * has that id, i.e. only when this replica of the metadata has seen the topic both created and deleted.
 */
public final class PartitionReconciler implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionReconciler.class);
  private static final long PERIOD_MS = 2_000;

  private final NodeConfig config;
  private final MetadataState metadata;
  private final RaftServer server;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Thread thread;
  private final Object signal = new Object();
  private boolean pending;
  private volatile boolean closed;

  public PartitionReconciler(NodeConfig config, MetadataState metadata, RaftServer server) {
    this.config = config;
    this.metadata = metadata;
    this.server = server;
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

  /** One pass: add missing groups, remove deleted topics' groups. */
  void reconcile() {
    Map<RaftGroupId, RaftGroup> wanted = new HashMap<>();
    for (TopicRecord t : metadata.topics()) {
      for (int p = 0; p < t.getPartitionsCount(); p++) {
        PartitionPlacement placement = t.getPartitions(p);
        if (placement.getReplicasList().contains(config.nodeId())) {
          RaftGroupId gid = GroupIds.partition(t.getTopicId(), p);
          wanted.put(gid, RaftGroup.valueOf(gid, peers(placement)));
        }
      }
    }
    List<RaftGroupId> hosted = new ArrayList<>();
    server.getGroupIds().forEach(hosted::add);
    for (Map.Entry<RaftGroupId, RaftGroup> e : wanted.entrySet()) {
      if (!hosted.contains(e.getKey()) && !closed) {
        add(e.getValue());
      }
    }
    long nextTopicId = metadata.nextTopicId();
    for (RaftGroupId gid : hosted) {
      if (GroupIds.isPartition(gid) && !wanted.containsKey(gid) && GroupIds.topicIdOf(gid) < nextTopicId && !closed) {
        boolean topicLives = metadata.topics().stream().anyMatch(t -> t.getTopicId() == GroupIds.topicIdOf(gid));
        if (!topicLives) {
          remove(gid);
        }
      }
    }
  }

  private List<RaftPeer> peers(PartitionPlacement placement) {
    List<RaftPeer> peers = new ArrayList<>();
    int preferred = placement.getReplicas(0);
    for (int id : placement.getReplicasList()) {
      PeerInfo p = config.peer(id);
      peers.add(RaftPeer.newBuilder().setId(RaftPeerId.valueOf(String.valueOf(id))).setAddress(p.raftAddress())
          .setPriority(id == preferred ? 1 : 0).build());
    }
    return peers;
  }

  private void add(RaftGroup group) {
    try {
      server.groupManagementAsync(GroupManagementRequest.newAdd(clientId, server.getId(), callIds.incrementAndGet(), group))
          .get(30, TimeUnit.SECONDS);
      LOG.info("node {} joined partition group {} (topic id {}, partition {})", config.nodeId(), group.getGroupId(),
          GroupIds.topicIdOf(group.getGroupId()), GroupIds.partitionOf(group.getGroupId()));
    } catch (Exception e) {
      if (!(rootCause(e) instanceof AlreadyExistsException)) {
        LOG.warn("cannot add partition group {}: {}", group.getGroupId(), rootCause(e).toString());
      }
    }
  }

  private void remove(RaftGroupId gid) {
    try {
      server.groupManagementAsync(GroupManagementRequest.newRemove(clientId, server.getId(), callIds.incrementAndGet(),
          gid, true, false)).get(30, TimeUnit.SECONDS);
      LOG.info("node {} removed partition group {} of deleted topic id {}", config.nodeId(), gid, GroupIds.topicIdOf(gid));
    } catch (Exception e) {
      LOG.warn("cannot remove partition group {}: {}", gid, rootCause(e).toString());
    }
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
