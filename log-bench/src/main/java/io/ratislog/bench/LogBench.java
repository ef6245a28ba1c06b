package io.ratislog.bench;

import io.ratislog.client.Admin;
import io.ratislog.client.CompressionType;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The benchmark client. Each subcommand creates its own topic, runs one workload against a running cluster
 * and prints one result line of {@code key=value} pairs (parsed by {@code scripts/bench.sh}).
 *
 * <ul>
 *   <li>{@code produce}: unthrottled (or rate-limited) producer; records/s, MB/s, send→ack latency.</li>
 *   <li>{@code consume}: reads a topic the produce step filled; records/s, MB/s.</li>
 *   <li>{@code latency}: one record in flight; produce→ack and produce→consume (end-to-end) latency.</li>
 *   <li>{@code failover}: steady load while the partition leader is killed with SIGKILL, repeatedly
 *       ({@link Failover}).</li>
 *   <li>{@code scale}: many partitions: time to elect their leaders, idle CPU per node ({@link Scale}).</li>
 *   <li>{@code delivery-cost}: exactly-once against at-least-once in alternating slices ({@link DeliveryCost}).</li>
 *   <li>{@code codec}: batch compression ratio and one-core rates, no cluster ({@link CodecProbe}).</li>
 * </ul>
 */
@Command(name = "log-bench", mixinStandardHelpOptions = true, subcommands = {
    LogBench.Produce.class, LogBench.Consume.class, LogBench.Latency.class, Failover.class, Scale.class,
    RatisProbe.class, CodecProbe.class, DeliveryCost.class})
public final class LogBench {
  @Option(names = "--bootstrap", defaultValue = "127.0.0.1:9091", scope = CommandLine.ScopeType.INHERIT)
  String bootstrap;

  static String pct(Histogram h) {
    return String.format(Locale.ROOT, "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f",
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0);
  }

  /** The 26 cyclic payloads of each size asked for so far (the pattern repeats every 26 records). */
  private static final java.util.Map<Integer, byte[][]> CYCLIC = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Record {@code i}'s payload: 'a'..'z' repeated, starting at letter i mod 26. Shared arrays, made once per size,
   * as Kafka's ProducerPerformance sends one payload array for every record (building 1 KiB per record took ~15 %
   * of the client JVM's CPU in a 1 KiB run, on the cores the servers share). Never modify the returned array.
   */
  static byte[] payload(int size, long i) {
    return CYCLIC.computeIfAbsent(size, s -> {
      byte[][] all = new byte[26][s];
      for (int start = 0; start < 26; start++) {
        for (int k = 0; k < s; k++) {
          all[start][k] = (byte) ('a' + (start + k) % 26);
        }
      }
      return all;
    })[(int) Math.floorMod(i, 26L)];
  }

  /**
   * A record of {@code size} bytes that compresses as real event payloads do (3-8x): JSON-like order events with
   * field names repeating and numbers drawn from a hash of the record's index, cut to the size.
   */
  static byte[] eventPayload(int size, long i) {
    StringBuilder b = new StringBuilder(size + 160);
    long h = i * 0x9E3779B97F4A7C15L;
    for (int item = 0; b.length() < size; item++) {
      h ^= h >>> 29;
      h *= 0xBF58476D1CE4E5B9L;
      b.append("{\"order\":").append(i).append(",\"line\":").append(item).append(",\"customer\":\"c-")
          .append(Math.floorMod(h, 5_000)).append("\",\"sku\":\"sku-").append(Math.floorMod(h >>> 17, 800))
          .append("\",\"qty\":").append(1 + Math.floorMod(h >>> 31, 9)).append(",\"price\":")
          .append(Math.floorMod(h >>> 7, 100_000) / 100.0).append(",\"status\":\"CONFIRMED\"}");
    }
    byte[] out = new byte[size];
    System.arraycopy(b.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, out, 0, size);
    return out;
  }

  /** What the records of {@code produce} hold. */
  enum Payload { CYCLIC, EVENTS }

