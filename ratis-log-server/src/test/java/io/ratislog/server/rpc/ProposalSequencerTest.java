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
    s.submit(group, producer, epoch, seq, count, -1, () -> proposed.add(seq));
  }

  /**
   * A leader that just took over (or took over again: its lane is stale) learns from the partition which sequence
   * comes next: that batch goes at once instead of waiting the hold (a second's stall after every leader change).
   */
  @Test
  void theBatchThePartitionExpectsNextIsNotHeldOnANewLeader() {
    ProposalSequencer s = new ProposalSequencer(60_000, timer);
    s.submit(group, 7, 0, 40, 10, 40, () -> proposed.add(40)); // the partition applied sequences 0..39
    s.submit(group, 7, 0, 60, 10, 40, () -> proposed.add(60)); // 50 has not arrived: held
    assertEquals(List.of(40), proposed);
    s.submit(group, 7, 0, 50, 10, 40, () -> proposed.add(50));
    assertEquals(List.of(40, 50, 60), proposed);
    // Leadership went away and came back: the lane says 70, the partition applied up to 99 meanwhile.
    s.submit(group, 7, 0, 100, 10, 100, () -> proposed.add(100));
    assertEquals(List.of(40, 50, 60, 100), proposed);
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
