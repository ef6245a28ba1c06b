package io.ratislog.server.txn;

import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.PeerInfo;
import io.ratislog.server.entries.AbortExpiredTxnCommand;
import io.ratislog.server.entries.AppendResult;
import io.ratislog.server.entries.CompleteTxnCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.PartitionEntry;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.entries.TransactionRecord;
import io.ratislog.server.entries.TxnMarkerEntry;
import io.ratislog.server.entries.TxnPartition;
import io.ratislog.server.entries.TxnState;
import io.ratislog.server.membership.ClusterNodes;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.raft.GroupIds;
import io.ratislog.server.raft.RenewingRaftClient;
import io.ratislog.server.raft.ShadedBytes;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active half of the transaction coordinator. It runs on every node and acts only while this node leads the
 * metadata group and has applied everything committed there:
 * <ul>
 *   <li>for each transaction in PREPARE_COMMIT or PREPARE_ABORT it writes a {@link TxnMarkerEntry} into every
 *       participant partition's Raft group (through a Ratis client, wherever that group's leader is), then
 *       proposes {@link CompleteTxnCommand};</li>
 *   <li>for each ONGOING transaction older than its timeout (by this node's clock, stamped into the command) it
 *       proposes {@link AbortExpiredTxnCommand}.</li>
 * </ul>
 * The decision is in the metadata group before any marker is written, and markers are idempotent, so a new
 * metadata leader simply writes them all again: a coordinator killed in the middle of a commit leaves a
 * transaction that the next leader finishes the same way.
 */
public final class TransactionCoordinator implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(TransactionCoordinator.class);
  static final long TICK_MS = 50;
  private static final long MARKER_TIMEOUT_MS = 15_000;
  private static final long RETRY_BACKOFF_MS = 500;

  private record ClientKey(RaftGroupId groupId, List<Integer> replicas) {
  }

  private final ClusterNodes nodes;
  private final RaftServer server;
  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final RaftProperties clientProperties;
  /** Transport parameters of the peer links (TLS), shared with the node's Raft server. */
  private final org.apache.ratis.conf.Parameters raftParameters;
  private final LongSupplier clockMs;
  private final Map<ClientKey, RenewingRaftClient> clients = new ConcurrentHashMap<>();
  /** (transactional id, epoch) whose markers or abort are being written now. */
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Map<String, Long> backoffUntil = new ConcurrentHashMap<>();
  private final ScheduledExecutorService ticker;
  private volatile boolean closed;

  public TransactionCoordinator(NodeConfig config, ClusterNodes nodes, RaftServer server, MetadataState metadata,
                                MetadataClient metadataClient, RaftProperties serverProperties,
                                org.apache.ratis.conf.Parameters raftParameters) {
    this.raftParameters = raftParameters;
    this.nodes = nodes;
    this.server = server;
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.clientProperties = new RaftProperties(serverProperties);
    RaftClientConfigKeys.Rpc.setRequestTimeout(clientProperties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    this.clockMs = System::currentTimeMillis;
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "txn-coordinator-" + config.nodeId());
      t.setDaemon(true);
      return t;
    });
  }

  public void start() {
    ticker.scheduleWithFixedDelay(this::tickSafely, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      LOG.warn("transaction coordinator tick failed: {}", e.toString());
    }
  }

  private boolean isReadyLeader() {
    try {
      RaftServer.Division d = server.getDivision(GroupIds.metadata());
      return d.getInfo().isLeader() && d.getInfo().isLeaderReady()
          && d.getInfo().getLastAppliedIndex() >= d.getRaftLog().getLastCommittedIndex();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private void tick() {
    if (closed || !isReadyLeader()) {
      return;
    }
    long now = clockMs.getAsLong();
    for (TransactionRecord t : metadata.transactions()) {
      String key = t.getTransactionalId() + "@" + t.getProducerId() + "/" + t.getProducerEpoch();
      Long until = backoffUntil.get(key);
      if (until != null && until > now) {
        continue;
      }
      switch (t.getState()) {
        case TXN_PREPARE_COMMIT, TXN_PREPARE_ABORT -> {
          if (inFlight.add(key)) {
            complete(t, key);
          }
        }
        case TXN_ONGOING -> {
          if (now - t.getStartMs() >= t.getTimeoutMs() && inFlight.add(key)) {
            abortExpired(t, key, now);
          }
        }
        default -> {
        }
      }
    }
  }

  private void complete(TransactionRecord t, String key) {
    boolean commit = t.getState() == TxnState.TXN_PREPARE_COMMIT;
    List<CompletableFuture<Void>> markers = new ArrayList<>();
    for (TxnPartition p : t.getPartitionsList()) {
      markers.add(writeMarker(t, p, commit));
    }
    CompletableFuture.allOf(markers.toArray(CompletableFuture[]::new))
        .thenCompose(v -> metadataClient.submit(MetadataCommand.newBuilder().setCompleteTxn(CompleteTxnCommand.newBuilder()
            .setTransactionalId(t.getTransactionalId()).setProducerId(t.getProducerId())
            .setProducerEpoch(t.getProducerEpoch()).setNowMs(clockMs.getAsLong())).build()))
        .whenComplete((r, err) -> {
          if (err != null || r.getErrorCode() != 0) {
            LOG.info("transaction {} epoch {}: completing {} failed, will retry: {}", t.getTransactionalId(),
                t.getProducerEpoch(), commit ? "commit" : "abort", err != null ? err.toString() : r.getErrorMessage());
            backoffUntil.put(key, clockMs.getAsLong() + RETRY_BACKOFF_MS);
          } else {
            LOG.debug("transaction {} epoch {} {} on {} partitions", t.getTransactionalId(), t.getProducerEpoch(),
                commit ? "committed" : "aborted", t.getPartitionsCount());
            backoffUntil.remove(key);
          }
          inFlight.remove(key);
        });
  }

  /** Writes the marker into one participant; completes when it is applied there (a deleted topic needs none). */
  private CompletableFuture<Void> writeMarker(TransactionRecord t, TxnPartition p, boolean commit) {
    Optional<TopicRecord> topic = metadata.topic(p.getTopic());
    if (topic.isEmpty() || topic.get().getTopicId() != p.getTopicId()
        || p.getPartition() >= topic.get().getPartitionsCount()) {
      return CompletableFuture.completedFuture(null);
    }
    PartitionPlacement placement = topic.get().getPartitions(p.getPartition());
    RenewingRaftClient client = clientFor(GroupIds.partition(p.getTopicId(), p.getPartition()), placement);
    PartitionEntry entry = PartitionEntry.newBuilder().setTxnMarker(TxnMarkerEntry.newBuilder()
        .setProducerId(t.getProducerId()).setProducerEpoch(t.getProducerEpoch()).setCommit(commit)
        .setMarkerTimeMs(clockMs.getAsLong()).setTransactionalId(t.getTransactionalId())).build();
    return client.call(c -> c.async().send(ShadedBytes.toMessage(entry)))
        .orTimeout(MARKER_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .thenAccept(reply -> check(reply, p));
  }

  private static void check(RaftClientReply reply, TxnPartition p) {
    if (!reply.isSuccess()) {
      throw new IllegalStateException(p.getTopic() + "-" + p.getPartition() + ": " + reply.getException());
    }
    try {
      AppendResult r = ShadedBytes.parse(AppendResult.parser(), reply.getMessage().getContent());
      if (r.getErrorCode() != 0) {
        throw new IllegalStateException(p.getTopic() + "-" + p.getPartition() + ": " + r.getErrorMessage());
      }
    } catch (IOException e) {
      throw new IllegalStateException(p.getTopic() + "-" + p.getPartition() + ": unreadable marker result", e);
    }
  }

  private void abortExpired(TransactionRecord t, String key, long now) {
    LOG.info("transaction {} (producer {} epoch {}) is open for longer than its {} ms timeout: aborting it",
        t.getTransactionalId(), t.getProducerId(), t.getProducerEpoch(), t.getTimeoutMs());
    metadataClient.submit(MetadataCommand.newBuilder().setAbortExpiredTxn(AbortExpiredTxnCommand.newBuilder()
            .setTransactionalId(t.getTransactionalId()).setProducerId(t.getProducerId())
            .setProducerEpoch(t.getProducerEpoch()).setNowMs(now)).build())
        .whenComplete((r, err) -> {
          if (err != null) {
            backoffUntil.put(key, clockMs.getAsLong() + RETRY_BACKOFF_MS);
          }
          inFlight.remove(key);
        });
  }

  private RenewingRaftClient clientFor(RaftGroupId gid, PartitionPlacement placement) {
    ClientKey key = new ClientKey(gid, List.copyOf(placement.getReplicasList()));
    return clients.computeIfAbsent(key, k -> {
      List<RaftPeer> peers = new ArrayList<>();
      for (int id : k.replicas()) {
        PeerInfo info = nodes.peer(id);
        if (info != null) {
          peers.add(RaftPeer.newBuilder().setId(RaftPeerId.valueOf(String.valueOf(id))).setAddress(info.raftAddress()).build());
        }
      }
      RaftGroup group = RaftGroup.valueOf(gid, peers);
      return new RenewingRaftClient("transaction markers to " + gid, () -> RaftClient.newBuilder().setRaftGroup(group)
          .setProperties(clientProperties).setParameters(raftParameters)
          .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(50, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
          .build());
    });
  }

  @Override
  public void close() {
    closed = true;
    ticker.shutdownNow();
    clients.values().forEach(RenewingRaftClient::close);
    clients.clear();
  }
}
