package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.history.Read;
import io.ratislog.client.AutoOffsetReset;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One reader process: assigns every partition, seeks to the beginning (a {@code seek} operation
 * carrying the resolved offsets) and polls until stopped, recording every record of every poll.
 * The consumer runs with autoOffsetReset NONE, so it never repositions itself silently: any poll
 * error is recorded ({@code info}), the consumer is replaced and the reader seeks to the beginning
 * again, which the history shows as a new {@code seek}.
 */
public final class PollReader implements Runnable {
  private final String process;
  private final String bootstrap;
  private final WorkloadConfig cfg;
  private final History history;
  private volatile boolean stopped;

  /**
   * Creates the reader process.
   *
   * @param number    its number ({@code reader-<number>})
   * @param bootstrap the cluster
   * @param cfg       workload settings
   * @param history   the history
   */
  public PollReader(int number, String bootstrap, WorkloadConfig cfg, History history) {
    this.process = "reader-" + number;
    this.bootstrap = bootstrap;
    this.cfg = cfg;
    this.history = history;
  }

  /** Asks {@link #run()} to return after the current poll. */
  public void stop() {
    stopped = true;
  }

  static Consumer newConsumer(String bootstrap, Duration requestTimeout) {
    return new Consumer(ConsumerConfig.builder(bootstrap).maxWaitMs(250)
        .requestTimeoutMs(requestTimeout.toMillis()).autoOffsetReset(AutoOffsetReset.NONE).build());
  }

  static List<Read> reads(List<ConsumerRecord> records) {
    List<Read> out = new ArrayList<>(records.size());
    for (ConsumerRecord r : records) {
      out.add(new Read(r.partition(), r.offset(), r.valueAsString()));
    }
    return out;
  }

  @Override
  public void run() {
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < cfg.partitions(); p++) {
      tps.add(new TopicPartition(cfg.topic(), p));
    }
    Consumer consumer = null;
    try {
      while (!stopped) {
        if (consumer == null) {
          consumer = newConsumer(bootstrap, cfg.requestTimeout());
          consumer.assign(tps);
          consumer.seekToBeginning(tps);
          long id = history.nextId();
          history.add(Op.of(process, OpKind.SEEK, Phase.INVOKE).id(id).value("beginning"));
          try {
            Map<Integer, Long> positions = new LinkedHashMap<>();
            for (TopicPartition tp : tps) {
              positions.put(tp.partition(), consumer.position(tp));
            }
            history.add(Op.of(process, OpKind.SEEK, Phase.OK).id(id).value("beginning").positions(positions));
          } catch (RuntimeException e) {
            history.add(Op.of(process, OpKind.SEEK, Phase.INFO).id(id).value("beginning")
                .error(SendOutcomes.describe(e)));
            consumer.close();
            consumer = null;
            Thread.sleep(500);
            continue;
          }
        }
        long id = history.nextId();
        history.add(Op.of(process, OpKind.POLL, Phase.INVOKE).id(id));
        try {
          List<ConsumerRecord> records = consumer.poll(Duration.ofMillis(500));
          history.add(Op.of(process, OpKind.POLL, Phase.OK).id(id).reads(reads(records)));
        } catch (RuntimeException e) {
          history.add(Op.of(process, OpKind.POLL, Phase.INFO).id(id).error(SendOutcomes.describe(e)));
          consumer.close();
          consumer = null;
          Thread.sleep(500);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (consumer != null) {
        consumer.close();
      }
    }
  }
}
