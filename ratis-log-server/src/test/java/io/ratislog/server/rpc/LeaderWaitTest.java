package io.ratislog.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeaderWaitTest {
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  @Test
  void aHeldRequestRunsAgainAndIsReleased() throws Exception {
    LeaderWait wait = new LeaderWait(timer, 10, 1_000);
    CountDownLatch ran = new CountDownLatch(1);
    assertTrue(wait.retryLater(System.nanoTime(), 1_000, 100, ran::countDown));
    assertTrue(ran.await(5, TimeUnit.SECONDS));
    assertEquals(0, wait.held());
  }

  @Test
  void aRequestPastItsWaitIsAnsweredNow() {
    LeaderWait wait = new LeaderWait(timer, 10, 1_000);
    long since = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(500);
    assertFalse(wait.retryLater(since, 500, 1, () -> { }));
    assertFalse(wait.retryLater(System.nanoTime(), LeaderWait.POLL_MS - 1, 1, () -> { }), "not even one poll left");
    assertEquals(0, wait.held());
  }

  @Test
  void heldRequestsAreBoundedInNumberAndBytes() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    timer.execute(() -> {
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    LeaderWait wait = new LeaderWait(timer, 2, 1_000);
    long now = System.nanoTime();
    assertTrue(wait.retryLater(now, 10_000, 600, () -> { }));
    assertFalse(wait.retryLater(now, 10_000, 401, () -> { }), "over the byte bound");
    assertTrue(wait.retryLater(now, 10_000, 400, () -> { }));
    assertFalse(wait.retryLater(now, 10_000, 0, () -> { }), "over the count bound");
    assertEquals(2, wait.held());
    gate.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (wait.held() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(0, wait.held());
    assertTrue(wait.retryLater(now, 10_000, 1_000, () -> { }), "room again once the held ones ran");
  }

  @Test
  void aStoppedTimerHoldsNothing() {
    timer.shutdownNow();
    LeaderWait wait = new LeaderWait(timer, 10, 1_000);
    assertFalse(wait.retryLater(System.nanoTime(), 1_000, 1, () -> { }));
    assertEquals(0, wait.held());
  }
}
