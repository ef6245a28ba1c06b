package io.ratislog.client;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.ratislog.proto.ErrorCode;

/**
 * Classifies errors as retriable or not and computes retry backoff.
 *
 * <p>Retriable: {@code NOT_LEADER}, {@code LEADER_NOT_AVAILABLE}, {@code TIMEOUT},
 * {@code INTERNAL_ERROR}, {@code CONCURRENT_TRANSACTIONS}, {@code UNSTABLE_OFFSET_COMMIT} and the gRPC transport statuses {@code UNAVAILABLE} and
 * {@code DEADLINE_EXCEEDED}. {@code UNKNOWN_TOPIC_OR_PARTITION} is retriable only during a short
 * grace period (metadata propagation right after a topic's creation), which callers track
 * themselves, see {@link #isRetriableWithinGrace(ErrorCode)}. Everything else is final.
 */
public final class RetryPolicy {
  /** First backoff, in milliseconds. */
  public static final long INITIAL_BACKOFF_MS = 50;
  /** Largest backoff, in milliseconds. */
  public static final long MAX_BACKOFF_MS = 1000;
  /** First backoff while a partition's leadership moves, in milliseconds. */
  public static final long LEADER_CHANGE_INITIAL_BACKOFF_MS = 20;
  /** Largest backoff while a partition's leadership moves, in milliseconds. */
  public static final long LEADER_CHANGE_MAX_BACKOFF_MS = 100;

  private RetryPolicy() {}

  /**
   * Whether a server error code is retriable as such.
   *
   * @param code the error code
   * @return true for NOT_LEADER, LEADER_NOT_AVAILABLE, TIMEOUT, INTERNAL_ERROR, CONCURRENT_TRANSACTIONS and UNSTABLE_OFFSET_COMMIT
   */
  public static boolean isRetriable(ErrorCode code) {
    if (code == null) {
      return false;
    }
    switch (code) {
      case NOT_LEADER:
      case LEADER_NOT_AVAILABLE:
      case TIMEOUT:
      case INTERNAL_ERROR:
      case CONCURRENT_TRANSACTIONS:
      case UNSTABLE_OFFSET_COMMIT:
        return true;
      default:
        return false;
    }
  }

  /**
   * Whether an error code is retriable for a short grace period only: UNKNOWN_TOPIC_OR_PARTITION.
   *
   * @param code the error code
   * @return true for UNKNOWN_TOPIC_OR_PARTITION
   */
  public static boolean isRetriableWithinGrace(ErrorCode code) {
    return code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }

  /**
   * Whether a gRPC status (a request that reached no server) is retriable.
   *
   * @param code the gRPC status code
   * @return true for UNAVAILABLE, DEADLINE_EXCEEDED, and CANCELLED (the client never cancels a call it still
   *         wants, so CANCELLED means the server or the connection went away mid-call: a node shutting down
   *         or killed), and ABORTED and UNKNOWN (a server or proxy failing the stream)
   */
  public static boolean isRetriable(Status.Code code) {
    return switch (code) {
      case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ABORTED, UNKNOWN -> true;
      default -> false;
    };
  }

  /**
   * Whether a failure is retriable: {@link RatislogException}s by their code or transport status,
   * gRPC exceptions by their status; anything else (client bugs, interrupts) is not.
   *
   * @param t the failure, possibly wrapped in a CompletionException/ExecutionException
   * @return true when a retry may succeed
   */
  public static boolean isRetriable(Throwable t) {
    Throwable c = RatislogException.unwrap(t);
    if (c instanceof RatislogException re) {
      return re.transportStatus() != null ? isRetriable(re.transportStatus()) : isRetriable(re.code());
    }
    if (c instanceof StatusRuntimeException sre) {
      return isRetriable(sre.getStatus().getCode());
    }
    if (c instanceof StatusException se) {
      return isRetriable(se.getStatus().getCode());
    }
    return false;
  }

  /**
   * The backoff before retry number {@code attempt} of a request that failed because the partition's leader is
   * moving (NOT_LEADER, LEADER_NOT_AVAILABLE, or the leader's node unreachable): 20 ms, doubling, at most
   * 100 ms. When a leader's process dies the servers elect a new one within a few hundred milliseconds, and the new
   * leader is ready 100-300 ms later; a client backing off for up to a second would find it up to a second late
   * (the failover benchmark measured 1-3 s of that), and at 200 ms it waited 100 ms on average after the leader was
   * ready.
   *
   * @param attempt the retry number, starting at 1
   * @return the delay in milliseconds
   */
  public static long leaderChangeBackoffMs(int attempt) {
    int shift = Math.min(Math.max(attempt, 1) - 1, 20);
    return Math.min(LEADER_CHANGE_MAX_BACKOFF_MS, LEADER_CHANGE_INITIAL_BACKOFF_MS << shift);
  }

  /**
   * The backoff before retry number {@code attempt}: 50 ms, doubling, at most 1 s.
   *
   * @param attempt the retry number, starting at 1
   * @return the delay in milliseconds
   */
  public static long backoffMs(int attempt) {
    if (attempt <= 1) {
      return INITIAL_BACKOFF_MS;
    }
    int shift = Math.min(attempt - 1, 20);
    return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS << shift);
  }
}