  @Command(name = "produce", description = "Producer throughput and send-to-ack latency.")
  static final class Produce implements java.util.concurrent.Callable<Integer> {
    @CommandLine.ParentCommand LogBench parent;
    @Option(names = "--topic", required = true) String topic;
    @Option(names = "--partitions", defaultValue = "1") int partitions;
    @Option(names = "--records", defaultValue = "1000000") long records;
    @Option(names = "--record-size", defaultValue = "100") int size;
    @CommandLine.Mixin ProducerOptions producer;
    @Option(names = "--delivery", defaultValue = "EXACTLY_ONCE") DeliveryMode delivery;
    @Option(names = "--compression", defaultValue = "NONE", description = "NONE, GZIP, LZ4 or ZSTD")
    CompressionType compression;
    @Option(names = "--payload", defaultValue = "CYCLIC", description = "CYCLIC (a-z repeated, compresses ~100x) or"
        + " EVENTS (JSON-like order events, compress 3-8x as real ones do)") Payload payload;
    @Option(names = "--rate", defaultValue = "0", description = "records/s, 0 = unthrottled") long rate;
    @Option(names = "--transactional-id", description = "send in transactions with this id") String transactionalId;
    @Option(names = "--transaction-ms", defaultValue = "100", description = "commit every this many ms (with --transactional-id)")
    long transactionMs;
    @Option(names = "--report-interval-ms", defaultValue = "5000",
        description = "print acknowledged records/s every this many ms, as Kafka's ProducerPerformance does; 0 = never")
    long reportIntervalMs;

    /** Event payloads made before the clock starts (generating them would cost more than sending them). */
    private byte[][] events;

    private byte[] record(long i) {
      return events != null ? events[(int) (i % events.length)] : payload(size, i);
    }

