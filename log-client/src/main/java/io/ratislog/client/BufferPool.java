package io.ratislog.client;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** Accounts the memory of unsent records; {@link #acquire} blocks while it is used up. */
final class BufferPool {
  private final long total;
  private long available;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();

  BufferPool(long total) {
    this.total = total;
    this.available = total;
  }

  long total() {
    return total;
  }

  long available() {
    lock.lock();
    try {
      return available;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes {@code bytes}, waiting until {@code deadlineNanos} (System.nanoTime()).
   *
   * @return false when the deadline passed first
   */
  boolean acquire(long bytes, long deadlineNanos) throws InterruptedException {
    if (bytes > total) {
      return false;
    }
    lock.lock();
    try {
      while (available < bytes) {
        long wait = deadlineNanos - System.nanoTime();
        if (wait <= 0) {
          return false;
        }
        freed.awaitNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
      }
      available -= bytes;
      return true;
    } finally {
      lock.unlock();
    }
  }

  void release(long bytes) {
    lock.lock();
    try {
      available = Math.min(total, available + bytes);
      freed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
