package io.ratislog.bench;

import io.ratislog.client.Admin;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerRecord;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What exactly-once costs against at-least-once, measured so that the machine's drift cancels out.
 *
 * <p>On these 2-core VMs one produce run can differ from the next by 20 % whatever its mode: the machine speeds up
 * over the first minute of load and slows again when the host takes memory back. Whole runs one after the other
 * therefore cannot resolve a 5 % difference. This command keeps one producer of each mode open on the same
 * 1-partition topic (so the same leader, Raft log and disk serve both) and sends in short slices, each drained
 * before the next: blocks of four slices, exactly-once, at-least-once, at-least-once, exactly-once, then the mirror
 * image in the next block ({@link AlternatingSlices}), after an unmeasured slice of each mode (a fresh client JVM
 * compiles each producer's path during its first slice). Each block gives one cost; the result reports their median
 * as well as the cost over all slices.
 */
@Command(name = "delivery-cost", description = "Exactly-once against at-least-once throughput, in alternating slices.")
final class DeliveryCost implements Callable<Integer> {
  @CommandLine.ParentCommand LogBench parent;
  @Option(names = "--topic", required = true) String topic;
  @Option(names = "--blocks", defaultValue = "5", description = "blocks of four slices (two per mode)") int blocks;
  @Option(names = "--slice-records", defaultValue = "500000") long sliceRecords;
  @Option(names = "--warmup-slices", defaultValue = "1",
      description = "unmeasured slices of each mode first (the client's JIT compiles each producer's path)")
  int warmupSlices;
  @Option(names = "--record-size", defaultValue = "100") int size;
  @CommandLine.Mixin ProducerOptions producer;

  @Override
  public Integer call() throws Exception {
    if (blocks < 1 || sliceRecords < 1 || warmupSlices < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--blocks and --slice-records must be >= 1, --warmup-slices >= 0");
    }
    try (Admin admin = Admin.create(parent.bootstrap)) {
      admin.createTopic(topic, 1, 0);
    }
    AtomicLong failed = new AtomicLong();
    AlternatingSlices slices = new AlternatingSlices();
    try (Producer eo = new Producer(producer.config(parent.bootstrap, DeliveryMode.EXACTLY_ONCE).build());
         Producer alo = new Producer(producer.config(parent.bootstrap, DeliveryMode.AT_LEAST_ONCE).build())) {
      Producer[] producers = new Producer[2];
      producers[AlternatingSlices.A] = eo;
      producers[AlternatingSlices.B] = alo;
      // one record each first: metadata, the partition's leader, the exactly-once session
      eo.send(new ProducerRecord(topic, 0, null, LogBench.payload(size, 0))).get(60, TimeUnit.SECONDS);
      alo.send(new ProducerRecord(topic, 0, null, LogBench.payload(size, 0))).get(60, TimeUnit.SECONDS);
      long sent = 1;
      for (int w = 0; w < warmupSlices; w++) {
        for (Producer p : producers) {
          slice(p, sent, failed);
          sent += sliceRecords;
        }
      }
      for (int b = 0; b < blocks; b++) {
        for (int mode : AlternatingSlices.order(b)) {
          long ns = slice(producers[mode], sent, failed);
          sent += sliceRecords;
          slices.record(b, mode, sliceRecords, ns);
          System.out.printf(Locale.ROOT, "slice block=%d delivery=%s rec_s=%.0f%n", b + 1,
              mode == AlternatingSlices.A ? "EXACTLY_ONCE" : "AT_LEAST_ONCE", sliceRecords / (ns / 1e9));
        }
      }
    }
    System.out.printf(Locale.ROOT, "RESULT kind=delivery-cost blocks=%d slice_records=%d size=%d failed=%d"
            + " warmup_slices=%d eo_rec_s=%.0f alo_rec_s=%.0f cost_pct=%.1f median_block_cost_pct=%.1f"
            + " block_costs_pct=%s%n",
        blocks, sliceRecords, size, failed.get(), warmupSlices, slices.rate(AlternatingSlices.A),
        slices.rate(AlternatingSlices.B), slices.totalCost(), slices.medianBlockCost(), slices.blockCosts().stream()
            .map(c -> String.format(Locale.ROOT, "%.1f", c)).collect(Collectors.joining(",")));
    return failed.get() == 0 ? 0 : 1;
  }

  /** Sends one slice and waits until every record of it is acknowledged; returns the nanoseconds that took. */
  private long slice(Producer p, long firstIndex, AtomicLong failed) throws InterruptedException {
    Semaphore window = new Semaphore(producer.outstanding);
    long start = System.nanoTime();
    for (long i = 0; i < sliceRecords; i++) {
      window.acquire();
      p.send(new ProducerRecord(topic, 0, null, LogBench.payload(size, firstIndex + i))).whenComplete((m, e) -> {
        if (e != null) {
          failed.incrementAndGet();
        }
        window.release();
      });
    }
    p.flush();
    return System.nanoTime() - start;
  }
}
