package io.ratislog.server.membership;

import io.ratislog.server.entries.CompleteReassignmentCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.metadata.MetadataClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a partition's replicas, one Raft configuration change at a time, on the partition's leader. Each call
 * of {@link #step} looks at the group's current configuration and takes the next step toward the target,
 * so a move survives leader changes and restarts (the next leader carries on from what it finds):
 *
 * <ol>
 *   <li>target replicas not in the group join one at a time: Ratis stages each (log or snapshot install)
 *       before the configuration that makes it a voter commits, so it never votes while catching up, and
 *       never a majority of new voters at once (listeners left by an older move are promoted);</li>
 *   <li>a leader that is not in the target first hands leadership to a target voter (two tries; then it
 *       removes itself and Ratis steps it down);</li>
 *   <li>the voters become exactly the target (removed replicas leave);</li>
 *   <li>priorities follow the target's order (its first replica, the preferred leader, gets priority 1);</li>
 *   <li>the move is recorded in the metadata ({@link CompleteReassignmentCommand}), after which removed nodes
 *       delete their replicas, and leadership is handed to the preferred leader.</li>
 * </ol>
 */
final class ReassignmentDriver {
  private static final Logger LOG = LoggerFactory.getLogger(ReassignmentDriver.class);
  private static final long TRANSFER_TIMEOUT_MS = 10_000;

  private final RaftServer server;
  private final ClusterNodes nodes;
  private final MetadataClient metadataClient;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Map<RaftGroupId, CompletableFuture<?>> inFlight = new ConcurrentHashMap<>();
  private final Map<RaftGroupId, String> steps = new ConcurrentHashMap<>();
  /** Leadership hand-overs tried before a leaving leader removes itself anyway (Ratis then steps it down). */
  private final Map<RaftGroupId, Integer> transferAttempts = new ConcurrentHashMap<>();
  private static final int MAX_TRANSFER_ATTEMPTS = 2;

  ReassignmentDriver(RaftServer server, ClusterNodes nodes, MetadataClient metadataClient) {
    this.server = server;
    this.nodes = nodes;
    this.metadataClient = metadataClient;
  }

  /** What the move of this group is doing now, as last seen by this node ("" when unknown). */
  String stepOf(RaftGroupId gid) {
    return steps.getOrDefault(gid, "");
  }

  /** Takes the next step of the partition's move, unless one is still under way. This node leads {@code d}. */
  void step(TopicRecord topic, int partition, RaftGroupId gid, RaftServer.Division d) {
    CompletableFuture<?> running = inFlight.get(gid);
    if (running != null && !running.isDone()) {
      return;
    }
    PartitionPlacement placement = topic.getPartitions(partition);
    List<Integer> target = placement.getTargetReplicasList();
    RaftConfiguration conf = d.getRaftConf();
    if (!conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty() || !conf.getPreviousPeers(RaftPeerRole.LISTENER).isEmpty()) {
      steps.put(gid, "committing a configuration change");
      return;
    }
    Map<Integer, RaftPeer> voters = byId(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
    Map<Integer, RaftPeer> listeners = byId(conf.getCurrentPeers(RaftPeerRole.LISTENER));
    List<RaftPeer> desired = RaftPeers.of(target, nodes);
    String name = topic.getName() + "-" + partition;

    List<Integer> newcomers = new ArrayList<>();
    for (int id : target) {
      if (!voters.containsKey(id) && !listeners.containsKey(id)) {
        newcomers.add(id);
      }
    }
    if (!newcomers.isEmpty()) {
      // One new voter at a time: Ratis stages it (log or snapshot install) before the configuration changes,
      // so it catches up without a vote. (A listener promoted to voter did not reliably become electable.)
      int id = newcomers.get(0);
      List<RaftPeer> servers = new ArrayList<>(voters.values());
      servers.add(RaftPeers.peer(id, 0, nodes));
      setConf(gid, name, "adding " + id + " (catching up, then voting)", servers, new ArrayList<>(listeners.values()));
      return;
    }
    for (int id : target) {
      if (listeners.containsKey(id)) {
        List<RaftPeer> servers = new ArrayList<>(voters.values());
        servers.add(RaftPeers.peer(id, 0, nodes));
        List<RaftPeer> rest = new ArrayList<>(listeners.values());
        rest.removeIf(p -> RaftPeers.nodeId(p.getId()) == id);
        setConf(gid, name, "promoting caught-up listener " + id + " to voter", servers, rest);
        return;
      }
    }
    boolean sameVoters = voters.keySet().equals(new HashSet<>(target));
    int self = RaftPeers.nodeId(server.getId());
    if (!sameVoters && !target.contains(self) && transferAttempts.getOrDefault(gid, 0) < MAX_TRANSFER_ATTEMPTS) {
      // Leave as a follower: a leader removing itself would step down with client requests pending on it.
      int to = target.stream().filter(voters::containsKey).findFirst().orElseThrow();
      if (voters.get(self).getPriority() > 0 || voters.get(to).getPriority() == 0) {
        // Otherwise Ratis hands leadership straight back to the higher-priority leaving node.
        List<RaftPeer> servers = new ArrayList<>();
        for (int id : voters.keySet()) {
          servers.add(RaftPeers.peer(id, id == to ? 1 : 0, nodes));
        }
        setConf(gid, name, "making " + to + " the preferred leader before " + self + " leaves", servers,
            new ArrayList<>(listeners.values()));
        return;
      }
      transferAttempts.merge(gid, 1, Integer::sum);
      steps.put(gid, "handing leadership to " + to + " before leaving");
      LOG.info("{}: handing leadership to {} before leaving the group", name, to);
      track(gid, name, transferLeadership(gid, to));
      return;
    }
    if (!sameVoters || !listeners.isEmpty()) {
      Set<Integer> leaving = new HashSet<>(voters.keySet());
      leaving.addAll(listeners.keySet());
      target.forEach(leaving::remove);
      setConf(gid, name, "switching voters to " + target + (leaving.isEmpty() ? "" : ", removing " + leaving), desired, List.of());
      return;
    }
    for (RaftPeer p : desired) {
      if (voters.get(RaftPeers.nodeId(p.getId())).getPriority() != p.getPriority()) {
        setConf(gid, name, "making " + target.get(0) + " the preferred leader", desired, List.of());
        return;
      }
    }
    steps.put(gid, "recording the move in the metadata");
    CompleteReassignmentCommand c = CompleteReassignmentCommand.newBuilder().setTopic(topic.getName())
        .setTopicId(topic.getTopicId()).setPartition(partition).addAllReplicas(target).build();
    CompletableFuture<?> f = metadataClient.submit(MetadataCommand.newBuilder().setCompleteReassignment(c).build())
        .thenCompose(result -> {
          if (result.getErrorCode() != 0) {
            LOG.info("{}: completing the move to {} refused: {}", name, target, result.getErrorMessage());
            return CompletableFuture.completedFuture(null);
          }
          LOG.info("{}: moved to replicas {}", name, target);
          steps.put(gid, "done");
          if (target.get(0) == self) {
            return CompletableFuture.completedFuture(null);
          }
          // Best effort: the priorities hand leadership to the preferred leader anyway once it is caught up.
          return transferLeadership(gid, target.get(0)).handle((r, t) -> {
            if (t != null || !r.isSuccess()) {
              LOG.debug("{}: leadership not handed to {} yet: {}", name, target.get(0), t != null ? t : r.getException());
            }
            return null;
          });
        });
    track(gid, name, f);
  }

  /** Asks this node's division of {@code gid} (its leader) to hand leadership to {@code to}. */
  CompletableFuture<RaftClientReply> transferLeadership(RaftGroupId gid, int to) {
    try {
      return server.transferLeadershipAsync(new TransferLeadershipRequest(clientId, server.getId(), gid,
          callIds.incrementAndGet(), RaftPeers.id(to), TRANSFER_TIMEOUT_MS));
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void setConf(RaftGroupId gid, String name, String step, List<RaftPeer> servers, List<RaftPeer> listeners) {
    steps.put(gid, step);
    LOG.info("{}: {} (voters {}, listeners {})", name, step, ids(servers), ids(listeners));
    SetConfigurationRequest.Arguments args = SetConfigurationRequest.Arguments.newBuilder()
        .setServersInNewConf(servers).setListenersInNewConf(listeners)
        .setMode(SetConfigurationRequest.Mode.SET_UNCONDITIONALLY).build();
    CompletableFuture<RaftClientReply> f;
    try {
      f = server.setConfigurationAsync(new SetConfigurationRequest(clientId, server.getId(), gid,
          callIds.incrementAndGet(), args));
    } catch (Exception e) {
      f = CompletableFuture.failedFuture(e);
    }
    track(gid, name, f.thenAccept(reply -> {
      if (!reply.isSuccess()) {
        throw new IllegalStateException(String.valueOf(reply.getException()));
      }
    }));
  }

  private void track(RaftGroupId gid, String name, CompletableFuture<?> f) {
    inFlight.put(gid, f);
    f.whenComplete((v, t) -> {
      if (t != null) {
        LOG.info("{}: step '{}' did not complete ({}); retrying", name, steps.get(gid), t.toString());
      }
    });
  }

  private static Map<Integer, RaftPeer> byId(Collection<RaftPeer> peers) {
    Map<Integer, RaftPeer> out = new LinkedHashMap<>();
    for (RaftPeer p : peers) {
      out.put(RaftPeers.nodeId(p.getId()), p);
    }
    return out;
  }

  private static List<Integer> ids(Collection<RaftPeer> peers) {
    return peers.stream().map(p -> RaftPeers.nodeId(p.getId())).toList();
  }
}
