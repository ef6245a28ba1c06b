package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.history.Read;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The read of everything after healing: per partition, one {@code final-read} operation that looks
 * up the log end offset, reads from the beginning up to it, and completes {@code ok} with every
 * record and the end offset, or {@code info} with what it got when the bound expired.
 */
public final class FinalReader {
  /** The history's process name of the final read. */
  public static final String PROCESS = "final";

  private FinalReader() {}

  /**
   * Reads every partition.
   *
   * @param bootstrap the cluster
   * @param cfg       workload settings
   * @param history   the history
   * @param bound     time allowed per partition
   * @return true when every partition was read completely
   */
  public static boolean readAll(String bootstrap, WorkloadConfig cfg, History history, Duration bound) {
    boolean complete = true;
    for (int p = 0; p < cfg.partitions(); p++) {
      complete &= readPartition(bootstrap, cfg, history, p, bound);
    }
    return complete;
  }

  private static boolean readPartition(String bootstrap, WorkloadConfig cfg, History history, int p,
      Duration bound) {
    TopicPartition tp = new TopicPartition(cfg.topic(), p);
    long id = history.nextId();
    history.add(Op.of(PROCESS, OpKind.FINAL_READ, Phase.INVOKE).id(id).partition(p));
    long deadline = System.nanoTime() + bound.toNanos();
    List<Read> reads = new ArrayList<>();
    long end = -1;
    long start = -1;
    String lastError = null;
    Consumer consumer = null;
    try {
      while (System.nanoTime() - deadline < 0) {
        try {
          if (consumer == null) {
            consumer = PollReader.newConsumer(bootstrap, cfg.requestTimeout());
            consumer.assign(List.of(tp));
            reads.clear();
            consumer.seekToEnd(List.of(tp));
            end = consumer.position(tp);
            consumer.seekToBeginning(List.of(tp));
            start = consumer.position(tp);
          }
          if (consumer.position(tp) >= end) {
            history.add(Op.of(PROCESS, OpKind.FINAL_READ, Phase.OK).id(id).partition(p).offset(end)
                .positions(Map.of(p, start)).reads(reads));
            return true;
          }
          for (ConsumerRecord r : consumer.poll(Duration.ofMillis(500))) {
            reads.add(new Read(r.partition(), r.offset(), r.valueAsString()));
          }
        } catch (RuntimeException e) {
          lastError = SendOutcomes.describe(e);
          if (consumer != null) {
            consumer.close();
            consumer = null;
          }
          sleep(500);
        }
      }
    } finally {
      if (consumer != null) {
        consumer.close();
      }
    }
    history.add(Op.of(PROCESS, OpKind.FINAL_READ, Phase.INFO).id(id).partition(p).offset(end < 0 ? null : end)
        .reads(reads).error("incomplete after " + bound + (lastError == null ? "" : "; last error " + lastError)));
    return false;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
