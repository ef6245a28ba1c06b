package io.ratislog.client;

import io.ratislog.proto.Record;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Per-partition queues of batches. A partition's head batch is <em>ready</em> when the partition has fewer than
 * {@code maxInFlight} batches in flight and the batch is full (reached the batch size, or a later batch exists), a
 * flush is under way or the accumulator is closing, or its linger expired <em>and nothing of its partition is in
 * flight</em>. {@link #drain} hands ready batches to the sender in queue order, which, with one batch in flight per
 * partition, preserves each partition's order.
 *
 * <p>Only full batches are pipelined (Nagle's rule): while a partition waits for an answer, its partial batch keeps
 * filling instead of going out as one more small Raft entry. Every batch costs each replica a Raft round, a log
 * append and an fsync, so under load many small batches cost far more than a few large ones (6 partitions at
 * 5 small batches in flight each ran at ~0.6x the records/s of this rule, and a 10,000 records/s stream saw twice
 * the latency). A partial batch whose linger expired waits only until its partition's batches in flight are answered.
 */
final class RecordAccumulator {
  /** A new batch's first buffer; it grows (doubling) up to the batch size. */
  private static final int INITIAL_BATCH_BYTES = 64 * 1024;
  private final long batchSizeBytes;
  private final long lingerNanos;
  private final long deliveryTimeoutNanos;
  private final int maxInFlight;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Changes signalled so far (guarded by {@link #lock}): lets the sender wait only for changes after its drain. */
  private long changes;
  private final Map<TopicPartition, PartitionQueue> queues = new LinkedHashMap<>();
  private final Set<ProducerBatch> incomplete = Collections.newSetFromMap(new IdentityHashMap<>());
  private int flushesInProgress;
  private boolean closing;

  private static final class PartitionQueue {
    final ArrayDeque<ProducerBatch> batches = new ArrayDeque<>();
    /**
     * Batches drained, in send order, from the oldest still incomplete one on: a batch that completed behind an
     * incomplete one keeps its slot. So no batch is sent more than {@code maxInFlight} batches after one whose
     * answer is still missing (say, lost): the partition's dedup window (the last 5 batches of a session) still
     * holds that one when it is resent.
     */
    final ArrayDeque<ProducerBatch> inFlight = new ArrayDeque<>();
  }

  RecordAccumulator(long batchSizeBytes, long lingerMs, long deliveryTimeoutMs, int maxInFlight) {
    this.batchSizeBytes = batchSizeBytes;
    this.lingerNanos = TimeUnit.MILLISECONDS.toNanos(lingerMs);
    this.deliveryTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(deliveryTimeoutMs);
    this.maxInFlight = maxInFlight;
  }

  /**
   * Appends a record to the partition's open batch (or a new one when it would overflow).
   *
   * @return true when the batch holding the record is now full
   */
  boolean append(TopicPartition tp, byte[] key, byte[] value, long timestampMs, long size,
      CompletableFuture<RecordMetadata> future, long nowNanos) {
    lock.lock();
    try {
      PartitionQueue q = queues.computeIfAbsent(tp, k -> new PartitionQueue());
      ProducerBatch last = q.batches.peekLast();
      boolean created = false;
      if (last == null || last.sealed || (last.count() > 0 && last.sizeBytes + size > batchSizeBytes)) {
        if (last != null) {
          last.sealed = true;
        }
        last = new ProducerBatch(tp, nowNanos, nowNanos + deliveryTimeoutNanos,
            (int) Math.min(Math.max(batchSizeBytes, size), INITIAL_BATCH_BYTES));
        q.batches.addLast(last);
        incomplete.add(last);
        created = true;
      }
      last.add(key, value, timestampMs, size, future);
      if (last.sizeBytes >= batchSizeBytes) {
        last.sealed = true;
      }
      if (created || last.sealed) {
        signalChange();
      }
      return last.sealed;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Result of {@link #drain}: the ready batches and, when none, how long to wait at most; {@code changes} is the
   * change count the drain saw (see {@link #awaitChange}).
   */
  record Drained(List<ProducerBatch> batches, long waitNanos, long changes) {}

  /** Takes the ready batches out of their queues, counting them in flight. */
  Drained drain(long nowNanos) {
    lock.lock();
    try {
      List<ProducerBatch> ready = new ArrayList<>();
      long wait = Long.MAX_VALUE;
      boolean force = flushesInProgress > 0 || closing;
      for (PartitionQueue q : queues.values()) {
        while (q.inFlight.size() < maxInFlight && !q.batches.isEmpty()) {
          ProducerBatch head = q.batches.peekFirst();
          boolean full = head.sealed || q.batches.size() > 1;
          long lingerLeft = head.createdNanos + lingerNanos - nowNanos;
          if (full || force || (lingerLeft <= 0 && q.inFlight.isEmpty())) {
            q.batches.pollFirst();
            head.sealed = true;
            head.drained = true;
            q.inFlight.addLast(head);
            ready.add(head);
          } else {
            if (lingerLeft > 0) {
              wait = Math.min(wait, lingerLeft);
            }
            break;
          }
        }
      }
      return new Drained(ready, wait, changes);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until something may have become ready since {@code drained} was taken, at most {@code nanos}: returns at
   * once when a change (an append, a completion, a wakeup) came in between, whose signal found nobody waiting.
   */
  void awaitChange(Drained drained, long nanos) throws InterruptedException {
    lock.lock();
    try {
      if (changes == drained.changes()) {
        changed.awaitNanos(Math.min(nanos, TimeUnit.SECONDS.toNanos(1)));
      }
    } finally {
      lock.unlock();
    }
  }

  /** Counts a change and wakes the sender; the lock is held. */
  private void signalChange() {
    changes++;
    changed.signalAll();
  }

  /** Wakes the sender. */
  void wakeup() {
    lock.lock();
    try {
      signalChange();
    } finally {
      lock.unlock();
    }
  }

  /** A batch completed (acknowledged, failed or aborted): frees its in-flight slot. */
  void completed(ProducerBatch b) {
    lock.lock();
    try {
      if (!incomplete.remove(b)) {
        return;
      }
      PartitionQueue q = queues.get(b.tp);
      if (q != null) {
        if (b.drained) {
          while (!q.inFlight.isEmpty() && !incomplete.contains(q.inFlight.peekFirst())) {
            q.inFlight.pollFirst();
          }
        } else {
          q.batches.remove(b);
        }
        if (q.inFlight.isEmpty() && q.batches.isEmpty()) {
          queues.remove(b.tp);
        }
      }
      signalChange();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether a batch of the same partition and producer session with lower sequence numbers is still incomplete:
   * then a sequence gap the partition reports for {@code b} is that batch not having landed yet.
   */
  boolean hasIncompletePredecessor(ProducerBatch b) {
    lock.lock();
    try {
      for (ProducerBatch x : incomplete) {
        if (x != b && x.tp.equals(b.tp) && x.producerId == b.producerId && x.baseSequence >= 0
            && x.baseSequence < b.baseSequence) {
          return true;
        }
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  /** Batches not yet completed (any order). */
  List<ProducerBatch> incomplete() {
    lock.lock();
    try {
      return new ArrayList<>(incomplete);
    } finally {
      lock.unlock();
    }
  }

  /** Makes every batch ready regardless of linger until {@link #endFlush}. */
  void beginFlush() {
    lock.lock();
    try {
      flushesInProgress++;
      signalChange();
    } finally {
      lock.unlock();
    }
  }

  void endFlush() {
    lock.lock();
    try {
      flushesInProgress--;
    } finally {
      lock.unlock();
    }
  }

  /** From now on every batch is ready at once. */
  void close() {
    lock.lock();
    try {
      closing = true;
      signalChange();
    } finally {
      lock.unlock();
    }
  }

  int inFlight(TopicPartition tp) {
    lock.lock();
    try {
      PartitionQueue q = queues.get(tp);
      return q == null ? 0 : q.inFlight.size();
    } finally {
      lock.unlock();
    }
  }
}
