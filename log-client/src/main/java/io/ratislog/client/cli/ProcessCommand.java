package io.ratislog.client.cli;

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
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code logctl process --from IN --to OUT --group G --transactional-id ID}: read-process-write exactly once.
 * As a member of group G it reads IN (read_committed), writes each record to OUT (same key, the value with
 * {@code --prefix} in front), and commits the consumed offsets in the same transaction as the output. Killed at
 * any moment and restarted (with the same transactional id), it neither loses nor duplicates an output record:
 * the transaction that was open is aborted by the restarted process's session, and reading resumes at the
 * offsets the last committed transaction recorded.
 */
@Command(name = "process", mixinStandardHelpOptions = true,
    description = "Copy records from one topic to another exactly once (transactions with offset commits).")
final class ProcessCommand implements Callable<Integer> {
  @ParentCommand
  LogCtl root;
  @Mixin
  LogCtl.BootstrapOption bootstrap;
  @Option(names = "--from", required = true, paramLabel = "TOPIC", description = "Input topic.")
  String from;
  @Option(names = "--to", required = true, paramLabel = "TOPIC", description = "Output topic.")
  String to;
  @Option(names = "--group", required = true, paramLabel = "G", description = "Consumer group reading the input.")
  String group;
  @Option(names = "--transactional-id", required = true, paramLabel = "ID",
      description = "Keep it across restarts: a new process fences the old one and aborts its open transaction.")
  String transactionalId;
  @Option(names = "--prefix", defaultValue = "", description = "Put in front of each value written.")
  String prefix;
  @Option(names = "--max-records-per-txn", defaultValue = "100", paramLabel = "N")
  int maxPerTxn;
  @Option(names = "--timeout-ms", defaultValue = "5000", paramLabel = "T",
      description = "Stop after this long without input (default 5000; 0 = never).")
  long timeoutMs;
  @Option(names = "--sleep-per-record-ms", defaultValue = "0", paramLabel = "MS",
      description = "Pause per record, as slow processing would (for demos and tests).")
  long sleepPerRecordMs;

  @Override
  public Integer call() throws Exception {
    if (maxPerTxn <= 0 || timeoutMs < 0 || sleepPerRecordMs < 0) {
      throw new LogCtl.UsageException("--max-records-per-txn must be > 0, --timeout-ms and --sleep-per-record-ms >= 0");
    }
    String boot = root.bootstrap(bootstrap);
    GroupConsumerConfig cfg = GroupConsumerConfig.of(ConsumerConfig.builder(boot).maxWaitMs(200)
        .channelFactory(root.channels(bootstrap)).build(), group, List.of(from), DeliveryMode.EXACTLY_ONCE);
    long records = 0;
    long txns = 0;
    long aborted = 0;
    try (GroupConsumer in = new GroupConsumer(cfg);
         Producer out = new Producer(ProducerConfig.builder(boot).transactionalId(transactionalId)
             .channelFactory(root.channels(bootstrap)).lingerMs(2).build())) {
      out.initTransactions();
      long lastInput = System.nanoTime();
      List<ConsumerRecord> pending = new ArrayList<>();
      while (true) {
        if (pending.isEmpty()) {
          pending.addAll(in.poll(Duration.ofMillis(200)));
        }
        if (pending.isEmpty()) {
          if (timeoutMs > 0 && System.nanoTime() - lastInput > timeoutMs * 1_000_000) {
            break;
          }
          continue;
        }
        lastInput = System.nanoTime();
        List<ConsumerRecord> batch = new ArrayList<>(pending.subList(0, Math.min(maxPerTxn, pending.size())));
        try {
          out.beginTransaction();
          Map<TopicPartition, Long> next = new LinkedHashMap<>();
          List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
          for (ConsumerRecord r : batch) {
            byte[] value = (prefix + r.valueAsString()).getBytes(StandardCharsets.UTF_8);
            sent.add(out.send(new ProducerRecord(to, r.key(), value)));
            next.put(r.topicPartition(), r.offset() + 1);
            if (sleepPerRecordMs > 0) {
              Thread.sleep(sleepPerRecordMs);
            }
          }
          out.sendOffsetsToTransaction(next, in.groupMetadata());
          out.commitTransaction();
          pending.subList(0, batch.size()).clear();
          records += batch.size();
          txns++;
        } catch (RatislogException e) {
          if (e.code() == ErrorCode.PRODUCER_FENCED) {
            throw e;
          }
          root.err.println("transaction failed (" + e.codeName() + ": " + e.getMessage() + "); aborting and re-reading");
          root.err.flush();
          try {
            out.abortTransaction();
          } catch (RatislogException abortFailed) {
            if (abortFailed.code() == ErrorCode.PRODUCER_FENCED) {
              throw abortFailed;
            }
            out.initTransactions();
          }
          aborted++;
          pending.clear();
          in.rewindToCommitted();
        }
      }
    }
    root.err.println("processed " + records + " records in " + txns + " transactions (" + aborted + " aborted)");
    root.err.flush();
    return 0;
  }
}
