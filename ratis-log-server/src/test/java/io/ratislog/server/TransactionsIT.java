package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.admin;
import static io.ratislog.server.ClusterTestSupport.await;
import static io.ratislog.server.ClusterTestSupport.leaderOf;
import static io.ratislog.server.ClusterTestSupport.metadataLeader;
import static io.ratislog.server.ClusterTestSupport.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.GroupAdmin;
import io.ratislog.client.GroupConsumer;
import io.ratislog.client.GroupConsumerConfig;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RetryPolicy;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.IsolationLevel;
import io.ratislog.server.partition.PartitionStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions on a 3-node in-JVM cluster: atomic multi-partition commits, aborted records never visible to
 * read_committed readers, the last stable offset, zombie fencing, offsets committed with the transaction,
 * coordinator timeouts, and coordinator or participant leaders killed during the commit, and every node
 * restarted while a transaction is open.
 */
class TransactionsIT {
  @TempDir Path dir;

  private static MiniCluster cluster(Path dir) throws Exception {
    return new MiniCluster(dir, 3, new Properties()).startAll();
  }

  private static Producer txnProducer(MiniCluster c, String id, int timeoutMs) {
    return new Producer(ProducerConfig.builder(c.bootstrap()).transactionalId(id).transactionTimeoutMs(timeoutMs)
        .lingerMs(1).requestTimeoutMs(3_000).deliveryTimeoutMs(60_000).build());
  }

  private static CompletableFuture<?> send(Producer p, String topic, int partition, String value) {
    return p.send(new ProducerRecord(topic, partition, null, value.getBytes(StandardCharsets.UTF_8)));
  }

