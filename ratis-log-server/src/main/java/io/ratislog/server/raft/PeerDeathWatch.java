package io.ratislog.server.raft;

import com.codahale.metrics.Counter;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.membership.RaftPeers;
import io.ratislog.server.security.TlsContexts;
import java.io.Closeable;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts an election at once in every group whose leader's process died, instead of waiting for Ratis' follower
 * timer.
 *
 * <p>Ratis' follower sleeps a random election timeout and only then checks whether its leader was silent for that
 * long, so a follower notices a dead leader one to two timeouts after its last heartbeat: 1-4 s with ratislog's
 * default 1-2 s. When a process dies on a host that stays up (a crash, an OOM kill, {@code kill -9}), the kernel
 * closes its connections and refuses new ones, which says more than silence does. This watch keeps an idle gRPC
 * connection to every other node's client port. When one closes, it checks the node's Raft port. If that port
 * refuses a TCP connection, nothing listens there: the process is gone. The watch then makes this node stand for
 * election, without pre-vote, in the groups it follows under that leader.
 *
 * <p>A node that is only slow, paused or cut off keeps its connections open, or lets connection attempts time out,
 * so it never looks dead here. Those cases (and a host that dies with its kernel) fall back to the election
 * timeout. Starting an election is always safe in Raft. The one thing an early election could break is the leader
 * lease (linearizable reads answered without a heartbeat round, {@link RaftPropertiesFactory}): it assumes no
 * follower votes for another candidate within an election timeout of the leader's last heartbeat. A refused Raft
 * port rules that out: Ratis closes every division of a server before its RPC server, so a node whose Raft port
 * refuses connections has no division left that could answer a read. (Without the lease Ratis' ReadIndex would not
 * do: it answers at once for a commit index a majority acknowledged once, even after the leader lost them, which
 * {@code GroupOffsetsIT} catches.)
 *
 * <p>To avoid split votes, the surviving voters of a group take turns: highest Ratis priority (the preferred leader)
 * first, then the node that has run longest (by the start times in the node registry), then lowest node id. The
 * first goes at once, and each next one {@link #TURN_MS} later, only while its group still has no other leader.
 * Every survivor computes the same order from its own replica of the registry. The start times matter after a
 * restart: a node restarted seconds ago still runs its code interpreted or half-compiled. In the failover benchmark
 * (a leader killed and restarted every ~15 s), produce recovered in a median 0.50 s with the restarted node as the
 * new leader, and 0.30 s with a node up since the start. Right after a node registers a new start, two survivors
 * whose replicas have not both applied it yet may disagree on the order; both then stand at once (a split vote,
 * resolved by Ratis' timeout) or one turn late.
 *
 * <p>The last entry the election request carries is this node's own, so Ratis' check that the candidate is at least
 * as up to date as the leader always passes; the voters still refuse a candidate whose log is behind theirs (the
 * group then elects after the timeout, as without the watch).
 */
public final class PeerDeathWatch implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerDeathWatch.class);
  /**
   * Delay between the turns of a group's surviving voters. It must cover the difference between the voters' own
   * notices of the death (up to ~150 ms seen), the first voter's start of its candidacy and its vote request's way
   * to the next voter (each up to ~100 ms on a loaded node): at 300 ms, 2 of 10 kills in a loaded benchmark run ended
   * in a split vote, and the group elected 1-3 s later, on Ratis' timeout. A next voter is only needed when the
   * first could not win (its log is behind, or it died too).
   */
  static final long TURN_MS = 1_000;
  /** Elections started at once at most (the rest queue). */
  private static final int ELECTION_STARTERS = 16;
  /** How often the peer list is refreshed and broken connections are retried. */
  private static final long REFRESH_MS = 1_000;
  /** How long a closed connection's node is probed for a refused Raft port (a graceful stop closes it last). */
  private static final long CONFIRM_WINDOW_MS = 10_000;
  private static final long CONFIRM_INTERVAL_MS = 50;
  private static final int CONNECT_TIMEOUT_MS = 500;

  private final int selfId;
  private final RaftServer server;
  private final Supplier<List<PeerInfo>> peers;
  private final IntToLongFunction startedAtMs;
  private final SslContext peerTls;
  private final Counter deaths;
  private final Counter elections;
  private final ScheduledExecutorService executor;
  /**
   * Starts the elections, each group's on its own thread: one after the other they took ~50 ms each on a loaded
   * node, so with a few groups the first voter's turn in the last of them came after the next voter's turn (300 ms
   * later) had started a rival candidacy, and both lost the split vote.
   */
  private final ExecutorService electionStarter;
  /** Only touched on {@link #executor}. */
  private final Map<Integer, Watched> watched = new HashMap<>();
  private volatile boolean closed;

  /** One peer's watch connection. {@code armed}: connected since its last death, so a loss may mean one. */
  private static final class Watched {
    final PeerInfo peer;
    final ManagedChannel channel;
    boolean armed;
    boolean confirming;

    Watched(PeerInfo peer, ManagedChannel channel) {
      this.peer = peer;
      this.channel = channel;
    }
  }

  /**
   * @param selfId    this node's id
   * @param server    this node's Raft server
   * @param peers     every node of the cluster, read again every second (membership changes)
   * @param startedAtMs a node's start time as the node registry records it (ms; 0 when unknown), by node id
   * @param peerTls   TLS for the peers' client ports, or null for plaintext
   * @param deaths    counts the peer deaths seen
   * @param elections counts the elections started for them
   */
  public PeerDeathWatch(int selfId, RaftServer server, Supplier<List<PeerInfo>> peers, IntToLongFunction startedAtMs,
                        SslContext peerTls, Counter deaths, Counter elections) {
    this.selfId = selfId;
    this.server = server;
    this.peers = peers;
    this.startedAtMs = startedAtMs;
    this.peerTls = peerTls;
    this.deaths = deaths;
    this.elections = elections;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "peer-death-watch-" + selfId);
      t.setDaemon(true);
      return t;
    });
    AtomicInteger starters = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(ELECTION_STARTERS, ELECTION_STARTERS, 10, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "peer-death-election-" + selfId + "-" + starters.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true); // idle between deaths
    this.electionStarter = pool;
  }

  public void start() {
    executor.scheduleWithFixedDelay(this::refresh, 0, REFRESH_MS, TimeUnit.MILLISECONDS);
  }

  private void refresh() {
    try {
      Map<Integer, PeerInfo> current = new HashMap<>();
      for (PeerInfo p : peers.get()) {
        if (p.id() != selfId) {
          current.put(p.id(), p);
        }
      }
      watched.entrySet().removeIf(e -> {
        boolean gone = !e.getValue().peer.equals(current.get(e.getKey()));
        if (gone) {
          e.getValue().channel.shutdownNow();
        }
        return gone;
      });
      for (PeerInfo p : current.values()) {
        Watched w = watched.get(p.id());
        if (w == null) {
          w = new Watched(p, channel(p));
          watched.put(p.id(), w);
          onStateChange(w);
        } else if (w.channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
          w.channel.resetConnectBackoff(); // keep trying every second, not at gRPC's backoff of up to 2 minutes
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("peer death watch: refreshing the peers failed", e);
    }
  }

  private ManagedChannel channel(PeerInfo p) {
    return TlsContexts.peerChannel(p.host(), p.clientPort(), peerTls)
        .idleTimeout(Long.MAX_VALUE, TimeUnit.DAYS) // never idle: the open connection is the watch
        .build();
  }

  /** Runs on {@link #executor} whenever {@code w}'s connection changes state (and once at the start). */
  private void onStateChange(Watched w) {
    if (closed || watched.get(w.peer.id()) != w) {
      return;
    }
    ConnectivityState s = w.channel.getState(true);
    if (s == ConnectivityState.READY) {
      w.armed = true;
    } else if (w.armed && !w.confirming && s != ConnectivityState.SHUTDOWN) {
      w.confirming = true;
      confirm(w, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONFIRM_WINDOW_MS));
    }
    w.channel.notifyWhenStateChanged(s, () -> runOnExecutor(() -> onStateChange(w)));
  }

  /** The connection to {@code w} closed: it died if its Raft port refuses connections before {@code untilNanos}. */
  private void confirm(Watched w, long untilNanos) {
    if (closed || watched.get(w.peer.id()) != w) {
      return;
    }
    if (w.channel.getState(false) == ConnectivityState.READY) {
      w.confirming = false; // reconnected: the node came back or never left
      return;
    }
    if (raftPortRefuses(w.peer)) {
      w.confirming = false;
      w.armed = false;
      deaths.inc();
      onPeerDied(w.peer.id());
      return;
    }
    if (System.nanoTime() - untilNanos > 0) {
      w.confirming = false;
      LOG.info("peer death watch: node {} closed its connection but its Raft port still answers; not standing for election",
          w.peer.id());
      return;
    }
    schedule(() -> confirm(w, untilNanos), CONFIRM_INTERVAL_MS);
  }

  private static boolean raftPortRefuses(PeerInfo p) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(p.host(), p.raftPort()), CONNECT_TIMEOUT_MS);
      return false;
    } catch (ConnectException refused) {
      return true;
    } catch (IOException other) {
      return false; // a timeout or an unreachable network is not proof of death
    }
  }

  private void onPeerDied(int deadId) {
    RaftPeerId dead = RaftPeers.id(deadId);
    List<RaftGroupId> led = new ArrayList<>();
    for (RaftGroupId gid : groupIds()) {
      RaftServer.Division d = division(gid);
      if (d != null && d.getInfo().isFollower() && dead.equals(d.getInfo().getLeaderId())) {
        led.add(gid);
        int turn = turn(d, dead);
        if (turn >= 0) {
          schedule(() -> electionStarter.execute(() -> standForElection(gid, dead)), turn * TURN_MS);
        }
      }
    }
    LOG.info("peer death watch: node {} died (its Raft port refuses connections); it led {} of the groups this node "
        + "follows: {}", deadId, led.size(), led);
  }

  /** This node's turn among the group's surviving voters (see {@link #turnOrder}); -1 when it is no voter. */
  private int turn(RaftServer.Division d, RaftPeerId dead) {
    return turnOrder(d.getRaftConf().getCurrentPeers(), dead, startedAtMs).indexOf(selfId);
  }

  /**
   * The node ids of {@code voters} other than {@code dead} in the order they stand for election: higher Ratis
   * priority first (a voter refuses a candidate of lower priority whose log is no longer than its own), then the
   * earlier start (the warmer process), then lower node id.
   *
   * @param startedAtMs a node's registered start time by node id (0, unknown, counts as earliest)
   */
  static List<Integer> turnOrder(Collection<RaftPeer> voters, RaftPeerId dead, IntToLongFunction startedAtMs) {
    return voters.stream()
        .filter(p -> !p.getId().equals(dead))
        .sorted(Comparator.comparingInt(RaftPeer::getPriority).reversed()
            .thenComparingLong(p -> startedAtMs.applyAsLong(RaftPeers.nodeId(p.getId())))
            .thenComparingInt(p -> RaftPeers.nodeId(p.getId())))
        .map(p -> RaftPeers.nodeId(p.getId()))
        .toList();
  }

  private void standForElection(RaftGroupId gid, RaftPeerId dead) {
    RaftServer.Division d = division(gid);
    if (closed || d == null || !d.getInfo().isFollower()) {
      return;
    }
    RaftPeerId leader = d.getInfo().getLeaderId();
    if (leader != null && !leader.equals(dead)) {
      return; // another voter won meanwhile
    }
    TermIndex last = d.getRaftLog().getLastEntryTermIndex();
    StartLeaderElectionRequestProto.Builder req = StartLeaderElectionRequestProto.newBuilder()
        .setServerRequest(RaftRpcRequestProto.newBuilder()
            .setRequestorId(dead.toByteString())
            .setReplyId(RaftPeers.id(selfId).toByteString())
            .setRaftGroupId(RaftGroupIdProto.newBuilder().setId(gid.toByteString())));
    if (last != null) {
      req.setLeaderLastEntry(last.toProto());
    }
    try {
      StartLeaderElectionReplyProto reply = server.startLeaderElection(req.build());
      if (reply.getServerReply().getSuccess()) {
        elections.inc();
        LOG.info("peer death watch: {} stands for election in {} (its leader {} died)", selfId, gid, dead);
      } else {
        LOG.info("peer death watch: Ratis did not start an election in {} (term or log moved on)", gid);
      }
    } catch (IOException | RuntimeException e) {
      LOG.info("peer death watch: starting an election in {} failed: {}", gid, e.toString());
    }
  }

  private Iterable<RaftGroupId> groupIds() {
    try {
      return server.getGroupIds();
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  private RaftServer.Division division(RaftGroupId gid) {
    try {
      return server.getDivision(gid);
    } catch (IOException | RuntimeException e) {
      return null; // removed or closed meanwhile
    }
  }

  private void schedule(Runnable r, long delayMs) {
    try {
      executor.schedule(r, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closing) {
      // closed
    }
  }

  private void runOnExecutor(Runnable r) {
    schedule(r, 0);
  }

  @Override
  public void close() {
    closed = true;
    executor.shutdownNow();
    electionStarter.shutdownNow();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    watched.values().forEach(w -> w.channel.shutdownNow());
    watched.clear();
  }
}
