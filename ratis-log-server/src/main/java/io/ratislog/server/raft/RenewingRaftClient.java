package io.ratislog.server.raft;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Ratis client for a long-lived component that replaces itself once a failure broke it.
 *
 * <p>Ratis' ordered async calls share one sliding window per client and target. When a call exhausts its retry
 * policy ({@link RaftRetryFailureException}: the group had no reachable leader for that long), Ratis fails the
 * window for good: every later call through that client fails at once with {@link AlreadyClosedException}, even
 * after the group is back. A node component that kept such a client (the transaction coordinator's marker
 * writers, the metadata client) would then fail forever; the chaos suite saw a coordinator retry a commit for
 * minutes after its partitions had recovered. This wrapper builds a fresh client from its factory after either
 * failure, so the next call gets a working window; calls already in flight on the old client finish (or fail)
 * on it. Thread-safe.
 */
public final class RenewingRaftClient implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(RenewingRaftClient.class);

  private final String name;
  private final Supplier<RaftClient> factory;
  /** Replaced (under this object's lock) only by {@link #renew}; read without the lock by each call. */
  private volatile RaftClient current;
  private boolean closed;

  /**
   * @param name    for the log line written when the client is replaced
   * @param factory builds a client; called now and after each failure that broke the previous one
   */
  public RenewingRaftClient(String name, Supplier<RaftClient> factory) {
    this.name = name;
    this.factory = factory;
    this.current = factory.get();
  }

  /** Runs {@code call} on the current client; a failure that broke the client replaces it for the next call. */
  public <T> CompletableFuture<T> call(Function<RaftClient, CompletableFuture<T>> call) {
    RaftClient client = current;
    CompletableFuture<T> result;
    try {
      result = call.apply(client);
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.whenComplete((r, e) -> {
      if (e != null && breaksTheClient(e)) {
        renew(client, e);
      }
    });
  }

  /** Whether {@code e} (or a cause of it) leaves a Ratis client's ordered window failed for good. */
  static boolean breaksTheClient(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RaftRetryFailureException || t instanceof AlreadyClosedException) {
        return true;
      }
    }
    return false;
  }

  private void renew(RaftClient failed, Throwable cause) {
    synchronized (this) {
      if (closed || current != failed) {
        return;
      }
      current = factory.get();
    }
    LOG.info("{}: replacing its Ratis client after {}", name, cause.toString());
    closeQuietly(failed);
  }

  private void closeQuietly(RaftClient client) {
    try {
      client.close();
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: closing a replaced Ratis client: {}", name, e.toString());
    }
  }

  @Override
  public void close() {
    RaftClient last;
    synchronized (this) {
      closed = true;
      last = current;
    }
    closeQuietly(last);
  }
}
