package io.ratislog.server.partition;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AppendEntry;
import io.ratislog.server.entries.AppendResult;
import io.ratislog.server.entries.PartitionEntry;
import io.ratislog.server.entries.OffsetCommitResult;
import io.ratislog.server.entries.PartitionSnapshotMeta;
import io.ratislog.server.entries.FenceGroupEntry;
import io.ratislog.server.entries.TxnMarkerEntry;
import io.ratislog.server.entries.TxnOffsetCommitEntry;
import io.ratislog.server.entries.RetentionEntry;
import io.ratislog.server.entries.RetentionResult;
import io.ratislog.server.metrics.NodeMetrics;
import io.ratislog.server.raft.RaftLogRetention;
import io.ratislog.server.raft.ShadedBytes;
import io.ratislog.server.storage.SegmentLog;
import io.ratislog.server.storage.SegmentLogConfig;
import io.ratislog.server.storage.StoredBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of one partition's Raft group.
 *
 * <p>An applied {@link AppendEntry} takes the next offsets (next = previous + count) and writes the batch to
 * the partition's {@link SegmentLog}; nothing it decides depends on this replica's clock or state outside the
 * entry and the log, so every replica ends with the same offsets and bytes.
 *
 * <p>Durability: the Raft log (forced before an entry counts towards the quorum) is the source of truth.
 * Segment writes are not forced on apply; at a snapshot the segments are forced, then the snapshot records the
 * next offset. On restart the segments are cut back to the snapshot's next offset and
 * Ratis replays every later entry, so a torn or lost unforced tail is rebuilt from the Raft log.
 *
 * <p>Idempotent producers: a batch with a producer id goes through the {@link ProducerStateTable} first, so
 * a retried batch is answered with its original offsets and written nowhere; the table is part of every
 * snapshot and is rebuilt by replay after it, so dedup holds across failover, restart and snapshot install.
 *
 * <p>Consumer groups: an applied {@code CommitOffsetEntry} or {@code ResetOffsetEntry} updates the
 * {@link CommittedOffsetTable} (fencing by generation, offsets never going back except by a reset); the table
 * is part of every snapshot, so committed offsets survive failover, restart and snapshot install.
 *
 * <p>Transactions: a transactional batch opens (or extends) its producer's transaction here; a
 * {@code TxnMarkerEntry} from the coordinator ends it, marking its batches aborted or applying the offset
 * commits it held ({@link PartitionTransactions}); the last stable offset bounds what read_committed readers
 * see. Part of every snapshot, like the tables above.
 * <p>Retention: an applied {@code RetentionEntry} moves the log start to the offset the leader decided (see
 * {@link RetentionManager}) and deletes the whole segments below it. Segments roll only on size at append, so
 * replicas with the same {@code segment.bytes} hold the same segment files and delete the same ones; the log
 * start is the same on every replica in any case, and is part of every snapshot.
 *
 * <p>Threads: Ratis applies entries and takes snapshots on one thread; fetches read concurrently.
 */
