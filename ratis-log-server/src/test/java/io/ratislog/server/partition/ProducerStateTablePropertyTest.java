package io.ratislog.server.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random interleavings of new batches, retries (within and beyond the dedup window), producer restarts (new
 * epochs), "failovers" (another replica that restored the table from a snapshot) and full restarts (restore
 * from a snapshot) keep every producer's records in the partition free of duplicates and gaps, in order, and
 * every replica decides alike.
 */
class ProducerStateTablePropertyTest {
  private static final long EXPIRY = 1_000_000;

  enum Kind { NEW_BATCH, RETRY_RECENT, RETRY_OLD, NEW_EPOCH, FAILOVER, RESTART }

  record Op(Kind kind, int producer, int count, int back) {
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op = Combinators.combine(
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(10, Arbitraries.just(Kind.NEW_BATCH)),
            net.jqwik.api.Tuple.of(5, Arbitraries.just(Kind.RETRY_RECENT)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.RETRY_OLD)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.NEW_EPOCH)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.FAILOVER)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.RESTART))),
        Arbitraries.integers().between(1, 3),
        Arbitraries.integers().between(1, 4),
        Arbitraries.integers().between(0, 9)).as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(200);
  }

  /** One written batch in the modelled partition log. */
  record Written(long producer, int epoch, int baseSequence, int count, long baseOffset) {
  }

  /** What a producer has sent in its current epoch (the client's view). */
  static final class Client {
    int epoch;
    int nextSequence;
    final List<int[]> sent = new ArrayList<>(); // {baseSequence, count}
  }

  @Property(tries = 300)
  void eachProducersRecordsAreWrittenOnceInOrderWithoutGaps(@ForAll("ops") List<Op> ops) {
    ProducerStateTable leader = new ProducerStateTable();
    ProducerStateTable follower = new ProducerStateTable();
    List<Written> log = new ArrayList<>();
    Map<Integer, Client> clients = new HashMap<>();
    long offset = 0;
    long now = 0;
    for (Op op : ops) {
      now += 10;
      Client c = clients.computeIfAbsent(op.producer(), k -> new Client());
      int baseSeq;
      int count;
      switch (op.kind()) {
        case NEW_BATCH -> {
          baseSeq = c.nextSequence;
          count = op.count();
        }
        case RETRY_RECENT, RETRY_OLD -> {
          if (c.sent.isEmpty()) {
            continue;
          }
          int back = op.kind() == Kind.RETRY_RECENT ? Math.min(op.back() % 5, c.sent.size() - 1)
              : Math.min(op.back() + 5, c.sent.size() - 1);
          int[] b = c.sent.get(c.sent.size() - 1 - back);
          baseSeq = b[0];
          count = b[1];
        }
        case NEW_EPOCH -> {
          c.epoch++;
          c.nextSequence = 0;
          c.sent.clear();
          continue;
        }
        case FAILOVER -> {
          // The other replica applied the same entries; it takes over as leader.
          ProducerStateTable t = leader;
          leader = follower;
          follower = t;
          continue;
        }
        case RESTART -> {
          leader = ProducerStateTable.fromRecords(leader.toRecords());
          follower = ProducerStateTable.fromRecords(follower.toRecords());
          continue;
        }
        default -> throw new IllegalStateException();
      }
      ProducerStateTable.Decision d = leader.check(op.producer(), c.epoch, baseSeq, count, now, EXPIRY);
      assertEquals(d, follower.check(op.producer(), c.epoch, baseSeq, count, now, EXPIRY), "replicas decide alike");
      if (d instanceof ProducerStateTable.Append) {
        assertEquals(c.nextSequence, baseSeq, "only the next batch is appended");
        for (ProducerStateTable t : new ProducerStateTable[] {leader, follower}) {
          t.recordAppend(op.producer(), c.epoch, baseSeq, count, offset, now, EXPIRY);
        }
        log.add(new Written(op.producer(), c.epoch, baseSeq, count, offset));
        offset += count;
        c.sent.add(new int[] {baseSeq, count});
        c.nextSequence += count;
      } else if (d instanceof ProducerStateTable.Duplicate dup) {
        Written original = log.stream().filter(w -> w.producer() == op.producer() && w.epoch() == c.epoch
            && w.baseSequence() == baseSeq).findFirst().orElseThrow();
        assertEquals(original.baseOffset(), dup.baseOffset(), "a retry gets the original offsets");
      } else {
        assertInstanceOf(ProducerStateTable.Reject.class, d);
        assertTrue(op.kind() == Kind.RETRY_OLD, "only a retry older than the window is refused: " + op + " -> " + d);
      }
    }
    Map<String, Integer> expectedNext = new HashMap<>();
    for (Written w : log) {
      String key = w.producer() + "/" + w.epoch();
      assertEquals(expectedNext.getOrDefault(key, 0), w.baseSequence(), "no gap and no duplicate for " + key);
      expectedNext.put(key, w.baseSequence() + w.count());
    }
  }
}