  /** Sends {@code count} values prefix-i round-robin over the partitions, inside the open transaction. */
  private static void sendAll(Producer p, String topic, int partitions, String prefix, int count) throws Exception {
    List<CompletableFuture<?>> fs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      fs.add(send(p, topic, i % partitions, prefix + "-" + i));
    }
    for (CompletableFuture<?> f : fs) {
      f.get(60, TimeUnit.SECONDS);
    }
  }

  /** Everything a reader at {@code isolation} sees from the beginning until nothing new came for {@code idleMs}. */
  private static List<ConsumerRecord> read(MiniCluster c, String topic, int partitions, IsolationLevel isolation,
                                           long idleMs) {
    try (Consumer consumer = new Consumer(ConsumerConfig.builder(c.bootstrap()).maxWaitMs(100)
        .isolationLevel(isolation).build())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      List<ConsumerRecord> out = new ArrayList<>();
      long lastNew = System.nanoTime();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() - lastNew < TimeUnit.MILLISECONDS.toNanos(idleMs) && System.nanoTime() < deadline) {
        List<ConsumerRecord> got = consumer.poll(Duration.ofMillis(100));
        if (!got.isEmpty()) {
          out.addAll(got);
          lastNew = System.nanoTime();
        }
      }
      return out;
    }
  }

  private static Set<String> values(List<ConsumerRecord> read) {
    return read.stream().map(ConsumerRecord::valueAsString).collect(Collectors.toSet());
  }

  private static long countWithPrefix(List<ConsumerRecord> read, String prefix) {
    return read.stream().filter(r -> r.valueAsString().startsWith(prefix + "-")).count();
  }

  private static void assertNoDuplicates(List<ConsumerRecord> read) {
    assertEquals(read.size(), values(read).size(), "a value was read twice");
  }

  /** Waits until no partition of the topic has a transaction open on its leader. */
  private static void awaitNoOpenTransactions(MiniCluster c, String topic, int partitions) throws InterruptedException {
    await("no open transaction on " + topic, 60_000, () -> {
      for (int p = 0; p < partitions; p++) {
        int leader = leaderOf(c, topic, p);
        PartitionStateMachine sm = leader < 0 ? null : replica(c, leader, topic, p);
        if (sm == null || !sm.isServing() || sm.openTransactions() > 0 || sm.lastStableOffset() != sm.logEndOffset()) {
          return false;
        }
      }
      return true;
    });
  }

  @Test
  void commitsAreAtomicAcrossPartitionsAndAbortedRecordsAreNeverReadCommitted() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("out", 3, 3);
      }
      try (Producer tx = txnProducer(c, "writer-1", 60_000);
           Producer plain = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(1).build())) {
        tx.beginTransaction();
        sendAll(tx, "out", 3, "c1", 30);
        sendAll(plain, "out", 3, "plain1", 6);
        tx.commitTransaction();

        tx.beginTransaction();
        sendAll(tx, "out", 3, "a1", 30);
        sendAll(plain, "out", 3, "plain2", 6);
        tx.abortTransaction();

        // An open transaction holds back read_committed readers at its first offset, also past records
        // written after it outside any transaction.
        tx.beginTransaction();
        sendAll(tx, "out", 3, "c2", 30);
        sendAll(plain, "out", 3, "plain3", 6);
        List<ConsumerRecord> whileOpen = read(c, "out", 3, IsolationLevel.READ_COMMITTED, 1_000);
        assertEquals(0, countWithPrefix(whileOpen, "c2"), "records of the open transaction were visible");
        assertEquals(0, countWithPrefix(whileOpen, "plain3"), "records above the last stable offset were visible");
        assertEquals(30, countWithPrefix(whileOpen, "c1"));
        tx.commitTransaction();
      }
      awaitNoOpenTransactions(c, "out", 3);
      List<ConsumerRecord> committed = read(c, "out", 3, IsolationLevel.READ_COMMITTED, 1_000);
      assertNoDuplicates(committed);
      assertEquals(30, countWithPrefix(committed, "c1"));
      assertEquals(30, countWithPrefix(committed, "c2"));
      assertEquals(0, countWithPrefix(committed, "a1"), "an aborted record was read_committed");
      assertEquals(18, countWithPrefix(committed, "plain1") + countWithPrefix(committed, "plain2")
          + countWithPrefix(committed, "plain3"));
      List<ConsumerRecord> all = read(c, "out", 3, IsolationLevel.READ_UNCOMMITTED, 1_000);
      assertEquals(30 * 3 + 18, all.size(), "read_uncommitted sees the aborted records too");
    }
  }

  @Test
  void aNewSessionFencesTheZombieAndAbortsItsOpenTransaction() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("out", 2, 3);
      }
      try (Producer zombie = txnProducer(c, "app", 60_000)) {
        zombie.beginTransaction();
        sendAll(zombie, "out", 2, "zombie", 20);
        try (Producer successor = txnProducer(c, "app", 60_000)) {
          successor.initTransactions();
          RatislogException e = assertThrows(RatislogException.class, zombie::commitTransaction);
          assertEquals(ErrorCode.PRODUCER_FENCED, e.code(), e.getMessage());
          RatislogException late = assertThrows(RatislogException.class, zombie::beginTransaction);
          assertEquals(ErrorCode.PRODUCER_FENCED, late.code(), late.getMessage());
          successor.beginTransaction();
          sendAll(successor, "out", 2, "successor", 20);
          successor.commitTransaction();
        }
      }
      awaitNoOpenTransactions(c, "out", 2);
      List<ConsumerRecord> read = read(c, "out", 2, IsolationLevel.READ_COMMITTED, 1_000);
      assertEquals(0, countWithPrefix(read, "zombie"), "the fenced producer's open transaction was not aborted");
      assertEquals(20, countWithPrefix(read, "successor"));
    }
  }

  @Test
  void consumedOffsetsAreCommittedWithTheTransactionOnly() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("in", 1, 3);
        admin.createTopic("out", 1, 3);
      }
      try (Producer plain = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(1).build())) {
        sendAll(plain, "in", 1, "in", 20);
      }
      GroupConsumerConfig cfg = GroupConsumerConfig.of(ConsumerConfig.builder(c.bootstrap()).maxWaitMs(100).build(),
          "processor", List.of("in"), DeliveryMode.EXACTLY_ONCE);
      try (GroupConsumer in = new GroupConsumer(cfg); Producer tx = txnProducer(c, "processor-0", 60_000);
           GroupAdmin groups = new GroupAdmin(c.bootstrap(), 20_000, io.ratislog.client.ChannelFactory.plaintext())) {
        List<ConsumerRecord> batch = pollAtLeast(in, 20);
        assertThrows(RatislogException.class, in::commit, "EXACTLY_ONCE consumers commit through transactions only");

        tx.beginTransaction();
        Map<TopicPartition, Long> next = process(tx, batch);
        tx.sendOffsetsToTransaction(next, in.groupMetadata());
        tx.abortTransaction();
        assertEquals(-1, committed(groups), "an aborted transaction's offsets were committed");

        in.rewindToCommitted();
        batch = pollAtLeast(in, 20);
        tx.beginTransaction();
        next = process(tx, batch);
        tx.sendOffsetsToTransaction(next, in.groupMetadata());
        tx.commitTransaction();
        assertEquals(20, committed(groups), "the committed transaction's offsets");
      }
      List<ConsumerRecord> out = read(c, "out", 1, IsolationLevel.READ_COMMITTED, 1_000);
      assertEquals(20, out.size(), "each input record is in the output once");
      assertNoDuplicates(out);
    }
  }

  private static List<ConsumerRecord> pollAtLeast(GroupConsumer in, int n) {
    List<ConsumerRecord> got = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (got.size() < n && System.nanoTime() < deadline) {
      got.addAll(in.poll(Duration.ofMillis(200)));
    }
    assertEquals(n, got.size(), "records polled");
    return got;
  }

  private static Map<TopicPartition, Long> process(Producer tx, List<ConsumerRecord> batch) throws Exception {
    Map<TopicPartition, Long> next = new LinkedHashMap<>();
    List<CompletableFuture<?>> fs = new ArrayList<>();
    for (ConsumerRecord r : batch) {
      fs.add(send(tx, "out", 0, "out-" + r.valueAsString()));
      next.put(r.topicPartition(), r.offset() + 1);
    }
    for (CompletableFuture<?> f : fs) {
      f.get(60, TimeUnit.SECONDS);
    }
    return next;
  }

  private static long committed(GroupAdmin groups) {
    return groups.describeGroup("processor").partitions().stream().filter(p -> p.topic().equals("in"))
        .mapToLong(GroupAdmin.PartitionOffsets::committed).findFirst().orElse(-1);
  }

  @Test
  void theCoordinatorAbortsATransactionThatOutlivesItsTimeout() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("out", 1, 3);
      }
      try (Producer tx = txnProducer(c, "slow", 1_000)) {
        tx.beginTransaction();
        try {
          sendAll(tx, "out", 1, "late", 5);
        } catch (java.util.concurrent.ExecutionException e) {
          // A slow machine: the coordinator aborted before the batch was written, and the partition refused it.
          assertEquals(ErrorCode.TRANSACTION_ABORTED, ((RatislogException) e.getCause()).code(), e.getMessage());
        }
        await("the coordinator aborts the transaction", 30_000, () -> c.node(c.ids().get(0)).metadata()
            .transaction("slow").map(t -> t.getState() == io.ratislog.server.entries.TxnState.TXN_COMPLETE_ABORT)
            .orElse(false));
        awaitNoOpenTransactions(c, "out", 1);
        RatislogException e = assertThrows(RatislogException.class, tx::commitTransaction);
        assertEquals(ErrorCode.TRANSACTION_ABORTED, e.code(), e.getMessage());
        tx.abortTransaction();
        tx.beginTransaction();
        sendAll(tx, "out", 1, "next", 5);
        tx.commitTransaction();
      }
      List<ConsumerRecord> read = read(c, "out", 1, IsolationLevel.READ_COMMITTED, 1_000);
      assertEquals(0, countWithPrefix(read, "late"), "a timed-out transaction's records were visible");
      assertEquals(5, countWithPrefix(read, "next"));
    }
  }

  @Test
  void coordinatorAndParticipantLeadersKilledDuringCommitLeaveEachTransactionWholeOrAbsent() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("out", 3, 3);
      }
      Map<String, Boolean> outcome = new HashMap<>();
      try (Producer tx = txnProducer(c, "killed", 60_000)) {
        for (int round = 0; round < 4; round++) {
          String prefix = "r" + round;
          tx.beginTransaction();
          sendAll(tx, "out", 3, prefix, 30);
          int victim = round % 2 == 0 ? metadataLeader(c) : leaderOf(c, "out", round % 3);
          CompletableFuture<Void> commit = CompletableFuture.runAsync(tx::commitTransaction);
          c.stop(victim);
          boolean ok;
          try {
            commit.get(90, TimeUnit.SECONDS);
            ok = true;
          } catch (java.util.concurrent.ExecutionException e) {
            // A commit that ended without an answer may have been decided: only retrying it is accepted, and a
            // retry answers with the decision. A definite refusal leaves the transaction to abort.
            ok = RetryPolicy.isRetriable(e.getCause()) ? retryCommit(tx, e.getCause()) : false;
            if (!ok) {
              tx.abortTransaction();
            }
          }
          outcome.put(prefix, ok);
          c.start(victim);
        }
      }
      awaitNoOpenTransactions(c, "out", 3);
      List<ConsumerRecord> read = read(c, "out", 3, IsolationLevel.READ_COMMITTED, 1_500);
      assertNoDuplicates(read);
      outcome.forEach((prefix, ok) -> {
        long n = countWithPrefix(read, prefix);
        assertTrue(n == 0 || n == 30, prefix + ": a partial transaction is visible (" + n + " of 30 records)");
        if (ok) {
          assertEquals(30, n, prefix + " was committed but is not visible");
        }
      });
      assertTrue(outcome.containsValue(true), "no transaction committed at all: " + outcome);
    }
  }

  /** Retries a commit that ended without an answer (a few times, while leaders move); false if it was refused. */
  private static boolean retryCommit(Producer tx, Throwable first) {
    Throwable last = first;
    for (int attempt = 0; attempt < 3 && RetryPolicy.isRetriable(last); attempt++) {
      try {
        tx.commitTransaction();
        return true;
      } catch (RatislogException e) {
        last = e;
      }
    }
    if (RetryPolicy.isRetriable(last)) {
      throw new AssertionError("commit still unanswered after 3 retries", last);
    }
    return false;
  }

  /** Repeats {@code call} while it fails with a retriable error, for at most 60 s. */
  private static void untilAnswered(Runnable call) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        call.run();
        return;
      } catch (RatislogException e) {
        if (!RetryPolicy.isRetriable(e) || System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  @Test
  void aCommitThatEndedWithoutAnAnswerMustBeRetriedNotAborted() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("out", 1, 3);
      }
      try (Producer tx = new Producer(ProducerConfig.builder(c.bootstrap()).transactionalId("unanswered")
          .lingerMs(1).requestTimeoutMs(1_000).deliveryTimeoutMs(3_000).build())) {
        tx.beginTransaction();
        sendAll(tx, "out", 1, "pending", 5);
        List<Integer> stopped = new ArrayList<>(c.ids().subList(1, 3));
        for (int id : stopped) {
          c.stop(id);
        }
        // Two of three nodes down: the metadata group has no quorum, so the decision cannot have been recorded,
        // but the client cannot know that.
        RatislogException unanswered = assertThrows(RatislogException.class, tx::commitTransaction);
        assertTrue(RetryPolicy.isRetriable(unanswered), unanswered.codeName() + ": " + unanswered.getMessage());
        RatislogException abort = assertThrows(RatislogException.class, tx::abortTransaction);
        assertEquals(ErrorCode.INVALID_TXN_STATE, abort.code(), abort.getMessage());
        assertTrue(abort.getMessage().contains("call commitTransaction again"), abort.getMessage());
        for (int id : stopped) {
          c.start(id);
        }
        untilAnswered(tx::commitTransaction);
        tx.beginTransaction();
        sendAll(tx, "out", 1, "next", 5);
        tx.commitTransaction();

        // Giving up instead: initTransactions starts over. The transaction ends whole or not at all: the node that
        // took the commit may still have got it recorded once its peers were back.
        tx.beginTransaction();
        sendAll(tx, "out", 1, "dropped", 5);
        for (int id : stopped) {
          c.stop(id);
        }
        assertThrows(RatislogException.class, tx::commitTransaction);
        for (int id : stopped) {
          c.start(id);
        }
        // The restarted coordinator may still be completing that commit: the short delivery timeout ends a call
        // before it does, and the caller retries, as with the commit above.
        untilAnswered(tx::initTransactions);
        tx.beginTransaction();
        sendAll(tx, "out", 1, "last", 5);
        tx.commitTransaction();
      }
      awaitNoOpenTransactions(c, "out", 1);
      List<ConsumerRecord> read = read(c, "out", 1, IsolationLevel.READ_COMMITTED, 1_000);
      assertEquals(5, countWithPrefix(read, "pending"));
      assertEquals(5, countWithPrefix(read, "next"));
      long dropped = countWithPrefix(read, "dropped");
      assertTrue(dropped == 0 || dropped == 5, "a partial transaction is visible: " + dropped + " of 5");
      assertEquals(5, countWithPrefix(read, "last"));
    }
  }

  @Test
  void everyNodeRestartedWithTransactionsOpen() throws Exception {
    try (MiniCluster c = cluster(dir)) {
      try (Admin admin = admin(c)) {
        admin.createTopic("out", 2, 3);
      }
      try (Producer tx = txnProducer(c, "survivor", 120_000)) {
        tx.beginTransaction();
        sendAll(tx, "out", 2, "kept", 20);
        restartAll(c);
        tx.commitTransaction();
      }
      try (Producer abandoned = txnProducer(c, "abandoned", 120_000)) {
        abandoned.beginTransaction();
        sendAll(abandoned, "out", 2, "dropped", 20);
      }
      restartAll(c);
      try (Producer successor = txnProducer(c, "abandoned", 120_000)) {
        successor.initTransactions();
      }
      awaitNoOpenTransactions(c, "out", 2);
      List<ConsumerRecord> read = read(c, "out", 2, IsolationLevel.READ_COMMITTED, 1_000);
      assertEquals(20, countWithPrefix(read, "kept"));
      assertEquals(0, countWithPrefix(read, "dropped"), "the abandoned transaction survived its successor");
      assertNoDuplicates(read);
    }
  }

  private static void restartAll(MiniCluster c) throws Exception {
    for (int id : c.ids()) {
      c.stop(id);
    }
    for (int id : c.ids()) {
      c.start(id);
    }
  }
}
