package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.client.Partitioner;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One producer process: sends unique values {@code p<N>-<i>} at a steady rate, half of them to an
 * explicit random partition and half with a random key (the client's partitioner picks), with at
 * most {@code window} sends outstanding per partition: when the chosen partition's window is full
 * (its leader is down, say) another partition is chosen, so that one stalled partition does not
 * stall the producer and the history shows each partition's own availability. Every send is an invocation followed by exactly one
 * completion: {@code ok} with partition and offset, {@code fail} when the client proved it was not
 * written, {@code info} otherwise (including sends still open when the producer is closed).
 */
public final class AppendProducer implements Runnable {
  private final int number;
  private final String process;
  private final String bootstrap;
  private final WorkloadConfig cfg;
  private final History history;
  private final Random random;
  private final Semaphore[] windows;
  private volatile boolean stopped;

  /**
   * Creates the producer process.
   *
   * @param number    its number (values are {@code p<number>-<i>})
   * @param bootstrap the cluster
   * @param cfg       workload settings
   * @param history   the history
   * @param seed      random seed
   */
  public AppendProducer(int number, String bootstrap, WorkloadConfig cfg, History history, long seed) {
    this.number = number;
    this.process = "producer-" + number;
    this.bootstrap = bootstrap;
    this.cfg = cfg;
    this.history = history;
    this.random = new Random(seed);
    this.windows = new Semaphore[cfg.partitions()];
    for (int p = 0; p < windows.length; p++) {
      windows[p] = new Semaphore(cfg.window());
    }
  }

  /** Asks {@link #run()} to stop sending, wait for outstanding sends and return. */
  public void stop() {
    stopped = true;
  }

  @Override
  public void run() {
    Producer producer = ProducerFactory.create(bootstrap, cfg, number);
    try {
      long start = System.nanoTime();
      long periodNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, cfg.sendsPerSecond());
      for (int i = 0; i < cfg.maxSendsPerProducer() && !stopped; i++) {
        long due = start + i * periodNanos;
        long wait = due - System.nanoTime();
        if (wait < -TimeUnit.SECONDS.toNanos(1)) {
          start -= wait; // fell behind (stall): resume the steady rate instead of bursting to catch up
          wait = 0;
        }
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        if (!sendOne(producer, "p" + number + "-" + i)) {
          i--; // every partition's window is full: try the same value again
          Thread.sleep(50);
        }
      }
      // Outstanding sends complete within the delivery timeout (or are failed by close below).
      long deadline = System.nanoTime() + cfg.deliveryTimeout().plusSeconds(5).toNanos();
      for (Semaphore w : windows) {
        long left = Math.max(0, deadline - System.nanoTime());
        if (w.tryAcquire(cfg.window(), left, TimeUnit.NANOSECONDS)) {
          w.release(cfg.window());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      producer.close(Duration.ofSeconds(1));
    }
  }

  /** Sends one value to a partition with room in its window; false when there is none. */
  private boolean sendOne(Producer producer, String value) {
    boolean explicit = random.nextBoolean();
    Integer partition = null;
    String key = null;
    int target = -1;
    for (int attempt = 0; attempt < 2 * cfg.partitions() && target < 0; attempt++) {
      if (explicit) {
        partition = random.nextInt(cfg.partitions());
        target = partition;
      } else {
        key = "k" + random.nextInt(64);
        target = Partitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), cfg.partitions());
      }
      if (!windows[target].tryAcquire()) {
        target = -1;
      }
    }
    if (target < 0) {
      return false;
    }
    final Semaphore window = windows[target];
    final Integer chosen = partition;
    final String chosenKey = key;
    long id = history.nextId();
    history.add(Op.of(process, OpKind.SEND, Phase.INVOKE).id(id).partition(partition).key(key).value(value));
    ProducerRecord rec = new ProducerRecord(cfg.topic(), chosen,
        chosenKey == null ? null : chosenKey.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    producer.send(rec).whenComplete((md, err) -> {
      try {
        if (err == null) {
          history.add(Op.of(process, OpKind.SEND, Phase.OK).id(id).partition(md.partition()).key(chosenKey)
              .value(value).offset(md.offset()));
        } else {
          history.add(Op.of(process, OpKind.SEND, SendOutcomes.classify(err)).id(id).partition(chosen)
              .key(chosenKey).value(value).error(SendOutcomes.describe(err)));
        }
      } finally {
        window.release();
      }
    });
    return true;
  }
}
