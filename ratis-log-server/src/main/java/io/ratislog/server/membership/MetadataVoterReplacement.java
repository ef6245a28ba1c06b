package io.ratislog.server.membership;

import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Node;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
import io.ratislog.proto.ReplicaProgress;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.raft.GroupIds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a voter of the metadata group by another registered node, one step per {@link #step} call on the
 * metadata leader. Each call reads the group's configuration and takes the next step, so the operation has no
 * state of its own: interrupted anywhere (client gone, leader change, restart), calling again resumes.
 *
 * <ol>
 *   <li>The new voter must already follow the group as a listener (the metadata leader makes every registered
 *       node one) and be caught up, so it never votes while behind.</li>
 *   <li>The new voters must have a caught-up majority (the new voter, the leader and the others as the leader
 *       sees them); otherwise the call is refused with NOT_ENOUGH_REPLICAS and nothing changes. The voter count
 *       stays the same, so replacing a dead voter of three works while the other two are up.</li>
 *   <li>A leader that is the voter to replace first hands leadership to another caught-up voter.</li>
 *   <li>One compare-and-set configuration change makes the new node a voter and the old one a listener (Ratis
 *       commits it by joint consensus); the old node leaves the group once it is unregistered.</li>
 * </ol>
 */
final class MetadataVoterReplacement {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataVoterReplacement.class);
  /** A member this close to the leader's commit index counts as caught up. */
  static final long CAUGHT_UP_GAP = 8;

  private final RaftServer server;
  private final MetadataState metadata;
  private final ClusterNodes nodes;
  private final Function<SetConfigurationRequest.Arguments, CompletableFuture<RaftClientReply>> proposeConf;
  private final Function<Integer, CompletableFuture<RaftClientReply>> transferLeadership;

  MetadataVoterReplacement(RaftServer server, MetadataState metadata, ClusterNodes nodes,
                           Function<SetConfigurationRequest.Arguments, CompletableFuture<RaftClientReply>> proposeConf,
                           Function<Integer, CompletableFuture<RaftClientReply>> transferLeadership) {
    this.server = server;
    this.metadata = metadata;
    this.nodes = nodes;
    this.proposeConf = proposeConf;
    this.transferLeadership = transferLeadership;
  }

  /** Takes the next step of replacing voter {@code from} by node {@code to}; see the class comment. */
  CompletableFuture<ReplaceMetadataVoterResponse> step(int from, int to) {
    if (from <= 0 || to <= 0 || from == to) {
      return done(error(ErrorCode.INVALID_REQUEST, "give two different node ids (got " + from + " and " + to + ")"));
    }
    RaftServer.Division d;
    try {
      d = server.getDivision(GroupIds.metadata());
    } catch (IOException e) {
      return done(error(ErrorCode.LEADER_NOT_AVAILABLE, "this node has no metadata replica: " + e.getMessage()));
    }
    if (!d.getInfo().isLeader()) {
      return done(notLeader(d.getInfo().getLeaderId()));
    }
    Snapshot s = new Snapshot(d);
    ReplaceMetadataVoterResponse.Builder b = s.describe();
    if (metadata.node(to).isEmpty()) {
      return done(b.setError(err(ErrorCode.UNKNOWN_NODE, "node " + to
          + " is not registered: add it with 'logctl cluster add-node' and start it first")).build());
    }
    if (!s.conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty() || !s.conf.getPreviousPeers(RaftPeerRole.LISTENER).isEmpty()) {
      return done(b.setStep("waiting for a configuration change of the metadata group to commit").build());
    }
    if (!s.voters.containsKey(from) && s.voters.containsKey(to)) {
      return done(b.setDone(true).setStep("node " + to + " votes in place of node " + from).build());
    }
    if (!s.voters.containsKey(from)) {
      return done(b.setError(err(ErrorCode.INVALID_REQUEST, "node " + from + " is not a metadata voter (voters "
          + s.voters.keySet() + ")")).build());
    }
    if (s.voters.containsKey(to)) {
      return done(b.setError(err(ErrorCode.INVALID_REQUEST, "node " + to + " already votes in the metadata group (voters "
          + s.voters.keySet() + ")")).build());
    }
    if (!s.listeners.containsKey(to)) {
      return done(b.setStep("waiting for node " + to + " to join the metadata group as a listener (is it running?)").build());
    }
    if (!s.caughtUp(to)) {
      return done(b.setStep("node " + to + " is catching up: " + s.commitText(to) + "/" + s.leaderCommit).build());
    }
    List<Integer> newVoters = new ArrayList<>(s.voters.keySet());
    newVoters.remove(Integer.valueOf(from));
    newVoters.add(to);
    List<Integer> caughtUp = newVoters.stream().filter(s::caughtUp).toList();
    int majority = newVoters.size() / 2 + 1;
    if (caughtUp.size() < majority) {
      return done(b.setError(err(ErrorCode.NOT_ENOUGH_REPLICAS, "refused: only " + caughtUp + " of the new voters "
          + newVoters + " are caught up and " + majority + " are needed; bring the others up first")).build());
    }
    int self = RaftPeers.nodeId(server.getId());
    if (self == from) {
      int target = caughtUp.stream().filter(id -> id != to).findFirst().orElse(to);
      LOG.info("metadata group: handing leadership from {} to {} before replacing voter {} by {}", self, target, from, to);
      return transferLeadership.apply(target).handle((r, t) -> b.setStep("handing leadership of the metadata group from "
          + self + " to " + target + (t != null || !r.isSuccess() ? " did not complete (" + (t != null ? t : r.getException())
              + ")" : "")).build());
    }
    List<RaftPeer> servers = new ArrayList<>(s.voters.values());
    servers.removeIf(p -> RaftPeers.nodeId(p.getId()) == from);
    servers.add(s.listeners.get(to));
    List<RaftPeer> listeners = new ArrayList<>(s.listeners.values());
    listeners.removeIf(p -> RaftPeers.nodeId(p.getId()) == to);
    listeners.add(s.voters.get(from));
    SetConfigurationRequest.Arguments args = SetConfigurationRequest.Arguments.newBuilder()
        .setServersInCurrentConf(new ArrayList<>(s.voters.values()))
        .setListenersInCurrentConf(new ArrayList<>(s.listeners.values()))
        .setServersInNewConf(servers).setListenersInNewConf(listeners)
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build();
    LOG.info("metadata group: replacing voter {} by {} (voters become {})", from, to, newVoters);
    return proposeConf.apply(args).handle((r, t) -> {
      ReplaceMetadataVoterResponse.Builder after = new Snapshot(d).describe();
      if (t == null && r.isSuccess()) {
        return after.setDone(true).setStep("node " + to + " votes in place of node " + from).build();
      }
      return after.setStep("the configuration change did not complete (" + (t != null ? t : r.getException())
          + "); call again").build();
    });
  }

  /** The group as the leader holds it now. */
  private static final class Snapshot {
    final RaftConfiguration conf;
    final Map<Integer, RaftPeer> voters;
    final Map<Integer, RaftPeer> listeners;
    final Map<Integer, Long> commits = new TreeMap<>();
    final long leaderCommit;

    Snapshot(RaftServer.Division d) {
      conf = d.getRaftConf();
      voters = byId(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
      listeners = byId(conf.getCurrentPeers(RaftPeerRole.LISTENER));
      leaderCommit = d.getRaftLog().getLastCommittedIndex();
      for (CommitInfoProto ci : d.getCommitInfos()) {
        commits.put(RaftPeers.nodeId(RaftPeerId.valueOf(ci.getServer().getId())), ci.getCommitIndex());
      }
    }

    boolean caughtUp(int id) {
      long ci = commits.getOrDefault(id, -1L);
      return ci >= 0 && ci + CAUGHT_UP_GAP >= leaderCommit;
    }

    String commitText(int id) {
      long ci = commits.getOrDefault(id, -1L);
      return ci < 0 ? "?" : String.valueOf(ci);
    }

    ReplaceMetadataVoterResponse.Builder describe() {
      ReplaceMetadataVoterResponse.Builder b = ReplaceMetadataVoterResponse.newBuilder().setError(err(ErrorCode.NONE, ""))
          .addAllVoters(voters.keySet()).addAllListeners(listeners.keySet()).setLeaderCommitIndex(leaderCommit);
      List<Integer> members = new ArrayList<>(voters.keySet());
      members.addAll(listeners.keySet());
      for (int id : members) {
        b.addProgress(ReplicaProgress.newBuilder().setNodeId(id).setRole(voters.containsKey(id) ? "VOTER" : "LISTENER")
            .setCommitIndex(commits.getOrDefault(id, -1L)).setCaughtUp(caughtUp(id)));
      }
      return b;
    }
  }

  private ReplaceMetadataVoterResponse notLeader(RaftPeerId leaderId) {
    PeerInfo leader = leaderId == null ? null : nodes.peer(RaftPeers.nodeId(leaderId));
    if (leader == null) {
      return error(ErrorCode.LEADER_NOT_AVAILABLE, "the metadata group has no leader now; retry");
    }
    return ReplaceMetadataVoterResponse.newBuilder()
        .setError(err(ErrorCode.NOT_LEADER, "node " + leader.id() + " leads the metadata group"))
        .setLeader(Node.newBuilder().setId(leader.id()).setHost(leader.host()).setClientPort(leader.clientPort())).build();
  }

  private static Map<Integer, RaftPeer> byId(Collection<RaftPeer> peers) {
    Map<Integer, RaftPeer> out = new LinkedHashMap<>();
    peers.forEach(p -> out.put(RaftPeers.nodeId(p.getId()), p));
    return out;
  }

  private static Error err(ErrorCode code, String message) {
    return Error.newBuilder().setCode(code).setMessage(message).build();
  }

  private static ReplaceMetadataVoterResponse error(ErrorCode code, String message) {
    return ReplaceMetadataVoterResponse.newBuilder().setError(err(code, message)).build();
  }

  private static <T> CompletableFuture<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
