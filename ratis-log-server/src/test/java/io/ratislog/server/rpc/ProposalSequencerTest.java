package io.ratislog.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftGroupId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProposalSequencerTest {
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final RaftGroupId group = RaftGroupId.randomId();
  private final List<Integer> proposed = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private void submit(ProposalSequencer s, long producer, int epoch, int seq, int count) {
    s.submit(group, producer, epoch, seq, count, () -> proposed.add(seq));
  }

  @Test
  void batchesThatArriveOutOfOrderAreProposedInSequenceOrder() {
    ProposalSequencer s = new ProposalSequencer(60_000, timer);
    submit(s, 7, 0, 0, 10);
    submit(s, 7, 0, 30, 5);
    submit(s, 7, 0, 20, 10);
    assertEquals(List.of(0), proposed);
    submit(s, 7, 0, 10, 10);
    assertEquals(List.of(0, 10, 20, 30), proposed);
  }

  @Test
  void retriesDuplicatesAndOtherLanesAreNotHeld() {
    ProposalSequencer s = new ProposalSequencer(60_000, timer);
    submit(s, 7, 0, 0, 10);
    submit(s, 7, 0, 10, 10);
    submit(s, 7, 0, 0, 10); // a retry of an earlier batch
    submit(s, 8, 0, 0, 1); // another producer
    submit(s, 7, 1, 0, 1); // the next epoch starts again at 0
    assertEquals(List.of(0, 10, 0, 0, 0), proposed);
  }

  @Test
  void aBatchWhosePredecessorNeverComesIsProposedAfterTheHold() throws Exception {
    ProposalSequencer s = new ProposalSequencer(50, timer);
    submit(s, 7, 0, 40, 10); // a new leader's first batch of an older session
    submit(s, 7, 0, 50, 10);
    assertEquals(List.of(), proposed);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (proposed.size() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(List.of(40, 50), proposed);
    submit(s, 7, 0, 60, 1);
    assertEquals(List.of(40, 50, 60), proposed);
  }
}
