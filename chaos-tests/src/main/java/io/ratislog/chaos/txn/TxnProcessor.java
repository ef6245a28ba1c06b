package io.ratislog.chaos.txn;

import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.GroupConsumer;
import io.ratislog.client.GroupConsumerConfig;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * One read-process-write processor of the transactional chaos workload: a group member reading the input
 * (read_committed) and a transactional producer writing {@code <input>|<tag>} for each input record, with the
 * consumed offsets, in one transaction per poll. It records each transaction's outcome as it knows it: COMMITTED
 * when commitTransaction returned, ABORTED when abortTransaction returned or when it abandoned the transaction
 * before asking to commit (a crash: only an abort can end it), UNKNOWN otherwise.
 */
public final class TxnProcessor implements AutoCloseable {
  private final String transactionalId;
  private final String output;
  private final Map<String, TxnChecker.Outcome> outcomes;
  private final GroupConsumer in;
  private final Producer out;
  private final int maxPerTransaction;
  private final List<ConsumerRecord> pending = new ArrayList<>();
  private int seq;
  private long committedRecords;

  /**
   * @param bootstrap       cluster
   * @param transactionalId this processor's transactional id (a successor with the same id fences it)
   * @param group           the consumer group
   * @param input           input topic
   * @param output          output topic
   * @param generation      distinguishes this incarnation's transaction tags from its predecessors'
   * @param maxPerTransaction at most this many input records per transaction
   * @param outcomes        where outcomes are recorded (shared, concurrent)
   */
  public TxnProcessor(String bootstrap, String transactionalId, String group, String input, String output, int generation,
                      int maxPerTransaction, Map<String, TxnChecker.Outcome> outcomes) {
    this.transactionalId = transactionalId;
    this.maxPerTransaction = maxPerTransaction;
    this.output = output;
    this.outcomes = outcomes;
    this.seq = generation * 1_000_000;
    this.in = new GroupConsumer(GroupConsumerConfig.of(ConsumerConfig.builder(bootstrap).maxWaitMs(200)
        .requestTimeoutMs(3_000).build(), group, List.of(input), DeliveryMode.EXACTLY_ONCE).withSession(6_000, 1_500));
    this.out = new Producer(ProducerConfig.builder(bootstrap).transactionalId(transactionalId).lingerMs(2)
        .requestTimeoutMs(3_000).deliveryTimeoutMs(30_000).transactionTimeoutMs(15_000).build());
    // Before reading: fences the predecessor and aborts the transaction it left open, whose held offset commits
    // would otherwise keep this member's FetchCommittedOffset UNSTABLE until the transaction timed out.
    this.out.initTransactions();
  }

  /**
   * Polls once and processes what came in one transaction.
   *
   * @param abandon asked after the sends: true makes this incarnation crash (abandon the open transaction)
   * @return false when the processor crashed (or was fenced) and must be replaced
   */
  public boolean step(BooleanSupplier abandon) {
    if (pending.isEmpty()) {
      try {
        pending.addAll(in.poll(Duration.ofMillis(200)));
      } catch (RatislogException e) {
        return e.code() != ErrorCode.PRODUCER_FENCED;
      }
    }
    if (pending.isEmpty()) {
      return true;
    }
    List<ConsumerRecord> batch = new ArrayList<>(pending.subList(0, Math.min(maxPerTransaction, pending.size())));
    String tag = transactionalId + "." + (++seq);
    boolean commitAsked = false;
    try {
      out.beginTransaction();
      Map<TopicPartition, Long> next = new LinkedHashMap<>();
      List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
      for (ConsumerRecord r : batch) {
        String v = TxnChecker.output(r.valueAsString(), tag);
        sent.add(out.send(new ProducerRecord(output, r.valueAsString().getBytes(StandardCharsets.UTF_8),
            v.getBytes(StandardCharsets.UTF_8))));
        next.put(r.topicPartition(), r.offset() + 1);
      }
      if (abandon.getAsBoolean()) {
        outcomes.put(tag, TxnChecker.Outcome.ABORTED);
        return false;
      }
      out.sendOffsetsToTransaction(next, in.groupMetadata());
      commitAsked = true;
      out.commitTransaction();
      outcomes.put(tag, TxnChecker.Outcome.COMMITTED);
      committedRecords += batch.size();
      pending.subList(0, batch.size()).clear();
      return true;
    } catch (RatislogException e) {
      outcomes.put(tag, commitAsked ? TxnChecker.Outcome.UNKNOWN : TxnChecker.Outcome.ABORTED);
      if (e.code() == ErrorCode.PRODUCER_FENCED) {
        return false;
      }
      try {
        out.abortTransaction();
        outcomes.put(tag, TxnChecker.Outcome.ABORTED);
      } catch (RatislogException abortFailed) {
        return false; // let a successor sort it out (its session aborts whatever is open)
      }
      pending.clear();
      in.rewindToCommitted();
      return true;
    }
  }

  public long committedRecords() {
    return committedRecords;
  }

  /** Stops like a crash: no commit, no abort, no leave (the successor fences the producer). */
  public void crash() {
    in.closeWithoutLeaving();
    out.close(Duration.ZERO);
  }

  @Override
  public void close() {
    try {
      in.close();
    } finally {
      out.close(Duration.ofSeconds(5));
    }
  }
}