public final class PartitionStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);
  private static final long SNAPSHOT_REQUEST_TIMEOUT_MS = 60_000;
  /** Sends size-triggered snapshot requests to Ratis off the apply threads (the call takes the division's lock). */
  private static final ExecutorService SNAPSHOT_REQUESTS = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "partition-snapshot-requests");
    t.setDaemon(true);
    return t;
  });

  private final SegmentLogConfig segmentConfig;
  private final NodeMetrics metrics;
  private final SnapshotSizeTrigger snapshotTrigger;
  private final RaftLogRetention raftLogRetention;
  private final PartitionSnapshotStore store = new PartitionSnapshotStore();
  private final AppendNotifier notifier = new AppendNotifier();
  /** Publishes the last stable offset, for read_committed long polls. */
  private final AppendNotifier stableNotifier = new AppendNotifier();
  private volatile SegmentLog log;
  /**
   * Idempotent producers; touched only on the apply thread (apply, snapshot, open), except for the
   * {@link #expectedSequence} hint.
   */
  private volatile ProducerStateTable producers = new ProducerStateTable();
  /** Consumer groups' committed offsets; written on the apply thread, read by request threads. */
  private volatile CommittedOffsetTable offsets = new CommittedOffsetTable();
  /** Open and aborted transactions; written on the apply thread, read by request threads. */
  private volatile PartitionTransactions txns = new PartitionTransactions();
  private long nextPurgeMs;
  /** Producer sessions in {@link #producers}, published for metrics threads. */
  private volatile int producerSessions;

  /**
   * @param snapshotThresholdBytes a snapshot is requested once the entries applied since the last one reach this
   *                               size ({@code snapshot.threshold.bytes})
   * @param raftLogRetainBytes     Raft log kept for lagging replicas after a snapshot ({@code raft.log.retain.bytes})
   */
  public PartitionStateMachine(SegmentLogConfig segmentConfig, long snapshotThresholdBytes, long raftLogRetainBytes,
                               NodeMetrics metrics) {
    this.segmentConfig = segmentConfig;
    this.metrics = metrics;
    this.snapshotTrigger = new SnapshotSizeTrigger(snapshotThresholdBytes, this::requestSnapshot);
    this.raftLogRetention = new RaftLogRetention(raftLogRetainBytes);
  }

  /** Asks this replica's Ratis division to take a snapshot now (Ratis' own trigger counts entries only). */
  private CompletableFuture<?> requestSnapshot() {
    return getServer().thenComposeAsync(server -> server.snapshotManagementAsync(SnapshotManagementRequest.newCreate(
        ClientId.randomId(), server.getId(), getGroupId(), CallId.getAndIncrement(), SNAPSHOT_REQUEST_TIMEOUT_MS, 1)),
        SNAPSHOT_REQUESTS);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeaderId) {
    metrics.leaderChanged(NodeMetrics.PARTITION, member.getPeerId().equals(newLeaderId));
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return store;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    store.init(raftStorage);
    openLog();
  }

  @Override
  public void pause() {
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
    }
    closeLog();
    if (lc.getCurrentState() == LifeCycle.State.PAUSING) {
      lc.transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    store.load();
    openLog();
  }

  /** Opens the segments and cuts them back to the newest snapshot; Ratis replays every later entry. */
  private void openLog() throws IOException {
    Path dir = store.segmentsDir();
    SegmentLog opened = SegmentLog.open(dir, segmentConfig);
    PartitionSnapshotMeta meta = store.latestMeta();
    long keepUpTo = meta == null ? opened.logStartOffset() : meta.getNextOffset();
    if (meta != null && opened.segmentFiles().isEmpty() && meta.getSegmentFilesCount() == 0) {
      // Retention removed every record before the snapshot: only the meta knows where the log stands.
      opened.resetTo(keepUpTo);
    } else if (meta != null && opened.segmentFiles().isEmpty() && keepUpTo > 0) {
      // Every segment the snapshot named is gone: a retention entry after the snapshot deleted them (on this
      // replica, or on the leader that shipped this snapshot without them). The Raft log holds the rest, that
      // entry included. (Segments only ever go through retention; losing all of them otherwise looks the same.)
      LOG.warn("{}: none of the snapshot's {} segments exist (deleted by retention since); starting the log at the"
          + " snapshot's end {}", getGroupId(), meta.getSegmentFilesCount(), keepUpTo);
      opened.resetTo(keepUpTo);
    } else if (meta != null && opened.logStartOffset() > keepUpTo) {
      // Retention after the snapshot deleted segments beyond its end: start empty at the snapshot's end; the Raft
      // log replays the appends after it and then the retention entry, which deletes them again.
      LOG.info("{}: segments start at {}, past the snapshot's end {} (retention since): restarting the log there",
          getGroupId(), opened.logStartOffset(), keepUpTo);
      opened.resetTo(keepUpTo);
    }
    if (opened.logEndOffset() < keepUpTo) {
      opened.close();
      throw new IOException(getGroupId() + ": segments end at offset " + opened.logEndOffset()
          + " but the snapshot says " + keepUpTo + ": segment data was lost; wipe this replica's group directory"
          + " so that it reinstalls from the leader");
    }
    if (opened.logEndOffset() > keepUpTo) {
      LOG.info("{}: truncating segments from offset {} to the snapshot's end {}; the Raft log replays the rest",
          getGroupId(), opened.logEndOffset(), keepUpTo);
      opened.truncateFrom(keepUpTo);
    }
    if (meta != null && meta.getLogStartOffset() > opened.logStartOffset()) {
      // Retention's log start, which may lie inside this replica's first segment.
      opened.advanceStartTo(meta.getLogStartOffset());
    }
    producers = meta == null ? new ProducerStateTable() : ProducerStateTable.fromRecords(meta.getProducersList());
    offsets = meta == null ? new CommittedOffsetTable() : CommittedOffsetTable.fromRecords(meta.getCommittedOffsetsList());
    txns = meta == null ? new PartitionTransactions()
        : PartitionTransactions.fromRecords(meta.getOpenTransactionsList(), meta.getAbortedBatchesList());
    producerSessions = producers.size();
    TermIndex ti = store.getLatestSnapshot() == null ? null : store.getLatestSnapshot().getTermIndex();
    if (ti != null) {
      setLastAppliedTermIndex(ti);
    }
    this.log = opened;
    publishEnd(opened);
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  private void closeLog() {
    SegmentLog l = log;
    log = null;
    notifier.wakeAll();
    stableNotifier.wakeAll();
    if (l != null) {
      try {
        l.close();
      } catch (IOException e) {
        LOG.warn("{}: closing segments: {}", getGroupId(), e.toString());
      }
    }
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    long started = System.nanoTime();
    LogEntryProto entry = trx.getLogEntry();
    TermIndex ti = TermIndex.valueOf(entry);
    PartitionEntry pe;
    try {
      // The record bytes are written to the segment during this apply and not kept: no need to copy them.
      pe = ShadedBytes.parseShared(PartitionEntry.parser(), entry.getStateMachineLogEntry().getLogData());
    } catch (IOException e) {
      // Every replica sees the same bytes, so every replica rejects the same entry the same way.
      updateLastAppliedTermIndex(ti);
      return reply(error(ErrorCode.CORRUPT_BATCH, "entry does not decode: " + e.getMessage()));
    }
    com.google.protobuf.Message result = switch (pe.getKindCase()) {
      case APPEND -> applyAppend(pe.getAppend());
      case COMMIT_OFFSET -> offsets.commit(pe.getCommitOffset(), requireLog().logEndOffset());
      case RESET_OFFSET -> offsets.reset(pe.getResetOffset(), requireLog().logEndOffset());
      case TXN_MARKER -> applyMarker(pe.getTxnMarker());
      case TXN_OFFSET_COMMIT -> applyTxnOffsetCommit(pe.getTxnOffsetCommit());
      case FENCE_GROUP -> applyFenceGroup(pe.getFenceGroup());
      case RETENTION -> applyRetention(pe.getRetention());
      case KIND_NOT_SET -> error(ErrorCode.INVALID_REQUEST, "empty partition entry");
    };
    updateLastAppliedTermIndex(ti);
    snapshotTrigger.applied(entry.getSerializedSize());
    metrics.applied(NodeMetrics.PARTITION, System.nanoTime() - started);
    return CompletableFuture.completedFuture(ShadedBytes.toMessage(result));
  }

  private AppendResult applyAppend(AppendEntry a) {
    SegmentLog l = requireLog();
    boolean idempotent = a.getProducerId() >= 0;
    long now = a.getAppendTimeMs();
    if (a.getTransactional() && !idempotent) {
      return error(ErrorCode.INVALID_REQUEST, "a transactional batch needs a producer id");
    }
    if (idempotent) {
      ProducerStateTable.Decision d = producers.check(a.getProducerId(), a.getProducerEpoch(), a.getBaseSequence(),
          a.getRecordCount(), now, a.getProducerExpiryMs());
      if (d instanceof ProducerStateTable.Reject r) {
        return error(r.code(), r.message());
      }
      if (d instanceof ProducerStateTable.Duplicate dup) {
        return AppendResult.newBuilder().setBaseOffset(dup.baseOffset()).setAppendTimeMs(dup.appendTimeMs())
            .setDuplicate(true).build();
      }
      if (!a.getTransactional() && txns.isOpen(a.getProducerId())) {
        return error(ErrorCode.INVALID_TXN_STATE, "producer " + a.getProducerId() + " has a transaction open on this"
            + " partition: its batches must be transactional until the transaction ends");
      }
    }
    long base = l.logEndOffset();
    try {
      l.append(base, a.getRecordCount(), now, a.getCrc32C(), a.getRecords().asReadOnlyByteBuffer());
    } catch (IOException e) {
      // A replica that cannot write what the quorum committed must stop rather than diverge: Ratis closes
      // the server on an exception thrown from apply.
      throw new UncheckedIOException(getGroupId() + ": cannot append at offset " + base, e);
    }
    if (idempotent) {
      producers.recordAppend(a.getProducerId(), a.getProducerEpoch(), a.getBaseSequence(), a.getRecordCount(), base,
          now, a.getProducerExpiryMs());
      if (now >= nextPurgeMs) {
        producers.purgeExpired(now, a.getProducerExpiryMs());
        nextPurgeMs = now + 60_000;
      }
      if (a.getTransactional()) {
        txns.recordAppend(a.getProducerId(), a.getProducerEpoch(), base, a.getRecordCount());
      }
      producerSessions = producers.size();
    }
    publishEnd(l);
    return AppendResult.newBuilder().setBaseOffset(base).setAppendTimeMs(now).build();
  }

  /**
   * Ends a producer's transaction here: raises its epoch (fencing batches of the ended transaction), marks the
   * batches aborted or applies the offset commits it held. A repeated marker changes nothing more.
   */
  private AppendResult applyMarker(TxnMarkerEntry m) {
    SegmentLog l = requireLog();
    int openEpoch = txns.openEpoch(m.getProducerId());
    if (openEpoch > m.getProducerEpoch()) {
      LOG.warn("{}: ignoring a marker of producer {} epoch {}: its open transaction has epoch {}", getGroupId(),
          m.getProducerId(), m.getProducerEpoch(), openEpoch);
      return AppendResult.newBuilder().setBaseOffset(l.logEndOffset()).build();
    }
    producers.onMarker(m.getProducerId(), m.getProducerEpoch(), m.getMarkerTimeMs());
    PartitionTransactions.Ended ended = txns.end(m.getProducerId(), m.getCommit());
    if (ended != null && m.getCommit()) {
      ended.pendingOffsets().forEach(offsets::commitFromTransaction);
    }
    publishEnd(l);
    return AppendResult.newBuilder().setBaseOffset(l.logEndOffset()).setAppendTimeMs(m.getMarkerTimeMs()).build();
  }

  /** Holds a group's offset commit until the producer's transaction ends, if generation and epoch allow it. */
  private OffsetCommitResult applyTxnOffsetCommit(TxnOffsetCommitEntry e) {
    int known = Math.max(producers.epochOf(e.getProducerId()), txns.openEpoch(e.getProducerId()));
    if (e.getProducerEpoch() < known) {
      return OffsetCommitResult.newBuilder().setErrorCode(ErrorCode.PRODUCER_FENCED.getNumber())
          .setErrorMessage("producer " + e.getProducerId() + " epoch " + e.getProducerEpoch() + " is fenced by epoch "
              + known).setCommittedOffset(offsets.offsetOf(e.getGroup())).build();
    }
    OffsetCommitResult refused = offsets.check(e.getGroup(), e.getOffset(), e.getGeneration(), e.getKnownGeneration(),
        e.getMemberId(), requireLog().logEndOffset());
    if (refused != null) {
      return refused;
    }
    txns.addPendingOffset(e.getProducerId(), e.getProducerEpoch(), new PartitionTransactions.PendingOffset(
        e.getGroup(), e.getOffset(), e.getGeneration(), e.getMemberId(), e.getCommitTimeMs()));
    return OffsetCommitResult.newBuilder().setCommittedOffset(offsets.offsetOf(e.getGroup())).build();
  }

  /**
   * A member starts reading in a new generation: older generations are fenced from here on; while an open
   * transaction holds an offset commit of the group here, the answer is UNSTABLE_OFFSET_COMMIT (the committed offset
   * is about to move, or not), so the member does not start from an offset that a committing transaction replaces.
   */
  private OffsetCommitResult applyFenceGroup(FenceGroupEntry e) {
    offsets.fence(e.getGroup(), Math.max(e.getGeneration(), e.getKnownGeneration()));
    OffsetCommitResult.Builder r = OffsetCommitResult.newBuilder().setCommittedOffset(offsets.offsetOf(e.getGroup()));
    if (txns.hasPendingOffset(e.getGroup())) {
      r.setErrorCode(ErrorCode.UNSTABLE_OFFSET_COMMIT.getNumber()).setErrorMessage("an open transaction holds an"
          + " offset commit of group '" + e.getGroup() + "' on this partition: retry when it ends");
    }
    return r.build();
  }

  private void publishEnd(SegmentLog l) {
    long end = l.logEndOffset();
    notifier.publish(end);
    stableNotifier.publish(txns.lastStableOffset(end));
  }

  /**
   * Advances the log start to the entry's offset (decided by the leader, see {@link RetentionPolicy}): whole
   * segments below it are deleted, reads below it refused. The same on every replica, as it depends on the entry
   * and the log's offsets only.
   */
  private RetentionResult applyRetention(RetentionEntry r) {
    SegmentLog l = requireLog();
    long target = r.getLogStartOffset();
    if (target < 0 || target > l.logEndOffset()) {
      return RetentionResult.newBuilder().setErrorCode(ErrorCode.INVALID_REQUEST.getNumber())
          .setErrorMessage("log start " + target + " is outside [0, " + l.logEndOffset() + "]")
          .setLogStartOffset(l.logStartOffset()).build();
    }
    long before = l.logStartOffset();
    if (target > before) {
      try {
        l.advanceStartTo(target);
        store.dropDeletedSegments();
        txns.pruneBelow(l.logStartOffset());
      } catch (IOException e) {
        throw new UncheckedIOException(getGroupId() + ": cannot delete segments below " + target, e);
      }
      LOG.info("{}: retention (retention.ms {}, retention.bytes {}, decided at {}) moved the log start {} -> {}",
          getGroupId(), r.getRetentionMs(), r.getRetentionBytes(), r.getDecidedMs(), before, l.logStartOffset());
    }
    return RetentionResult.newBuilder().setLogStartOffset(l.logStartOffset()).build();
  }

  /**
   * This replica's segments as {@link RetentionPolicy} sees them (each with its newest batch's append time), for
   * the leader's retention decision.
   */
  public List<RetentionPolicy.SegmentInfo> retentionView() throws IOException {
    SegmentLog l = requireLog();
    List<RetentionPolicy.SegmentInfo> out = new java.util.ArrayList<>();
    long start = l.logStartOffset();
    for (SegmentLog.SegmentSummary s : l.segmentSummaries()) {
      long last = Long.MIN_VALUE;
      if (s.nextOffset() > s.baseOffset() && s.nextOffset() - 1 >= start) {
        List<StoredBatch> b = l.read(s.nextOffset() - 1, 1);
        if (!b.isEmpty()) {
          last = b.get(0).appendTimeMs();
        }
      }
      out.add(new RetentionPolicy.SegmentInfo(Math.max(start, s.baseOffset()), s.nextOffset(), s.sizeBytes(), last));
    }
    return out;
  }

  private static AppendResult error(ErrorCode code, String message) {
    return AppendResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message).build();
  }

  private static CompletableFuture<Message> reply(AppendResult r) {
    return CompletableFuture.completedFuture(ShadedBytes.toMessage(r));
  }

  /**
   * The read barrier: an empty read-only request, answered empty. Ratis calls this once the leader confirmed its
   * leadership and this replica applied everything committed before the request came in (linearizable reads,
   * see {@code RaftPropertiesFactory}); what the caller then reads here is at least that fresh.
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    if (request.getContent().isEmpty()) {
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
    return CompletableFuture.failedFuture(new IllegalArgumentException(
        "a partition answers only the empty read barrier, got " + request.getContent().size() + " bytes"));
  }

  @Override
  public long takeSnapshot() throws IOException {
    SegmentLog l = requireLog();
    TermIndex ti = getLastAppliedTermIndex();
    if (ti == null || ti.getIndex() < 0) {
      return -1;
    }
    long started = System.nanoTime();
    // Forced, not sealed: segment boundaries then depend on appends (segment.bytes) and retention entries only,
    // never on when a replica happened to snapshot, so every replica has the same files for retention to delete.
    // Ratis ships each named file up to its size now; bytes appended later are cut off on open (truncateFrom).
    l.flush();
    List<Path> files = l.segmentFiles();
    PartitionTransactions t = txns;
    store.save(ti, l.logEndOffset(), l.logStartOffset(), files, b -> b.addAllProducers(producers.toRecords())
        .addAllCommittedOffsets(offsets.toRecords()).addAllOpenTransactions(t.openRecords())
        .addAllAbortedBatches(t.abortedRecords()));
    snapshotTrigger.snapshotTaken();
    metrics.snapshotTaken(NodeMetrics.PARTITION, System.nanoTime() - started);
    LOG.debug("{}: snapshot at {} (next offset {}, {} segments)", getGroupId(), ti, l.logEndOffset(), files.size());
    raftLogRetention.afterSnapshot(this, ti.getIndex());
    return ti.getIndex();
  }

  private SegmentLog requireLog() {
    SegmentLog l = log;
    if (l == null) {
      throw new IllegalStateException(getGroupId() + ": partition storage is not open");
    }
    return l;
  }

  /**
   * The sequence the applied state expects next from an idempotent producer's session, or -1 when it knows none
   * (a hint for the leader's proposal ordering; see {@code ProposalSequencer}).
   */
  public int expectedSequence(long producerId, int epoch) {
    return producers.expectedSequence(producerId, epoch);
  }

  /** Offset of the first record still stored. */
  public long logStartOffset() {
    return requireLog().logStartOffset();
  }

  /** Offset the next applied record will get; every offset below it is committed. */
  public long logEndOffset() {
    return requireLog().logEndOffset();
  }

  /** Bytes of record data stored (segment data files). */
  public long sizeInBytes() {
    return requireLog().sizeInBytes();
  }

  /** Segment files, the active one included. */
  public int segmentCount() {
    return requireLog().segmentFiles().size();
  }

  /** Idempotent producer sessions this partition remembers. */
  public int producerSessions() {
    return producerSessions;
  }

  /** Every consumer group's committed offset on this partition, as applied on this replica. */
  public java.util.SortedMap<String, CommittedOffsetTable.Committed> committedOffsets() {
    return offsets.all();
  }

  /** Committed batches from {@code offset} on (see {@link SegmentLog#read}). */
  public List<StoredBatch> read(long offset, int maxBytes) throws IOException {
    return requireLog().read(offset, maxBytes);
  }

  /** The last stable offset: read_committed readers see only records below it. */
  public long lastStableOffset() {
    return txns.lastStableOffset(requireLog().logEndOffset());
  }

  /** Transactions open on this partition. */
  public int openTransactions() {
    return txns.openCount();
  }

  /**
   * What a reader at {@code offset} gets: with {@code readCommitted}, the batches below the last stable offset
   * that no aborted transaction wrote, and where to continue (past skipped aborted batches too); else every
   * committed batch.
   */
  public ReadView readView(long offset, int maxBytes, boolean readCommitted) throws IOException {
    SegmentLog l = requireLog();
    long end = l.logEndOffset();
    PartitionTransactions t = txns;
    long stable = t.lastStableOffset(end);
    if (!readCommitted) {
      return new ReadView(offset >= end ? List.of() : l.read(offset, maxBytes), 0, stable, end);
    }
    if (offset >= stable) {
      return new ReadView(List.of(), 0, stable, end);
    }
    List<StoredBatch> visible = new java.util.ArrayList<>();
    long next = 0;
    for (StoredBatch b : l.read(offset, maxBytes)) {
      if (b.baseOffset() >= stable) {
        break;
      }
      next = b.baseOffset() + b.recordCount();
      if (!t.isAborted(b.baseOffset())) {
        visible.add(b);
      }
    }
    return new ReadView(visible, next, stable, end);
  }

  /**
   * A read's answer.
   *
   * @param batches          the batches to send
   * @param nextOffset       where the reader continues (0: after the last record sent)
   * @param lastStableOffset the last stable offset at the read
   * @param logEndOffset     the log end at the read
   */
  public record ReadView(List<StoredBatch> batches, long nextOffset, long lastStableOffset, long logEndOffset) {
  }

  /** Completes once the last stable offset passes {@code offset}, or after {@code timeoutMs}. */
  public CompletableFuture<Void> awaitStableBeyond(long offset, long timeoutMs) {
    return stableNotifier.awaitBeyond(offset, timeoutMs);
  }

  /** A consumer group's committed offset (and generation) on this partition, as applied on this replica. */
  public java.util.Optional<CommittedOffsetTable.Committed> committedOffset(String group) {
    return offsets.get(group);
  }

  /** Completes once a record at or after {@code offset} is applied, or after {@code timeoutMs}. */
  public CompletableFuture<Void> awaitBeyond(long offset, long timeoutMs) {
    return notifier.awaitBeyond(offset, timeoutMs);
  }

  /** Whether the storage is open (false while a snapshot is being installed, or after close). */
  public boolean isServing() {
    return log != null;
  }

  @Override
  public void close() throws IOException {
    closeLog();
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.NEW) {
      lc.transition(LifeCycle.State.CLOSED);
    } else if (lc.getCurrentState() != LifeCycle.State.CLOSED) {
      lc.transition(LifeCycle.State.CLOSING);
      lc.transition(LifeCycle.State.CLOSED);
    }
    super.close();
  }
}
