package io.ratislog.server.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SnapshotSizeTriggerTest {
  private final List<CompletableFuture<Void>> requests = new ArrayList<>();
  private final SnapshotSizeTrigger trigger = new SnapshotSizeTrigger(1000, () -> {
    CompletableFuture<Void> f = new CompletableFuture<>();
    requests.add(f);
    return f;
  });

  @Test
  void requestsOnceTheThresholdIsReachedAndOnlyOnceWhileOutstanding() {
    trigger.applied(400);
    trigger.applied(599);
    assertEquals(0, requests.size());
    trigger.applied(1);
    assertEquals(1, requests.size());
    trigger.applied(5000);
    assertEquals(1, requests.size(), "one request outstanding at a time");

    trigger.snapshotTaken();
    requests.get(0).complete(null);
    trigger.applied(999);
    assertEquals(1, requests.size(), "the count starts again at the snapshot");
    trigger.applied(1);
    assertEquals(2, requests.size());
  }

  @Test
  void asksAgainAnEighthOfTheThresholdAfterARequestEndedWithoutASnapshot() {
    trigger.applied(1000);
    requests.get(0).completeExceptionally(new IllegalStateException("installing a snapshot"));
    trigger.applied(124);
    assertEquals(1, requests.size());
    trigger.applied(1);
    assertEquals(2, requests.size());
    trigger.snapshotTaken();
    requests.get(1).complete(null);
    trigger.applied(999);
    assertEquals(2, requests.size(), "after a snapshot the full threshold counts again");
  }

  @Test
  void aRequestThatCannotStartIsRetriedLater() {
    int[] calls = {0};
    SnapshotSizeTrigger failing = new SnapshotSizeTrigger(80, () -> {
      calls[0]++;
      throw new IllegalStateException("no server yet");
    });
    failing.applied(80);
    failing.applied(9);
    assertEquals(1, calls[0]);
    failing.applied(1);
    assertEquals(2, calls[0]);
  }
}
