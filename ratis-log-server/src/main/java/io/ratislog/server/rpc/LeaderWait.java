package io.ratislog.server.rpc;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds requests that found their partition between two leaders (no leader known yet, a new leader that has not
 * committed its first entry, a replica still starting) and runs them again every {@link #POLL_MS} ms, instead of
 * answering LEADER_NOT_AVAILABLE at once.
 *
 * <p>Answering at once sent the client into its backoff and a metadata refresh, and its next try often met the
 * same election: after a leader's {@code kill -9} the new leader was ready about 0.5 s after the kill, and the
 * producer's first acknowledgement came another 0.4 s later. A held request goes on as soon as this node knows the
 * leader: it is proposed here, or answered NOT_LEADER with the leader as hint, which the client follows at once.
 *
 * <p>A request is held for at most the wait its caller passes (half its own timeout, so the answer still reaches
 * the client in time), and at most {@code maxHeld} requests of at most {@code maxHeldBytes} in all are held at a
 * time; beyond any bound the caller answers as before. Nothing is proposed while a request is held, so holding it
 * never changes what is written.
 */
final class LeaderWait {
  /** How often a held request is routed again. */
  static final long POLL_MS = 5;

  private final ScheduledExecutorService timer;
  private final int maxHeld;
  private final long maxHeldBytes;
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicLong heldBytes = new AtomicLong();

  LeaderWait(ScheduledExecutorService timer, int maxHeld, long maxHeldBytes) {
    this.timer = timer;
    this.maxHeld = maxHeld;
    this.maxHeldBytes = maxHeldBytes;
  }

  /**
   * Schedules {@code retry} in {@link #POLL_MS} ms when the request may still wait.
   *
   * @param sinceNanos when the request first found no usable leader ({@link System#nanoTime()})
   * @param maxWaitMs  how long it may be held in all
   * @param bytes      the request's size
   * @param retry      routes and handles the request again
   * @return false when the request may not wait (any more): the caller answers now
   */
  boolean retryLater(long sinceNanos, long maxWaitMs, long bytes, Runnable retry) {
    if (System.nanoTime() - sinceNanos + TimeUnit.MILLISECONDS.toNanos(POLL_MS) > TimeUnit.MILLISECONDS.toNanos(maxWaitMs)) {
      return false;
    }
    // Count the request in first, then check: concurrent callers cannot both take the last room.
    int count = held.incrementAndGet();
    long total = heldBytes.addAndGet(bytes);
    if (count > maxHeld || total > maxHeldBytes) {
      release(bytes);
      return false;
    }
    try {
      timer.schedule(() -> {
        release(bytes);
        retry.run();
      }, POLL_MS, TimeUnit.MILLISECONDS);
      return true;
    } catch (RejectedExecutionException e) {
      release(bytes);
      return false;
    }
  }

  private void release(long bytes) {
    held.decrementAndGet();
    heldBytes.addAndGet(-bytes);
  }

  /** Requests held right now. */
  int held() {
    return held.get();
  }
}
