package io.ratislog.server.membership;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.RegisterNodeCommand;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.raft.GroupIds;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's membership duties, in one background loop (every second, and soon after each applied metadata
 * command):
 * <ul>
 *   <li>register this node (its addresses and storage id) in the node registry until the registry shows it;</li>
 *   <li>on the metadata leader: make every registered node a listener of the metadata group (so a node
 *       added at runtime gets the metadata), and drop listeners that were unregistered;</li>
 *   <li>on each partition leader: take the next step of the partition's reassignment
 *       ({@link ReassignmentDriver}).</li>
 * </ul>
 * On request, the metadata leader also takes the steps of replacing a metadata voter
 * ({@link #replaceMetadataVoter}). Configuration changes of the metadata group go one at a time.
 * Every duty is level-triggered (it compares what is with what should be), so a leader change or a restart
 * in the middle of a step is harmless: the next leader carries on.
 */
public final class MembershipController implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipController.class);
  private static final long PERIOD_MS = 1_000;
  private static final long REGISTER_RETRY_MS = 3_000;

  /**
   * When this node started, registered with it: {@link io.ratislog.server.raft.PeerDeathWatch} lets the surviving
   * voter that has run longest (its code compiled and warm) stand for election first.
   */
  private final long startedAtMs = System.currentTimeMillis();
  private final NodeConfig config;
  private final MetadataState metadata;
  private final RaftServer server;
  private final MetadataClient metadataClient;
  private final ClusterNodes nodes;
  private final String storageId;
  /** Registered with the node: the metadata group refuses placements beyond it. */
  private final ReplicaCapacity capacity;
  private final ReassignmentDriver driver;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Thread thread;
  private final Object signal = new Object();
  private boolean pending;
  private volatile boolean closed;
  private CompletableFuture<?> registering = CompletableFuture.completedFuture(null);
  private long nextRegisterMs;
  /** The metadata configuration change in flight (listener sync or voter replacement); guarded by {@code this}. */
  private CompletableFuture<?> metadataConfChange = CompletableFuture.completedFuture(null);
  private final MetadataVoterReplacement voterReplacement;

  public MembershipController(NodeConfig config, MetadataState metadata, RaftServer server, MetadataClient metadataClient,
                              ClusterNodes nodes, String storageId) {
    this.config = config;
    this.metadata = metadata;
    this.server = server;
    this.metadataClient = metadataClient;
    this.nodes = nodes;
    this.storageId = storageId;
    this.capacity = ReplicaCapacity.of(config);
    LOG.info("node {} takes at most {} partition replicas ({})", config.nodeId(), capacity.maxReplicas(),
        capacity.reason());
    this.driver = new ReassignmentDriver(server, nodes, metadataClient);
    this.voterReplacement = new MetadataVoterReplacement(server, metadata, nodes, this::proposeMetadataConf,
        to -> driver.transferLeadership(GroupIds.metadata(), to));
    this.thread = new Thread(this::run, "membership-" + config.nodeId());
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Asks for a pass soon. */
  public void trigger() {
    synchronized (signal) {
      pending = true;
      signal.notifyAll();
    }
  }

  /**
   * Takes the next step of replacing metadata voter {@code from} by registered node {@code to}, when this node
   * leads the metadata group (else NOT_LEADER); see {@link MetadataVoterReplacement}. Call again until done.
   */
  public CompletableFuture<io.ratislog.proto.ReplaceMetadataVoterResponse> replaceMetadataVoter(int from, int to) {
    return voterReplacement.step(from, to);
  }

  private synchronized boolean metadataConfChangeInFlight() {
    return !metadataConfChange.isDone();
  }

  /** Proposes a configuration of the metadata group unless another one of ours is still in flight. */
  private synchronized CompletableFuture<RaftClientReply> proposeMetadataConf(SetConfigurationRequest.Arguments args) {
    if (!metadataConfChange.isDone()) {
      return CompletableFuture.failedFuture(new IllegalStateException("another metadata configuration change is under way"));
    }
    CompletableFuture<RaftClientReply> f;
    try {
      f = server.setConfigurationAsync(new SetConfigurationRequest(clientId, server.getId(), GroupIds.metadata(),
          callIds.incrementAndGet(), args));
    } catch (IOException e) {
      f = CompletableFuture.failedFuture(e);
    }
    metadataConfChange = f;
    return f;
  }

  /** What the reassignment of this group is doing, as this node (its leader) last saw it. */
  public String stepOf(RaftGroupId gid) {
    return driver.stepOf(gid);
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
          pass();
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.warn("membership pass failed, retrying: {}", e.toString());
      }
    }
  }

  private void pass() {
    registerSelf();
    syncMetadataListeners();
    driveReassignments();
  }

  /** The partition replicas this node takes, as it registers them. */
  public ReplicaCapacity capacity() {
    return capacity;
  }

  private void registerSelf() {
    NodeRecord want = ClusterNodes.toRecord(config.self()).toBuilder().setStorageId(storageId)
        .setStartedAtMs(startedAtMs).setMaxReplicas(capacity.maxReplicas()).build();
    NodeRecord have = metadata.node(config.nodeId()).orElse(null);
    boolean current = metadata.registrySeeded() && have != null && have.getStorageId().equals(storageId)
        && have.getHost().equals(want.getHost()) && have.getRaftPort() == want.getRaftPort()
        && have.getClientPort() == want.getClientPort() && have.getStartedAtMs() == want.getStartedAtMs()
        && have.getMaxReplicas() == want.getMaxReplicas();
    long now = System.currentTimeMillis();
    if (current || !registering.isDone() || now < nextRegisterMs) {
      return;
    }
    nextRegisterMs = now + REGISTER_RETRY_MS;
    RegisterNodeCommand c = RegisterNodeCommand.newBuilder().setNode(want).setSelf(true)
        .addAllBootstrap(nodes.bootstrap()).build();
    registering = metadataClient.submit(MetadataCommand.newBuilder().setRegisterNode(c).build()).whenComplete((r, t) -> {
      if (t != null) {
        LOG.debug("node {} could not register yet: {}", config.nodeId(), t.toString());
      } else if (r.getErrorCode() == ErrorCode.UNKNOWN_NODE.getNumber()) {
        LOG.warn("{}", r.getErrorMessage());
      } else if (r.getErrorCode() != 0) {
        LOG.warn("node {} registration refused: {}", config.nodeId(), r.getErrorMessage());
      } else {
        LOG.info("node {} registered: {}:{}:{} storage {}", config.nodeId(), want.getHost(), want.getRaftPort(),
            want.getClientPort(), storageId);
      }
    });
  }

  /** On the metadata leader: registered nodes that neither vote nor listen become listeners; unregistered listeners go. */
  private void syncMetadataListeners() {
    if (!metadata.registrySeeded() || metadataConfChangeInFlight()) {
      return;
    }
    RaftServer.Division d;
    try {
      d = server.getDivision(GroupIds.metadata());
    } catch (IOException e) {
      return;
    }
    if (!d.getInfo().isLeader()) {
      return;
    }
    RaftConfiguration conf = d.getRaftConf();
    if (!conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty()) {
      return;
    }
    Set<Integer> registered = new TreeSet<>();
    metadata.nodes().forEach(n -> registered.add(n.getId()));
    List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
    List<RaftPeer> listeners = new ArrayList<>();
    Set<Integer> inConf = new TreeSet<>();
    voters.forEach(p -> inConf.add(RaftPeers.nodeId(p.getId())));
    boolean change = false;
    for (RaftPeer p : conf.getCurrentPeers(RaftPeerRole.LISTENER)) {
      int id = RaftPeers.nodeId(p.getId());
      inConf.add(id);
      if (registered.contains(id)) {
        listeners.add(p);
      } else {
        change = true;
      }
    }
    for (int id : registered) {
      if (!inConf.contains(id)) {
        listeners.add(RaftPeers.peer(id, 0, nodes));
        change = true;
      }
    }
    if (!change) {
      return;
    }
    LOG.info("metadata group: listeners become {}", listeners.stream().map(p -> p.getId().toString()).toList());
    // Compare-and-set: a voter replacement committed since this pass read the configuration must not be undone.
    SetConfigurationRequest.Arguments args = SetConfigurationRequest.Arguments.newBuilder()
        .setServersInCurrentConf(voters).setListenersInCurrentConf(new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER)))
        .setServersInNewConf(voters).setListenersInNewConf(listeners)
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build();
    proposeMetadataConf(args).whenComplete((r, t) -> {
      if (t != null || !r.isSuccess()) {
        LOG.info("metadata listener change did not complete ({}); retrying", t != null ? t.toString() : r.getException());
      }
    });
  }

  private void driveReassignments() {
    for (TopicRecord t : metadata.topics()) {
      for (int p = 0; p < t.getPartitionsCount(); p++) {
        if (t.getPartitions(p).getTargetReplicasCount() == 0) {
          continue;
        }
        RaftGroupId gid = GroupIds.partition(t.getTopicId(), p);
        RaftServer.Division d;
        try {
          d = server.getDivision(gid);
        } catch (IOException e) {
          continue;
        }
        if (d.getInfo().isLeader()) {
          try {
            driver.step(t, p, gid, d);
          } catch (RuntimeException e) {
            LOG.info("{}-{}: reassignment step failed: {}", t.getName(), p, e.toString());
          }
        }
      }
    }
  }

  /** Hands leadership of a group this node leads to another replica (Ratis transferLeadership). */
  public CompletableFuture<RaftClientReply> transferLeadership(RaftGroupId gid, int to) {
    return driver.transferLeadership(gid, to);
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
