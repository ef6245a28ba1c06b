package io.ratislog.client;

import io.ratislog.proto.ProduceRequest;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** Records of one partition sent together as one ProduceRequest. */
final class ProducerBatch {
  final TopicPartition tp;
  final long createdNanos;
  final long deadlineNanos;
  /** The records, serialized as they come. */
  final RecordSetWriter records;
  final List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
  /** Completed (normally) once every future of the batch is completed. */
  final CompletableFuture<Void> done = new CompletableFuture<>();
  private final AtomicBoolean finished = new AtomicBoolean();
  long sizeBytes;
  /** No more appends: full, or drained for sending. */
  boolean sealed;
  /** Taken out of the accumulator's queue (counts against the in-flight limit). */
  boolean drained;
  // Retry state, touched by one send attempt at a time.
  int attempts;
  int notLeaderStreak;
  /** Where the latest attempt went (set when it was routed). */
  volatile HostPort target;
  int gapRetriesWithoutPredecessor;
  long firstUnknownTopicNanos;
  volatile RatislogException lastError;
  private ProduceRequest request;
  /** The session this batch was stamped with, or -1 (not idempotent, or not stamped yet). */
  volatile long producerId = -1;
  /** The first sequence number of the batch in its session, or -1. */
  volatile int baseSequence = -1;

  ProducerBatch(TopicPartition tp, long createdNanos, long deadlineNanos, int initialBytes) {
    this.records = new RecordSetWriter(initialBytes);
    this.tp = tp;
    this.createdNanos = createdNanos;
    this.deadlineNanos = deadlineNanos;
  }

  void add(byte[] key, byte[] value, long timestampMs, long size, CompletableFuture<RecordMetadata> f) {
    records.append(key, value, timestampMs);
    futures.add(f);
    sizeBytes += size;
  }

  int count() {
    return records.count();
  }

  /** The request, encoded once: retries resend exactly the same bytes. */
  synchronized ProduceRequest request(int serverTimeoutMs, ProducerSession session, CompressionType compression) {
    if (request == null) {
      ByteString bytes = RecordCompression.compress(compression, records.toByteString());
      ProduceRequest.Builder b = ProduceRequest.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
          .setRecords(bytes).setCrc32C(RecordCodec.crc32c(bytes)).setRecordCount(records.count())
          .setProducerId(-1).setTimeoutMs(serverTimeoutMs);
      if (session != null) {
        ProducerSession.Stamp stamp = session.stamp(tp, records.count());
        b.setProducerId(stamp.producerId()).setProducerEpoch(stamp.epoch()).setBaseSequence(stamp.baseSequence());
        if (session.transactionalId() != null) {
          b.setTransactional(true).setTransactionalId(session.transactionalId());
        }
        baseSequence = stamp.baseSequence();
        producerId = stamp.producerId();
      }
      request = b.build();
    }
    return request;
  }

  /** Marks the batch finished; true only for the first caller. */
  boolean markFinished() {
    return finished.compareAndSet(false, true);
  }

  boolean isFinished() {
    return finished.get();
  }
}
