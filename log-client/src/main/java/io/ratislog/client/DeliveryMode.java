package io.ratislog.client;

/**
 * What a producer promises about each record it reports as sent.
 *
 * <ul>
 *   <li>{@link #AT_MOST_ONCE}: a batch is sent once; it is resent only after an answer that proves it was not
 *       written (NOT_LEADER from a node that is not the leader, LEADER_NOT_AVAILABLE). A record whose send
 *       failed may be lost; none is ever written twice.</li>
 *   <li>{@link #AT_LEAST_ONCE}: failed batches are retried until the delivery timeout. No acknowledged record
 *       is lost, but a batch whose first answer was lost after it was written is written again.</li>
 *   <li>{@link #EXACTLY_ONCE} (the default): retries as at-least-once, inside an idempotent producer session:
 *       every batch carries the session's producer id, epoch and per-partition sequence numbers, and the
 *       partition answers a retry with the original offsets instead of writing it again. This holds across
 *       leader failover and full restarts, because the partitions keep the session table in their
 *       snapshots.</li>
 * </ul>
 *
 * <p>For a {@link GroupConsumer}: {@link #AT_MOST_ONCE} commits the returned records' next offsets before
 * {@code poll} returns them (a crash before processing skips them, none is delivered twice);
 * {@link #AT_LEAST_ONCE} leaves the commit to the application, which calls {@code commit()} after processing (a
 * crash before the commit redelivers them, none is lost); {@link #EXACTLY_ONCE} reads READ_COMMITTED and
 * commits nothing itself: the application writes its output with a transactional {@link Producer} and commits
 * the input offsets in the same transaction ({@code sendOffsetsToTransaction(offsets, consumer.groupMetadata())}),
 * so that output and progress are kept or lost together. For an external sink use AT_LEAST_ONCE and store
 * {@link ConsumerRecord#idempotencyKey()} with each effect.
 */
public enum DeliveryMode {
  AT_MOST_ONCE,
  AT_LEAST_ONCE,
  EXACTLY_ONCE
}
