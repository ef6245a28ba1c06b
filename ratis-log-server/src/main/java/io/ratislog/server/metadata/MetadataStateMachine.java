package io.ratislog.server.metadata;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataQuery;
import io.ratislog.server.entries.MetadataQueryResult;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.MetadataSnapshot;
import io.ratislog.server.metrics.NodeMetrics;
import io.ratislog.server.raft.RaftLogRetention;
import io.ratislog.server.raft.ShadedBytes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;

/**
 * The metadata group's state machine: applies {@link MetadataCommand}s to a {@link MetadataState}, answers
 * {@link MetadataQuery}s, and snapshots the whole state to one file. {@code onApplied} runs after every
 * applied command (the node uses it to create and remove its partition groups).
 */
public final class MetadataStateMachine extends BaseStateMachine {
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final MetadataState state;
  private final Runnable onApplied;
  private final NodeMetrics metrics;
  private final RaftLogRetention raftLogRetention;

  /** @param raftLogRetainBytes Raft log kept for lagging replicas after a snapshot ({@code raft.log.retain.bytes}) */
  public MetadataStateMachine(MetadataState state, Runnable onApplied, long raftLogRetainBytes, NodeMetrics metrics) {
    this.state = state;
    this.onApplied = onApplied;
    this.metrics = metrics;
    this.raftLogRetention = new RaftLogRetention(raftLogRetainBytes);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeaderId) {
    metrics.leaderChanged(NodeMetrics.METADATA, member.getPeerId().equals(newLeaderId));
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    loadSnapshot();
    running();
  }

  /**
   * Ratis pauses a follower's state machine before it installs the leader's snapshot and reloads it afterwards
   * only from {@code PAUSED}: a state machine that stayed {@code RUNNING} failed the reload and closed this
   * node's metadata replica for good (found by the transactional chaos test).
   */
  @Override
  public void pause() {
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
      lc.transition(LifeCycle.State.PAUSED);
    }
  }

  /** Loads the installed snapshot (the state is replaced whole) and runs again. */
  @Override
  public void reinitialize() throws IOException {
    loadSnapshot();
    running();
  }

  private void running() {
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  private void loadSnapshot() throws IOException {
    SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
    if (snapshot == null) {
      return;
    }
    Path file = snapshot.getFile().getPath();
    if (snapshot.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file.toFile(), snapshot.getFile().getFileDigest());
    }
    state.restore(MetadataSnapshot.parseFrom(Files.readAllBytes(file)));
    setLastAppliedTermIndex(snapshot.getTermIndex());
    onApplied.run();
  }

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex ti = getLastAppliedTermIndex();
    if (ti == null || ti.getIndex() < 0) {
      return -1;
    }
    long started = System.nanoTime();
    Path target = storage.getSnapshotFile(ti.getTerm(), ti.getIndex()).toPath();
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      state.toSnapshot().writeTo(out);
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    FileInfo info = new FileInfo(target, MD5FileUtil.computeAndSaveMd5ForFile(target.toFile()));
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(info, ti));
    metrics.snapshotTaken(NodeMetrics.METADATA, System.nanoTime() - started);
    raftLogRetention.afterSnapshot(this, ti.getIndex());
    return ti.getIndex();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    long started = System.nanoTime();
    LogEntryProto entry = trx.getLogEntry();
    MetadataResult result;
    try {
      MetadataCommand command = ShadedBytes.parse(MetadataCommand.parser(), entry.getStateMachineLogEntry().getLogData());
      result = state.apply(command);
    } catch (IOException e) {
      result = MetadataResult.newBuilder().setErrorCode(ErrorCode.INVALID_REQUEST.getNumber())
          .setErrorMessage("metadata command does not decode: " + e.getMessage()).build();
    }
    updateLastAppliedTermIndex(TermIndex.valueOf(entry));
    onApplied.run();
    metrics.applied(NodeMetrics.METADATA, System.nanoTime() - started);
    return CompletableFuture.completedFuture(ShadedBytes.toMessage(result));
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    try {
      MetadataQuery q = ShadedBytes.parse(MetadataQuery.parser(), request.getContent());
      MetadataQueryResult.Builder r = MetadataQueryResult.newBuilder();
      if (q.getTransactions()) {
        if (q.getTransactionalId().isEmpty()) {
          r.addAllTransactions(state.transactions());
        } else {
          state.transaction(q.getTransactionalId()).ifPresent(r::addTransactions);
        }
      } else if (q.getNodes()) {
        r.addAllNodes(state.nodes());
      } else if (q.getAcls()) {
        r.addAllAcls(state.acls().list());
      } else if (q.getGroups()) {
        if (q.getGroup().isEmpty()) {
          r.addAllGroups(state.groups());
        } else {
          state.group(q.getGroup()).ifPresent(r::addGroups);
        }
      } else if (q.getTopic().isEmpty()) {
        r.addAllTopics(state.topics());
      } else {
        state.topic(q.getTopic()).ifPresent(r::addTopics);
      }
      return CompletableFuture.completedFuture(ShadedBytes.toMessage(r.build()));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
