package io.ratislog.server.partition;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Asks for a snapshot of a replica once the entries it applied since its last snapshot reach a size. Ratis triggers
 * snapshots by entry count only, and a partition's entries are batches of any size up to {@code max.batch.bytes}:
 * 20,000 one-MiB batches kept 20 GB of Raft log per partition on disk (Ratis purges its log only up to a snapshot)
 * and made a restart replay all of it.
 *
 * <p>{@link #applied} runs on the apply thread; the request it starts must not block that thread. At most one
 * request is outstanding; when it completes without a snapshot having been taken (Ratis refuses one while it
 * installs a snapshot, for example), the trigger asks again after another eighth of the threshold. Snapshot timing
 * is local to a replica and decides nothing any applied entry does.
 */
final class SnapshotSizeTrigger {
  private final long thresholdBytes;
  private final Supplier<CompletableFuture<?>> request;
  private volatile long bytesSinceSnapshot;
  /** {@link #bytesSinceSnapshot} at which the next request goes out. */
  private volatile long requestAtBytes;
  private volatile boolean requested;

  /**
   * @param thresholdBytes applied entry bytes after which a snapshot is requested, &gt; 0
   * @param request        starts the request (asynchronously); its future completes once it was handled
   */
  SnapshotSizeTrigger(long thresholdBytes, Supplier<CompletableFuture<?>> request) {
    if (thresholdBytes <= 0) {
      throw new IllegalArgumentException("thresholdBytes must be > 0: " + thresholdBytes);
    }
    this.thresholdBytes = thresholdBytes;
    this.requestAtBytes = thresholdBytes;
    this.request = request;
  }

  /** Counts an applied entry of {@code bytes}; requests a snapshot when the threshold is reached. */
  void applied(long bytes) {
    long total = bytesSinceSnapshot + bytes;
    bytesSinceSnapshot = total;
    if (total >= requestAtBytes && !requested) {
      requested = true;
      CompletableFuture<?> f;
      try {
        f = request.get();
      } catch (RuntimeException e) {
        ended();
        return;
      }
      f.whenComplete((r, e) -> ended());
    }
  }

  private void ended() {
    long since = bytesSinceSnapshot;
    if (since >= requestAtBytes) {
      requestAtBytes = since + Math.max(1, thresholdBytes / 8);
    }
    requested = false;
  }

  /** A snapshot of everything applied so far was taken (on request or on Ratis' own entry-count trigger). */
  void snapshotTaken() {
    bytesSinceSnapshot = 0;
    requestAtBytes = thresholdBytes;
  }
}
