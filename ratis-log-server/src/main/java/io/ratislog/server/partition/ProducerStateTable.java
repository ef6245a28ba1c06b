package io.ratislog.server.partition;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.ProducerBatchRecord;
import io.ratislog.server.entries.ProducerStateRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a partition remembers of its idempotent producers: per producer id, the session epoch and the last
 * {@value #DEDUP_WINDOW} batches it wrote (sequence range and offsets). From this alone it decides whether an
 * incoming batch is new (append it), a retry of a batch already written (answer with the original offsets,
 * write nothing), or not acceptable (a sequence gap, a sequence older than the window, an older epoch).
 *
 * <p>Determinism: every decision depends only on this table and on the entry (including the entry-stamped
 * time and expiry). A producer idle for longer than the expiry is treated as unknown at lookup, whether or
 * not {@link #purgeExpired} already dropped it, so purging (an optimisation, done at any time) never
 * changes a decision. The table is part of every snapshot.
 *
 * <p>Not thread-safe: used on the state machine's apply thread only.
 */
public final class ProducerStateTable {
  /** How many recent batches per producer are remembered; a producer keeps at most this many in flight. */
  public static final int DEDUP_WINDOW = 5;

  /** The outcome of {@link #check}. */
  public sealed interface Decision permits Append, Duplicate, Reject {
  }

  /** A new batch: append it, then {@link #recordAppend}. */
  public record Append() implements Decision {
  }

  /** A retry of a batch already written at {@code baseOffset}. */
  public record Duplicate(long baseOffset, long appendTimeMs) implements Decision {
  }

  public record Reject(ErrorCode code, String message) implements Decision {
  }

  private record Batch(int baseSequence, int count, long baseOffset, long appendTimeMs) {
    int lastSequence() {
      return baseSequence + count - 1;
    }
  }

  private static final class State {
    final int epoch;
    long lastWriteMs;
    final Deque<Batch> recent = new ArrayDeque<>();
    /** The sequence after the last batch appended: the one hint request threads read (see {@link #expectedSequence}). */
    volatile int next = -1;

    State(int epoch) {
      this.epoch = epoch;
    }
  }

  /** Written on the apply thread only; concurrent so that request threads can read {@link #expectedSequence}. */
  private final Map<Long, State> producers = new ConcurrentHashMap<>();

  private State live(long producerId, long nowMs, long expiryMs) {
    State s = producers.get(producerId);
    if (s != null && expiryMs > 0 && nowMs - s.lastWriteMs > expiryMs) {
      return null;
    }
    return s;
  }

  /** Decides what the batch is, changing nothing. */
  public Decision check(long producerId, int epoch, int baseSequence, int count, long nowMs, long expiryMs) {
    if (epoch < 0 || baseSequence < 0 || count <= 0 || (long) baseSequence + count - 1 > Integer.MAX_VALUE) {
      return new Reject(ErrorCode.INVALID_REQUEST, "producer epoch and base sequence must be >= 0 and the"
          + " sequence range must fit in 31 bits (epoch " + epoch + ", base sequence " + baseSequence + ", count " + count + ")");
    }
    State s = live(producerId, nowMs, expiryMs);
    if (s == null) {
      if (baseSequence == 0) {
        return new Append();
      }
      return new Reject(ErrorCode.OUT_OF_ORDER_SEQUENCE, "producer " + producerId + " is unknown to this partition"
          + " (never seen, or expired after idling longer than " + expiryMs + " ms) and its batch starts at sequence "
          + baseSequence + ", not 0: start a new producer session");
    }
    if (epoch < s.epoch) {
      return new Reject(ErrorCode.PRODUCER_FENCED, "producer " + producerId + " epoch " + epoch
          + " is fenced by epoch " + s.epoch);
    }
    if (epoch > s.epoch) {
      return baseSequence == 0 ? new Append() : new Reject(ErrorCode.OUT_OF_ORDER_SEQUENCE, "producer "
          + producerId + " starts epoch " + epoch + " at sequence " + baseSequence + ", not 0");
    }
    for (Batch b : s.recent) {
      if (b.baseSequence == baseSequence && b.count == count) {
        return new Duplicate(b.baseOffset, b.appendTimeMs);
      }
    }
    int last = s.recent.isEmpty() ? -1 : s.recent.peekLast().lastSequence();
    if (baseSequence == last + 1) {
      return new Append();
    }
    if (baseSequence <= last) {
      return new Reject(ErrorCode.OUT_OF_ORDER_SEQUENCE, "producer " + producerId + " sequence " + baseSequence
          + " is not one of its last " + DEDUP_WINDOW + " batches (last sequence " + last + ")");
    }
    return new Reject(ErrorCode.OUT_OF_ORDER_SEQUENCE, "producer " + producerId + " sequence gap: expected "
        + (last + 1) + ", got " + baseSequence);
  }

  /** Records a batch that {@link #check} answered {@link Append} for and that was written at {@code baseOffset}. */
  public void recordAppend(long producerId, int epoch, int baseSequence, int count, long baseOffset, long nowMs, long expiryMs) {
    State s = live(producerId, nowMs, expiryMs);
    if (s == null || s.epoch != epoch) {
      s = new State(epoch);
      producers.put(producerId, s);
    }
    s.recent.addLast(new Batch(baseSequence, count, baseOffset, nowMs));
    while (s.recent.size() > DEDUP_WINDOW) {
      s.recent.removeFirst();
    }
    s.lastWriteMs = nowMs;
    s.next = baseSequence + count;
  }

  /**
   * The sequence this partition expects next from the producer in {@code epoch}, as far as it has applied, or -1
   * when it knows no such session. Safe from any thread; a hint only (it may lag the log), for
   * the leader's proposal ordering: decisions come from {@link #check} on the apply thread.
   */
  public int expectedSequence(long producerId, int epoch) {
    State s = producers.get(producerId);
    return s == null || s.epoch != epoch ? -1 : s.next;
  }

  /**
   * Applies a transaction marker: the producer's epoch becomes at least {@code epoch} (the coordinator bumped
   * it when the transaction ended), and a raised epoch forgets the old batches, so that a late batch of the ended
   * transaction is fenced.
   */
  public void onMarker(long producerId, int epoch, long nowMs) {
    State s = producers.get(producerId);
    if (s == null || epoch > s.epoch) {
      State fresh = new State(epoch);
      fresh.lastWriteMs = nowMs;
      producers.put(producerId, fresh);
    } else {
      s.lastWriteMs = Math.max(s.lastWriteMs, nowMs);
    }
  }

  /** The producer's epoch as this partition knows it (expired or not), or -1. */
  public int epochOf(long producerId) {
    State s = producers.get(producerId);
    return s == null ? -1 : s.epoch;
  }

  /** Drops producers idle for longer than {@code expiryMs} at {@code nowMs}; never changes a decision. */
  public void purgeExpired(long nowMs, long expiryMs) {
    if (expiryMs > 0) {
      producers.values().removeIf(s -> nowMs - s.lastWriteMs > expiryMs);
    }
  }

  public int size() {
    return producers.size();
  }

  /** The table as snapshot records, ordered by producer id. */
  public List<ProducerStateRecord> toRecords() {
    List<Long> ids = new ArrayList<>(producers.keySet());
    ids.sort(Long::compare);
    List<ProducerStateRecord> out = new ArrayList<>(ids.size());
    for (long id : ids) {
      State s = producers.get(id);
      ProducerStateRecord.Builder b = ProducerStateRecord.newBuilder().setProducerId(id).setEpoch(s.epoch)
          .setLastWriteMs(s.lastWriteMs);
      for (Batch batch : s.recent) {
        b.addRecent(ProducerBatchRecord.newBuilder().setBaseSequence(batch.baseSequence).setRecordCount(batch.count)
            .setBaseOffset(batch.baseOffset).setAppendTimeMs(batch.appendTimeMs));
      }
      out.add(b.build());
    }
    return out;
  }

  /** A table holding exactly the given snapshot records. */
  public static ProducerStateTable fromRecords(List<ProducerStateRecord> records) {
    ProducerStateTable t = new ProducerStateTable();
    for (ProducerStateRecord r : records) {
      State s = new State(r.getEpoch());
      s.lastWriteMs = r.getLastWriteMs();
      for (ProducerBatchRecord b : r.getRecentList()) {
        s.recent.addLast(new Batch(b.getBaseSequence(), b.getRecordCount(), b.getBaseOffset(), b.getAppendTimeMs()));
      }
      s.next = s.recent.isEmpty() ? -1 : s.recent.peekLast().lastSequence() + 1;
      t.producers.put(r.getProducerId(), s);
    }
    return t;
  }
}
