package io.ratislog.server.rpc;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * Proposes an idempotent producer's batches for one partition in sequence order.
 *
 * <p>A producer with several batches of a partition in flight sends them in sequence order, but the server runs
 * each call's handler on its own executor thread, so two batches can reach {@code submitClientRequestAsync} in
 * the other order; the partition would then reject the later one as a sequence gap and the producer would have
 * to resend it. This sequencer holds a batch whose predecessor (same producer, epoch and partition) has not been
 * proposed yet, for at most {@code holdMs}, and proposes it right after the predecessor.
 *
 * <p>It is soft, leader-local state and correctness never depends on it: the partition's state machine checks
 * every sequence. A batch whose predecessor does not arrive in time (lost, or sent to another leader) is
 * proposed anyway and rejected there; a retry or duplicate (a sequence below the next expected one), a lane's
 * first batch at sequence 0, and the batch the partition's applied state expects next (a new leader's first batch
 * of an older session) are proposed at once. Lanes are forgotten least-recently-used first.
 */
final class ProposalSequencer {
  private static final int MAX_LANES = 65_536;

  private record Key(RaftGroupId group, long producerId, int epoch) {
  }

  private static final class Parked {
    final int count;
    final Runnable propose;
    ScheduledFuture<?> timeout;

    Parked(int count, Runnable propose) {
      this.count = count;
      this.propose = propose;
    }
  }

  /** One producer's batches of one partition. Guarded by itself. */
  private static final class Lane {
    /** The sequence after the last batch proposed, or -1 before the first. */
    long next = -1;
    final TreeMap<Integer, Parked> parked = new TreeMap<>();
  }

  private final long holdMs;
  private final ScheduledExecutorService timer;
  private final Map<Key, Lane> lanes = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Lane> eldest) {
      return size() > MAX_LANES;
    }
  };

  /**
   * @param holdMs how long a batch waits for its predecessor at most
   * @param timer  runs the hold timeouts
   */
  ProposalSequencer(long holdMs, ScheduledExecutorService timer) {
    this.holdMs = holdMs;
    this.timer = timer;
  }

  /**
   * Runs {@code propose} now, or once the producer's batch ending at {@code baseSequence} was proposed (at most
   * {@code holdMs} later). {@code propose} must not block: it runs while the lane is locked.
   *
   * @param appliedNext the sequence the partition's applied state expects next from this producer and epoch, or
   *                    -1 when it does not know the session: a lane this leader never saw or saw before the
   *                    leadership went away and came back learns from it that the batch is the next one
   */
  void submit(RaftGroupId group, long producerId, int epoch, int baseSequence, int count, int appliedNext,
              Runnable propose) {
    Lane lane;
    synchronized (lanes) {
      lane = lanes.computeIfAbsent(new Key(group, producerId, epoch), k -> new Lane());
    }
    synchronized (lane) {
      boolean inOrder = (lane.next < 0 ? baseSequence == 0 : baseSequence <= lane.next)
          || (appliedNext >= 0 && baseSequence <= appliedNext);
      if (inOrder) {
        run(lane, baseSequence, count, propose);
        drain(lane);
        return;
      }
      Parked p = new Parked(count, propose);
      Parked previous = lane.parked.put(baseSequence, p);
      if (previous != null) {
        // The same batch again (a retry while the first copy waits): the state machine answers both.
        previous.timeout.cancel(false);
        previous.propose.run();
      }
      p.timeout = timer.schedule(() -> expire(lane, baseSequence, p), holdMs, TimeUnit.MILLISECONDS);
    }
  }

  private void expire(Lane lane, int baseSequence, Parked p) {
    synchronized (lane) {
      if (lane.parked.remove(baseSequence, p)) {
        run(lane, baseSequence, p.count, p.propose);
        drain(lane);
      }
    }
  }

  private static void run(Lane lane, int baseSequence, int count, Runnable propose) {
    lane.next = Math.max(lane.next, (long) baseSequence + count);
    propose.run();
  }

  private static void drain(Lane lane) {
    while (!lane.parked.isEmpty() && lane.parked.firstKey() <= lane.next) {
      Map.Entry<Integer, Parked> e = lane.parked.pollFirstEntry();
      e.getValue().timeout.cancel(false);
      run(lane, e.getKey(), e.getValue().count, e.getValue().propose);
    }
  }

  /** Lanes remembered (for tests). */
  int lanes() {
    synchronized (lanes) {
      return lanes.size();
    }
  }
}