    @Override
    public Integer call() throws Exception {
      if (payload == Payload.EVENTS) {
        events = new byte[4096][];
        for (int k = 0; k < events.length; k++) {
          events[k] = eventPayload(size, k);
        }
      }
      try (Admin admin = Admin.create(parent.bootstrap)) {
        admin.createTopic(topic, partitions, 0);
      }
      Histogram h = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
      ProducerConfig cfg = producer.config(parent.bootstrap, delivery).transactionalId(transactionalId)
          .compression(compression).build();
      Semaphore window = new Semaphore(producer.outstanding);
      AtomicLong failed = new AtomicLong();
      long start;
      long end;
      boolean txn = transactionalId != null;
      long commits = 0;
      try (Producer p = new Producer(cfg)) {
        // Warm-up, one record per partition: metadata, every partition's leader elected (Kafka's tools run on
        // topics created beforehand), the session, JIT of the client path.
        if (txn) {
          p.beginTransaction();
        }
        List<CompletableFuture<RecordMetadata>> firsts = new ArrayList<>();
        for (int part = 0; part < partitions; part++) {
          firsts.add(p.send(new ProducerRecord(topic, part, null, record(0))));
        }
        for (CompletableFuture<RecordMetadata> f : firsts) {
          f.get(60, TimeUnit.SECONDS);
        }
        if (txn) {
          p.commitTransaction();
          p.beginTransaction();
        }
        start = System.nanoTime();
        ProgressWindow progress = new ProgressWindow(reportIntervalMs, size, System.out, start);
        long nextCommit = start + TimeUnit.MILLISECONDS.toNanos(transactionMs);
        for (long i = 0; i < records; i++) {
          if (rate > 0) {
            // Open loop: record i is due at start + i / rate (sleeping, not spinning: the client shares the cores).
            long due = start + i * 1_000_000_000L / rate;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
              LockSupport.parkNanos(wait);
            }
          }
          if (txn && System.nanoTime() >= nextCommit) {
            p.commitTransaction();
            commits++;
            p.beginTransaction();
            nextCommit = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(transactionMs);
          }
          window.acquire();
          long t0 = System.nanoTime();
          CompletableFuture<RecordMetadata> f = p.send(new ProducerRecord(topic, (int) (i % partitions), null, record(i)));
          f.whenComplete((m, e) -> {
            if (e != null) {
              failed.incrementAndGet();
            } else {
              long now = System.nanoTime();
              long us = (now - t0) / 1000;
              synchronized (h) {
                h.recordValue(Math.min(us, h.getHighestTrackableValue()));
                progress.record(us, now);
              }
            }
            window.release();
          });
        }
        if (txn) {
          p.commitTransaction();
          commits++;
        } else {
          p.flush();
        }
        end = System.nanoTime();
      }
      double secs = (end - start) / 1e9;
      String mode = txn ? "TRANSACTIONAL" : delivery.name();
      System.out.printf(Locale.ROOT, "RESULT kind=produce delivery=%s partitions=%d size=%d rate=%d records=%d failed=%d"
          + " rec_s=%.0f mb_s=%.2f %s%s%n", mode, partitions, size, rate, records, failed.get(), records / secs,
          records * (double) size / secs / 1e6, pct(h), txn ? " commits=" + commits : "");
      return failed.get() == 0 ? 0 : 1;
    }
  }

  @Command(name = "consume", description = "Consumer throughput over an existing topic.")
  static final class Consume implements java.util.concurrent.Callable<Integer> {
    @CommandLine.ParentCommand LogBench parent;
    @Option(names = "--topic", required = true) String topic;
    @Option(names = "--partitions", defaultValue = "1") int partitions;
    @Option(names = "--records", required = true) long records;

    @Override
    public Integer call() {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      long bytes = 0;
      long n = 0;
      long start = System.nanoTime();
      try (Consumer c = new Consumer(ConsumerConfig.builder(parent.bootstrap).maxBytesPerFetch(4 * 1024 * 1024).build())) {
        c.assign(tps);
        c.seekToBeginning(tps);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (n < records && System.nanoTime() < deadline) {
          for (ConsumerRecord r : c.poll(Duration.ofMillis(500))) {
            bytes += r.value().length;
            n++;
          }
        }
      }
      double secs = (System.nanoTime() - start) / 1e9;
      System.out.printf(Locale.ROOT, "RESULT kind=consume partitions=%d records=%d rec_s=%.0f mb_s=%.2f%n",
          partitions, n, n / secs, bytes / secs / 1e6);
      return n >= records ? 0 : 1;
    }
  }

  @Command(name = "latency", description = "One record in flight: produce-to-ack and end-to-end latency.")
  static final class Latency implements java.util.concurrent.Callable<Integer> {
    @CommandLine.ParentCommand LogBench parent;
    @Option(names = "--topic", required = true) String topic;
    @Option(names = "--records", defaultValue = "5000") int records;
    @Option(names = "--record-size", defaultValue = "100") int size;
    @Option(names = "--warmup", defaultValue = "0",
        description = "Records sent the same way first and not measured (JIT warm-up of the one-record path).")
    int warmup;

    @Override
    public Integer call() throws Exception {
      try (Admin admin = Admin.create(parent.bootstrap)) {
        admin.createTopic(topic, 1, 0);
      }
      Histogram ack = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);
      Histogram e2e = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);
      TopicPartition tp = new TopicPartition(topic, 0);
      try (Producer p = new Producer(ProducerConfig.builder(parent.bootstrap).lingerMs(0).build());
           Consumer c = new Consumer(ConsumerConfig.builder(parent.bootstrap).maxWaitMs(1000).build())) {
        c.assign(List.of(tp));
        p.send(new ProducerRecord(topic, 0, null, payload(size, 0))).get(60, TimeUnit.SECONDS);
        c.seekToEnd(List.of(tp));
        // Resolve the end now: a lazy seekToEnd resolved by the first poll would skip record 0 (sent before it).
        c.position(tp);
        for (int i = -warmup; i < records; i++) {
          long t0 = System.nanoTime();
          p.send(new ProducerRecord(topic, 0, null, payload(size, i))).get(30, TimeUnit.SECONDS);
          long acked = System.nanoTime();
          int got = 0;
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (got == 0 && System.nanoTime() < deadline) {
            got = c.poll(Duration.ofMillis(1000)).size();
          }
          if (got != 1) {
            System.err.printf(Locale.ROOT, "latency: record %d: %d records consumed (expected 1), position %d%n", i, got,
                c.position(tp));
          }
          if (i >= 0) {
            ack.recordValue((acked - t0) / 1000);
            e2e.recordValue((System.nanoTime() - t0) / 1000);
          }
        }
      }
      System.out.printf(Locale.ROOT, "RESULT kind=latency-ack records=%d %s%n", records, pct(ack));
      System.out.printf(Locale.ROOT, "RESULT kind=latency-e2e records=%d %s%n", records, pct(e2e));
      return 0;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new LogBench()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }
}
