package io.ratislog.server;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.membership.ClusterNodes;
import io.ratislog.server.membership.MembershipController;
import io.ratislog.server.membership.StorageId;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.metadata.MetadataStateMachine;
import io.ratislog.server.metadata.PartitionReconciler;
import io.ratislog.server.metrics.MetricsHttpServer;
import io.ratislog.server.metrics.MetricsInterceptor;
import io.ratislog.server.metrics.NodeMetrics;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.partition.RetentionManager;
import io.ratislog.server.raft.GroupIds;
import io.ratislog.server.raft.PeerDeathWatch;
import io.ratislog.server.raft.RaftLogChecksum;
import io.ratislog.server.raft.RaftPropertiesFactory;
import io.ratislog.server.group.GroupSessions;
import io.ratislog.server.rpc.AdminServiceImpl;
import io.ratislog.server.rpc.GroupServiceImpl;
import io.ratislog.server.rpc.LogServiceImpl;
import io.ratislog.server.rpc.MalformedRequests;
import io.ratislog.server.rpc.ProduceResponseLoss;
import io.ratislog.server.rpc.TransactionServiceImpl;
import io.ratislog.server.txn.TransactionCoordinator;
import io.ratislog.server.config.SecurityConfig;
import io.ratislog.server.security.Authenticator;
import io.ratislog.server.security.Authorizer;
import io.ratislog.server.security.QuotaManager;
import io.ratislog.server.security.SecurityInterceptor;
import io.ratislog.server.security.TlsContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import org.apache.ratis.conf.Parameters;
import io.ratislog.server.storage.SegmentLogConfig;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ratislog node: a Ratis server hosting the metadata group and this node's partition groups, and the
 * client-facing gRPC server (LogService, AdminService, GroupService, TransactionService), and the
 * transaction coordinator (active while this node leads the metadata group). Start with {@link #start()}, stop with {@link #close()}.
 */
public final class LogNode implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(LogNode.class);

  private final NodeConfig config;
  private final MetadataState metadata = new MetadataState();
  private RaftServer raftServer;
  private PeerDeathWatch peerDeathWatch;
  private MetadataClient metadataClient;
  private PartitionReconciler reconciler;
  private MembershipController membership;
  private AdminServiceImpl adminService;
  private GroupSessions groupSessions;
  private TransactionCoordinator txnCoordinator;
  private TransactionServiceImpl txnService;
  private Server grpcServer;
  private ExecutorService readExecutor;
  private java.util.concurrent.ScheduledExecutorService sequencerTimer;
  private final List<ServerInterceptor> interceptors;
  private final NodeMetrics metrics = new NodeMetrics();
  private MetricsHttpServer metricsServer;
  private RetentionManager retention;

  public LogNode(NodeConfig config) {
    this(config, List.of());
  }

  /**
   * A node whose client-facing services run behind the given interceptors (as {@link ServerInterceptors#intercept}
   * orders them: the last runs first), inside the security interceptor (authentication, ACLs, quotas) when
   * security is configured: the seam for tests that lose responses after the server acted on a request.
   */
  public LogNode(NodeConfig config, List<ServerInterceptor> interceptors) {
    this.config = config;
    List<ServerInterceptor> all = new ArrayList<>(interceptors);
    // Last, hence outermost (ServerInterceptors.intercept runs the last one first): counts what clients got.
    all.add(new MetricsInterceptor(metrics));
    if (config.unsafeLoseEveryNthProduceResponse() > 0) {
      all.add(new ProduceResponseLoss(config.unsafeLoseEveryNthProduceResponse()));
    }
    this.interceptors = List.copyOf(all);
  }

  /**
   * The metadata group as this node starts it when it has no state yet: the first
   * {@link NodeConfig#metadataVoterCount()} configured peers vote, the rest listen. Once the group has state,
   * its configuration comes from its own log (Ratis recovers it): nodes added at runtime are made listeners by
   * the metadata leader, so existing nodes' configurations never need to change. A node added at runtime
   * must have the same {@code metadata.voters} as the cluster so that it counts itself among the listeners.
   */
  public static RaftGroup metadataGroup(NodeConfig config) {
    List<RaftPeer> members = new ArrayList<>();
    List<PeerInfo> peers = config.peers();
    for (int i = 0; i < peers.size(); i++) {
      PeerInfo p = peers.get(i);
      boolean voter = i < config.metadataVoterCount();
      RaftPeer peer = RaftPeer.newBuilder().setId(peerId(p.id())).setAddress(p.raftAddress())
          .setStartupRole(voter ? RaftPeerRole.FOLLOWER : RaftPeerRole.LISTENER).build();
      members.add(peer);
    }
    return RaftGroup.valueOf(GroupIds.metadata(), members);
  }

  public static RaftPeerId peerId(int nodeId) {
    return RaftPeerId.valueOf(String.valueOf(nodeId));
  }

  public synchronized void start() throws IOException {
    Files.createDirectories(config.dataDir());
    RaftProperties props = RaftPropertiesFactory.create(config);
    SegmentLogConfig segmentConfig = new SegmentLogConfig(config.segmentBytes(), SegmentLogConfig.defaults().indexIntervalBytes());
    RaftGroup metadataGroup = metadataGroup(config);
    Parameters raftParams = new Parameters();
    TlsContexts.configureRaft(config, raftParams);
    SslContext clientTls = TlsContexts.clientServer(config.security());
    SslContext peerClientTls = TlsContexts.peerClient(config.security());
    StateMachine.Registry registry = gid -> stateMachineFor(gid, segmentConfig);
    raftServer = RaftServer.newBuilder()
        .setServerId(peerId(config.nodeId()))
        .setGroup(metadataGroup)
        .setProperties(props)
        .setParameters(raftParams)
        .setStateMachineRegistry(registry)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    String storageId = StorageId.loadOrCreate(config.dataDir());
    ClusterNodes nodes = new ClusterNodes(config, metadata);
    reconciler = new PartitionReconciler(config, metadata, raftServer, nodes, storageId);
    raftServer.start();
    reconciler.start();
    reconciler.trigger();
    metadataClient = new MetadataClient(metadataGroup, props, raftParams, 15_000);
    membership = new MembershipController(config, metadata, raftServer, metadataClient, nodes, storageId);
    membership.start();
    metrics.registry().gauge("ratislog.node.partition_replicas",
        () -> () -> metadata.replicaCounts().getOrDefault(config.nodeId(), 0));
    metrics.registry().gauge("ratislog.node.max_partition_replicas", () -> () -> membership.capacity().maxReplicas());
    readExecutor = Executors.newFixedThreadPool(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), r -> {
      Thread t = new Thread(r, "fetch-reader-" + config.nodeId());
      t.setDaemon(true);
      return t;
    });
    sequencerTimer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "produce-sequencer-" + config.nodeId());
      t.setDaemon(true);
      return t;
    });
    adminService = new AdminServiceImpl(config, raftServer, metadata, metadataClient, membership, peerClientTls);
    groupSessions = new GroupSessions(config.nodeId(), raftServer, metadata, metadataClient);
    groupSessions.start();
    txnCoordinator = new TransactionCoordinator(config, nodes, raftServer, metadata, metadataClient, props, raftParams);
    txnCoordinator.start();
    GroupServiceImpl groupService = new GroupServiceImpl(config, raftServer, metadata, metadataClient, groupSessions);
    txnService = new TransactionServiceImpl(metadata, metadataClient, groupService, config.produceTimeoutMs());
    PeerInfo self = config.self();
    List<ServerInterceptor> chain = new ArrayList<>(interceptors);
    SecurityInterceptor security = securityInterceptor();
    if (security != null) {
      chain.add(security); // the last one runs first
    }
    chain.add(MalformedRequests.INTERCEPTOR); // outermost: an undecodable request is answered before anything else
    NettyServerBuilder serverBuilder = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), self.clientPort()));
    if (clientTls != null) {
      serverBuilder.sslContext(clientTls);
    }
    grpcServer = serverBuilder
        .addService(ServerInterceptors.intercept(MalformedRequests.lenient(
            new LogServiceImpl(config, raftServer, metadata, metadataClient, readExecutor, sequencerTimer).bindService()), chain))
        .addService(ServerInterceptors.intercept(MalformedRequests.lenient(adminService.bindService()), chain))
        .addService(ServerInterceptors.intercept(MalformedRequests.lenient(groupService.bindService()), chain))
        .addService(ServerInterceptors.intercept(MalformedRequests.lenient(txnService.bindService()), chain))
        .maxInboundMessageSize(config.maxBatchBytes() + 1024 * 1024)
        // A connection's window holds several batches: pipelined batches of a producer arrive without waiting
        // for window updates (the default, 1 MiB, holds less than one large batch).
        .flowControlWindow(Math.max(8 * 1024 * 1024, 2 * config.maxBatchBytes()))
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .build()
        .start();
    retention = new RetentionManager(config.nodeId(), raftServer, metadata, config.retentionCheckIntervalMs());
    retention.start();
    if (config.electionOnPeerDeath()) {
      peerDeathWatch = new PeerDeathWatch(config.nodeId(), raftServer, nodes::all,
          id -> metadata.node(id).map(NodeRecord::getStartedAtMs).orElse(0L), peerClientTls,
          metrics.counter("ratislog.raft.peer_deaths_total"), metrics.counter("ratislog.raft.elections_on_peer_death_total"));
      peerDeathWatch.start();
    }
    if (config.metricsPort() > 0) {
      metricsServer = new MetricsHttpServer(config.bindHost(), config.metricsPort(), metrics, raftServer, metadata,
          this::health);
    }
    LOG.info("node {} up: raft {}:{}{}, clients {}:{}{}, metrics {}, data {}", config.nodeId(), config.bindHost(),
        self.raftPort(), config.security().peerTls() ? " (mTLS)" : "", config.bindHost(), self.clientPort(),
        clientTls != null ? " (TLS, client auth " + config.security().clientAuth() + ")" : "",
        config.metricsPort() > 0 ? config.metricsPort() : "off", config.dataDir().toAbsolutePath());
    RaftLogChecksum.warnIfNotIntrinsic();
  }

  /** The authentication/authorization/quota front, or null when none of them is configured. */
  private SecurityInterceptor securityInterceptor() {
    SecurityConfig s = config.security();
    boolean needed = s.tokenFile() != null || s.clientAuth() != SecurityConfig.ClientAuth.NONE
        || s.authenticationRequired() || s.authorizationEnabled() || s.quotasEnabled();
    if (!needed) {
      return null;
    }
    return new SecurityInterceptor(new Authenticator(s), new Authorizer(s, metadata.acls()),
        s.quotasEnabled() ? new QuotaManager(s) : null);
  }

  private StateMachine stateMachineFor(RaftGroupId gid, SegmentLogConfig segmentConfig) {
    if (GroupIds.isMetadata(gid)) {
      return new MetadataStateMachine(metadata, () -> {
        PartitionReconciler r = reconciler;
        if (r != null) {
          r.trigger();
        }
        MembershipController m = membership;
        if (m != null) {
          m.trigger();
        }
      }, config.raftLogRetainBytes(), metrics);
    }
    if (GroupIds.isPartition(gid)) {
      return new PartitionStateMachine(segmentConfig, config.snapshotThresholdBytes(), config.raftLogRetainBytes(), metrics);
    }
    throw new IllegalArgumentException("group " + gid + " is neither the metadata group nor a partition group");
  }

  public NodeConfig config() {
    return config;
  }

  public RaftServer raftServer() {
    return raftServer;
  }

  public MetadataState metadata() {
    return metadata;
  }

  /** This node's metric registry. */
  public NodeMetrics metrics() {
    return metrics;
  }

  /**
   * Readiness: the Raft server runs, this node's metadata replica is alive, and it knows the metadata group's
   * leader (so it can serve admin and group requests and route to partition leaders).
   */
  public MetricsHttpServer.Health health() {
    RaftServer s = raftServer;
    if (s == null) {
      return new MetricsHttpServer.Health(config.nodeId(), "CLOSED", -1, false);
    }
    String state = s.getLifeCycleState().name();
    int leader = -1;
    boolean metadataAlive = false;
    try {
      RaftServer.Division metadataReplica = s.getDivision(GroupIds.metadata());
      metadataAlive = metadataReplica.getInfo().isAlive();
      RaftPeerId id = metadataReplica.getInfo().getLeaderId();
      leader = id == null ? -1 : Integer.parseInt(id.toString());
    } catch (IOException | RuntimeException e) {
      leader = -1;
    }
    // A metadata replica that Ratis closed (its state machine failed) leaves this node with a frozen view of
    // topics, groups and placement: not ready, whatever leader it last knew.
    boolean ready = s.getLifeCycleState() == org.apache.ratis.util.LifeCycle.State.RUNNING && metadataAlive
        && leader >= 0;
    return new MetricsHttpServer.Health(config.nodeId(), state, leader, ready);
  }

  /** Stops the client server, then the Raft server. Safe to call more than once. */
  @Override
  public synchronized void close() throws IOException {
    if (metricsServer != null) {
      metricsServer.close();
      metricsServer = null;
    }
    if (peerDeathWatch != null) {
      peerDeathWatch.close();
      peerDeathWatch = null;
    }
    if (retention != null) {
      retention.close();
      retention = null;
    }
    if (grpcServer != null) {
      grpcServer.shutdownNow();
      try {
        grpcServer.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      grpcServer = null;
    }
    if (adminService != null) {
      adminService.close();
      adminService = null;
    }
    if (groupSessions != null) {
      groupSessions.close();
      groupSessions = null;
    }
    if (txnService != null) {
      txnService.close();
      txnService = null;
    }
    if (txnCoordinator != null) {
      txnCoordinator.close();
      txnCoordinator = null;
    }
    if (membership != null) {
      membership.close();
      membership = null;
    }
    if (reconciler != null) {
      reconciler.close();
      reconciler = null;
    }
    if (metadataClient != null) {
      metadataClient.close();
      metadataClient = null;
    }
    if (raftServer != null) {
      raftServer.close();
      raftServer = null;
    }
    if (readExecutor != null) {
      readExecutor.shutdownNow();
      readExecutor = null;
    }
    if (sequencerTimer != null) {
      sequencerTimer.shutdownNow();
      sequencerTimer = null;
    }
  }
}
