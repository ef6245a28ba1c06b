package io.ratislog.server.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Wakes long-polling fetches when records are applied. A waiter asks for "an end offset beyond X" and is
 * completed (with no value) once one is published, or when its timeout passes; either way the fetch then
 * reads whatever is there.
 */
final class AppendNotifier {
  private record Waiter(long offset, CompletableFuture<Void> future) {
  }

  private final List<Waiter> waiters = new ArrayList<>();
  private long published;

  /** Completes when the end offset exceeds {@code offset}, or after {@code timeoutMs}. */
  CompletableFuture<Void> awaitBeyond(long offset, long timeoutMs) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (this) {
      if (published > offset) {
        return CompletableFuture.completedFuture(null);
      }
      waiters.add(new Waiter(offset, f));
    }
    f.completeOnTimeout(null, timeoutMs, TimeUnit.MILLISECONDS);
    f.whenComplete((v, t) -> remove(f));
    return f;
  }

  private synchronized void remove(CompletableFuture<Void> f) {
    waiters.removeIf(w -> w.future == f);
  }

  /** Publishes a new end offset (also after a truncation or a snapshot install, when it may go down). */
  void publish(long endOffset) {
    List<Waiter> ready = new ArrayList<>();
    synchronized (this) {
      published = endOffset;
      if (waiters.isEmpty()) {
        return;
      }
      for (Waiter w : waiters) {
        if (endOffset > w.offset) {
          ready.add(w);
        }
      }
    }
    ready.forEach(w -> w.future.complete(null));
  }

  /** Wakes every waiter (on close or pause), so no fetch hangs on a replica that stops serving. */
  void wakeAll() {
    List<Waiter> all;
    synchronized (this) {
      all = new ArrayList<>(waiters);
    }
    all.forEach(w -> w.future.complete(null));
  }
}
