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
 */
public enum DeliveryMode {
  AT_MOST_ONCE,
  AT_LEAST_ONCE,
  EXACTLY_ONCE
}
