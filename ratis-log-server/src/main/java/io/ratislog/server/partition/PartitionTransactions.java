package io.ratislog.server.partition;

import io.ratislog.server.entries.CommittedOffsetRecord;
import io.ratislog.server.entries.OffsetRange;
import io.ratislog.server.entries.OpenTxnRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The transactions one partition knows of: those open here (per producer id: its first offset here, its
 * batches, and offset commits waiting for the outcome) and the batches of aborted ones.
 *
 * <p>The <b>last stable offset</b> (LSO) is the first offset of the oldest transaction still open here, or the
 * log end when none is: every record below it belongs to no transaction or to an ended one, which is what a
 * read_committed reader may see (skipping aborted batches).
 *
 * <p>Changed only by applied entries (transactional appends, offset commits, markers), on the apply thread, so
 * every replica holds the same; part of every snapshot. Readers (fetches) call {@link #lastStableOffset}
 * and {@link #isAborted} concurrently.
 */
public final class PartitionTransactions {
  /** An offset commit waiting for its transaction's outcome. */
  public record PendingOffset(String group, long offset, long generation, String memberId, long commitTimeMs) {
  }

  /** A transaction as it ends on this partition. */
  public record Ended(long producerId, List<OffsetRange> batches, List<PendingOffset> pendingOffsets) {
  }

  private static final class Open {
    final long producerId;
    final int epoch;
    long firstOffset = -1;
    final List<OffsetRange> batches = new ArrayList<>();
    final List<PendingOffset> pending = new ArrayList<>();

    Open(long producerId, int epoch) {
      this.producerId = producerId;
      this.epoch = epoch;
    }
  }

  private final Map<Long, Open> open = new TreeMap<>();
  /** Aborted batches: base offset to record count. */
  private final ConcurrentSkipListMap<Long, Integer> aborted = new ConcurrentSkipListMap<>();
  private volatile long firstUnstable = -1;

  /** Whether an open transaction holds an offset commit of {@code group} here. */
  public boolean hasPendingOffset(String group) {
    for (Open o : open.values()) {
      for (PendingOffset p : o.pending) {
        if (p.group().equals(group)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether the producer has a transaction open here. */
  public boolean isOpen(long producerId) {
    return open.containsKey(producerId);
  }

  /** The epoch of the producer's open transaction here, or -1. */
  public int openEpoch(long producerId) {
    Open o = open.get(producerId);
    return o == null ? -1 : o.epoch;
  }

  /** Records a transactional batch written at {@code baseOffset}. */
  public void recordAppend(long producerId, int epoch, long baseOffset, int count) {
    Open o = open.computeIfAbsent(producerId, id -> new Open(id, epoch));
    if (o.firstOffset < 0) {
      o.firstOffset = baseOffset;
    }
    o.batches.add(OffsetRange.newBuilder().setBaseOffset(baseOffset).setRecordCount(count).build());
    recomputeFirstUnstable();
  }

  /** Holds an offset commit until the producer's transaction ends. */
  public void addPendingOffset(long producerId, int epoch, PendingOffset p) {
    Open o = open.computeIfAbsent(producerId, id -> new Open(id, epoch));
    o.pending.removeIf(x -> x.group().equals(p.group()));
    o.pending.add(p);
  }

  /**
   * Ends the producer's open transaction, if any: on abort its batches become aborted. The caller applies the
   * pending offsets of a committed one.
   *
   * @return what ended, or null when the producer had no transaction open here (a repeated marker)
   */
  public Ended end(long producerId, boolean commit) {
    Open o = open.remove(producerId);
    if (o == null) {
      return null;
    }
    if (!commit) {
      for (OffsetRange r : o.batches) {
        aborted.put(r.getBaseOffset(), r.getRecordCount());
      }
    }
    recomputeFirstUnstable();
    return new Ended(producerId, List.copyOf(o.batches), commit ? List.copyOf(o.pending) : List.of());
  }

  private void recomputeFirstUnstable() {
    long min = -1;
    for (Open o : open.values()) {
      if (o.firstOffset >= 0 && (min < 0 || o.firstOffset < min)) {
        min = o.firstOffset;
      }
    }
    firstUnstable = min;
  }

  /** The last stable offset for a log ending at {@code logEndOffset}. */
  public long lastStableOffset(long logEndOffset) {
    long f = firstUnstable;
    return f >= 0 ? Math.min(f, logEndOffset) : logEndOffset;
  }

  /** Whether the batch stored at {@code baseOffset} belongs to an aborted transaction. */
  public boolean isAborted(long baseOffset) {
    return aborted.containsKey(baseOffset);
  }

  /** Forgets aborted batches that end below {@code logStartOffset} (their records are gone). */
  public void pruneBelow(long logStartOffset) {
    aborted.headMap(logStartOffset).entrySet().removeIf(e -> e.getKey() + e.getValue() <= logStartOffset);
  }

  /** How many transactions are open here. */
  public int openCount() {
    return open.size();
  }

  public List<OpenTxnRecord> openRecords() {
    List<OpenTxnRecord> out = new ArrayList<>();
    for (Open o : open.values()) {
      OpenTxnRecord.Builder b = OpenTxnRecord.newBuilder().setProducerId(o.producerId).setProducerEpoch(o.epoch)
          .setFirstOffset(o.firstOffset).addAllBatches(o.batches);
      for (PendingOffset p : o.pending) {
        b.addPendingOffsets(CommittedOffsetRecord.newBuilder().setGroup(p.group()).setOffset(p.offset())
            .setGeneration(p.generation()).setMemberId(p.memberId()).setCommitTimeMs(p.commitTimeMs()));
      }
      out.add(b.build());
    }
    return out;
  }

  public List<OffsetRange> abortedRecords() {
    List<OffsetRange> out = new ArrayList<>(aborted.size());
    aborted.forEach((base, count) -> out.add(OffsetRange.newBuilder().setBaseOffset(base).setRecordCount(count).build()));
    return out;
  }

  /** The state a snapshot recorded. */
  public static PartitionTransactions fromRecords(List<OpenTxnRecord> openTxns, List<OffsetRange> abortedBatches) {
    PartitionTransactions t = new PartitionTransactions();
    for (OpenTxnRecord r : openTxns) {
      Open o = new Open(r.getProducerId(), r.getProducerEpoch());
      o.firstOffset = r.getFirstOffset();
      o.batches.addAll(r.getBatchesList());
      for (CommittedOffsetRecord p : r.getPendingOffsetsList()) {
        o.pending.add(new PendingOffset(p.getGroup(), p.getOffset(), p.getGeneration(), p.getMemberId(),
            p.getCommitTimeMs()));
      }
      t.open.put(o.producerId, o);
    }
    for (OffsetRange r : abortedBatches) {
      t.aborted.put(r.getBaseOffset(), r.getRecordCount());
    }
    t.recomputeFirstUnstable();
    return t;
  }
}
