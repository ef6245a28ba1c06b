package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ratislog.proto.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RecordAccumulatorTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private static boolean append(RecordAccumulator acc, TopicPartition tp, int i, long size, long now) {
    return acc.append(tp, null, ("v" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, size,
        new CompletableFuture<>(), now);
  }

  @Test
  void lingerTriggersAPartialBatch() {
    RecordAccumulator acc = new RecordAccumulator(1000, 5, 60_000, 1);
    long t0 = 1_000_000 * MS;
    assertFalse(append(acc, TP, 0, 10, t0));
    RecordAccumulator.Drained d = acc.drain(t0 + 2 * MS);
    assertTrue(d.batches().isEmpty(), "linger not expired");
    assertEquals(3 * MS, d.waitNanos(), "wakes when the linger expires");
    d = acc.drain(t0 + 5 * MS);
    assertEquals(1, d.batches().size());
    assertEquals(1, d.batches().get(0).count());
  }

  @Test
  void sizeTriggersAFullBatchAndStartsANewOne() {
    RecordAccumulator acc = new RecordAccumulator(100, 10_000, 60_000, 5);
    long t0 = 0;
    for (int i = 0; i < 4; i++) {
      assertFalse(append(acc, TP, i, 20, t0));
    }
    assertTrue(append(acc, TP, 4, 20, t0), "reached the batch size");
    append(acc, TP, 5, 20, t0);
    RecordAccumulator.Drained d = acc.drain(t0 + MS);
    assertEquals(1, d.batches().size(), "only the full batch; the second still lingers");
    assertEquals(5, d.batches().get(0).count());
  }

  @Test
  void overflowingRecordGoesToNextBatchAndOversizedRecordIsAlone() {
    RecordAccumulator acc = new RecordAccumulator(100, 10_000, 60_000, 5);
    append(acc, TP, 0, 60, 0);
    append(acc, TP, 1, 60, 0); // would overflow: new batch, first one sealed
    assertTrue(append(acc, TP, 2, 500, 0), "an oversized record fills a batch by itself");
    RecordAccumulator.Drained d = acc.drain(MS);
    assertEquals(3, d.batches().size());
    assertEquals(List.of(1, 1, 1), d.batches().stream().map(ProducerBatch::count).toList());
  }

  @Test
  void oneInFlightPerPartitionPreservesOrder() {
    RecordAccumulator acc = new RecordAccumulator(10, 0, 60_000, 1);
    for (int i = 0; i < 6; i++) {
      append(acc, TP, i, 10, 0); // one record per batch
    }
    List<String> order = new ArrayList<>();
    for (int round = 0; round < 6; round++) {
      RecordAccumulator.Drained d = acc.drain(MS);
      assertEquals(1, d.batches().size(), "next batch only after the previous completed");
      ProducerBatch b = d.batches().get(0);
      assertTrue(acc.drain(MS).batches().isEmpty());
      assertEquals(1, acc.inFlight(TP));
      order.add(RecordCodec.decode(b.records.toByteString(), RecordCodec.crc32c(b.records.toByteString()), -1, "batch")
          .get(0).getValue().toStringUtf8());
      acc.completed(b);
    }
    assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "v5"), order);
    assertTrue(acc.incomplete().isEmpty());
  }

  @Test
  void partitionsAreIndependentAndFlushIgnoresLinger() {
    RecordAccumulator acc = new RecordAccumulator(1000, 60_000, 60_000, 1);
    TopicPartition other = new TopicPartition("t", 1);
    append(acc, TP, 0, 10, 0);
    append(acc, other, 1, 10, 0);
    assertTrue(acc.drain(MS).batches().isEmpty());
    acc.beginFlush();
    RecordAccumulator.Drained d = acc.drain(MS);
    acc.endFlush();
    assertEquals(2, d.batches().size());
    assertEquals(2, acc.incomplete().size());
    d.batches().forEach(acc::completed);
    assertTrue(acc.incomplete().isEmpty());
  }

  @Test
  void onlyFullBatchesArePipelined() {
    RecordAccumulator acc = new RecordAccumulator(100, 5, 60_000, 5);
    TopicPartition idle = new TopicPartition("t", 1);
    long t0 = 0;
    append(acc, TP, 0, 10, t0);
    ProducerBatch first = acc.drain(t0 + 5 * MS).batches().get(0);
    append(acc, TP, 1, 10, t0 + 6 * MS);
    append(acc, idle, 2, 10, t0 + 6 * MS);
    RecordAccumulator.Drained d = acc.drain(t0 + 20 * MS);
    assertEquals(List.of(idle), d.batches().stream().map(b -> b.tp).toList(),
        "a partial batch whose linger expired waits while its partition has a batch in flight");
    assertEquals(Long.MAX_VALUE, d.waitNanos(), "nothing to time: the answer in flight wakes the sender");
    for (int i = 3; i < 12; i++) {
      append(acc, TP, i, 10, t0 + 21 * MS);
    }
    d = acc.drain(t0 + 21 * MS);
    assertEquals(1, d.batches().size(), "a full batch is pipelined behind the one in flight");
    assertEquals(10, d.batches().get(0).count());
    assertEquals(2, acc.inFlight(TP));
    append(acc, TP, 12, 10, t0 + 22 * MS);
    acc.completed(first);
    assertTrue(acc.drain(t0 + 30 * MS).batches().isEmpty(), "the full batch is still in flight");
    acc.completed(d.batches().get(0));
    d = acc.drain(t0 + 30 * MS);
    assertEquals(1, d.batches().size(), "sent once nothing of its partition is in flight");
    assertEquals(1, d.batches().get(0).count());
  }

  @Test
  void bufferPoolBlocksUntilReleased() throws Exception {
    BufferPool pool = new BufferPool(100);
    assertTrue(pool.acquire(80, System.nanoTime() + MS));
    assertFalse(pool.acquire(30, System.nanoTime() + 20 * MS), "times out while full");
    CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
      try {
        return pool.acquire(30, System.nanoTime() + 5_000 * MS);
      } catch (InterruptedException e) {
        return false;
      }
    });
    Thread.sleep(50);
    assertFalse(waiter.isDone());
    pool.release(80);
    assertTrue(waiter.get(5, TimeUnit.SECONDS));
    assertFalse(pool.acquire(101, System.nanoTime() + MS), "larger than the pool");
  }

  /**
   * A record appended after the sender found nothing to drain, but before it started waiting, must not wait for the
   * wait's cap (1 s): the sender's wait is for changes after its drain (one-in-flight latency had 1 s outliers).
   */
  @Test
  void anAppendBetweenDrainAndWaitWakesTheSender() throws Exception {
    RecordAccumulator acc = new RecordAccumulator(1000, 0, 60_000, 5);
    RecordAccumulator.Drained d = acc.drain(System.nanoTime());
    assertTrue(d.batches().isEmpty());
    append(acc, TP, 0, 10, System.nanoTime()); // lands before the sender waits
    long t0 = System.nanoTime();
    acc.awaitChange(d, TimeUnit.SECONDS.toNanos(5));
    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(waitedMs < 500, "the sender slept " + waitedMs + " ms with a batch ready");
    assertEquals(1, acc.drain(System.nanoTime()).batches().size());
  }
}
