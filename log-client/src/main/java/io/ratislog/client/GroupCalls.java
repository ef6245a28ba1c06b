package io.ratislog.client;

import io.grpc.StatusRuntimeException;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.GroupServiceGrpc.GroupServiceBlockingStub;
import io.ratislog.proto.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * GroupService (and TransactionService) calls with retries. Membership calls go to any node, preferring the node last named as the
 * metadata leader (heartbeats must reach it); offset calls go to the partition's leader as produce does. Both
 * follow NOT_LEADER hints and retry NOT_LEADER, LEADER_NOT_AVAILABLE, TIMEOUT and transport failures with
 * backoff until the time budget; any other error is returned to the caller in the response. Thread-safe.
 */
final class GroupCalls {
  private final ClusterConnection conn;
  private final long requestTimeoutMs;
  private volatile HostPort coordinator;

  GroupCalls(ClusterConnection conn, long requestTimeoutMs) {
    this.conn = conn;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /** Makes a blocking stub of some service for a node, with a deadline in ms. */
  interface Stubs<S> {
    S at(HostPort node, long deadlineMs);
  }

  /** A membership call; returns the first response whose error is not retriable (NONE included). */
  <T> T coordinator(String op, Function<GroupServiceBlockingStub, T> call, Function<T, Error> errorOf,
                    Function<T, Node> leaderOf, long timeoutMs) {
    return coordinator(conn::groupStub, op, call, errorOf, leaderOf, timeoutMs);
  }

  /** A call any node answers (through the metadata group), on the service {@code stubs} makes stubs of. */
  <S, T> T coordinator(Stubs<S> stubs, String op, Function<S, T> call, Function<T, Error> errorOf,
                       Function<T, Node> leaderOf, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    RatislogException last = null;
    int round = 0;
    while (true) {
      List<HostPort> order = new ArrayList<>();
      HostPort preferred = coordinator;
      if (preferred != null) {
        order.add(preferred);
      }
      order.addAll(conn.candidates());
      for (HostPort hp : order) {
        long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (remaining <= 0) {
          break;
        }
        try {
          T resp = call.apply(stubs.at(hp, Math.min(remaining, requestTimeoutMs)));
          Error err = errorOf.apply(resp);
          if (!RetryPolicy.isRetriable(err.getCode())) {
            if (err.getCode() == ErrorCode.NONE && leaderOf != null) {
              coordinator = hp;
            }
            return resp;
          }
          last = new RatislogException(err.getCode(), op + ": " + err.getMessage());
          Node hint = leaderOf == null ? null : leaderOf.apply(resp);
          if (err.getCode() == ErrorCode.NOT_LEADER && hint != null && hint.getClientPort() > 0) {
            conn.learnNode(hint);
            coordinator = new HostPort(hint.getHost(), hint.getClientPort());
            break; // start the next round at the hinted leader
          }
        } catch (StatusRuntimeException e) {
          if (hp.equals(coordinator)) {
            coordinator = null;
          }
          last = RatislogException.transport(e.getStatus(), op + " on " + hp, e);
        }
      }
      long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (remaining <= 0) {
        throw last != null ? last : new RatislogException(ErrorCode.TIMEOUT, op + ": no time left");
      }
      sleep(Math.min(remaining, last != null && last.code() == ErrorCode.NOT_LEADER ? 0 : RetryPolicy.backoffMs(++round)));
    }
  }

  /** An offset call on a partition's leader; returns the first response whose error is not retriable. */
  <T> T partition(String op, TopicPartition tp, Function<GroupServiceBlockingStub, T> call, Function<T, Error> errorOf,
                  Function<T, Node> leaderOf, long timeoutMs) {
    return partition(conn::groupStub, op, tp, call, errorOf, leaderOf, timeoutMs);
  }

  /** A call on a partition's leader, on the service {@code stubs} makes stubs of. */
  <S, T> T partition(Stubs<S> stubs, String op, TopicPartition tp, Function<S, T> call, Function<T, Error> errorOf,
                     Function<T, Node> leaderOf, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    RatislogException last = null;
    int attempt = 0;
    while (true) {
      long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (remaining <= 0) {
        throw last != null ? last : new RatislogException(ErrorCode.TIMEOUT, op + ": no time left");
      }
      boolean retryNow = false;
      try {
        HostPort hp = conn.route(tp, attempt).get(remaining, TimeUnit.MILLISECONDS);
        T resp = call.apply(stubs.at(hp, Math.min(remaining, requestTimeoutMs)));
        Error err = errorOf.apply(resp);
        if (!RetryPolicy.isRetriable(err.getCode())) {
          return resp;
        }
        last = new RatislogException(err.getCode(), op + " " + tp + ": " + err.getMessage());
        if (err.getCode() == ErrorCode.NOT_LEADER) {
          retryNow = conn.onNotLeader(tp, leaderOf.apply(resp));
        } else {
          conn.onLeaderUnknown(tp);
        }
      } catch (StatusRuntimeException e) {
        last = RatislogException.transport(e.getStatus(), op + " " + tp, e);
        conn.onLeaderUnknown(tp);
      } catch (ExecutionException e) {
        RatislogException re = RatislogException.wrap(e);
        if (!RetryPolicy.isRetriable(re) && !RetryPolicy.isRetriableWithinGrace(re.code())) {
          throw re;
        }
        last = re;
      } catch (TimeoutException e) {
        last = new RatislogException(ErrorCode.TIMEOUT, op + " " + tp + ": no route in time");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RatislogException(ErrorCode.TIMEOUT, "interrupted", e);
      }
      attempt++;
      if (!retryNow) {
        sleep(Math.min(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())),
            RetryPolicy.backoffMs(attempt)));
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RatislogException(ErrorCode.TIMEOUT, "interrupted", e);
    }
  }
}
