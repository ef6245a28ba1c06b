package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.GroupConsumer;
import io.ratislog.client.GroupConsumerConfig;
import io.ratislog.client.Producer;
import io.ratislog.client.RatislogException;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.GroupRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GroupConsumers against a real 3-node cluster: competing consumers, rebalances, crashes in each delivery mode. */
class ConsumerGroupIT {
  @TempDir Path dir;

  private static GroupConsumer member(MiniCluster c, String group, String topic, DeliveryMode mode, int sessionMs,
                                      int heartbeatMs) {
    ConsumerConfig cc = ConsumerConfig.builder(c.bootstrap()).maxWaitMs(200).build();
    return new GroupConsumer(GroupConsumerConfig.of(cc, group, List.of(topic), mode).withSession(sessionMs, heartbeatMs));
  }

  /** Polls every member in turn (at-least-once: committing after each poll) until {@code done} holds (bounded). */
  private static void pollUntil(List<GroupConsumer> members, Map<String, List<String>> seenBy, long timeoutMs,
                                Predicate<Void> done) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline && !done.test(null)) {
      for (GroupConsumer m : members) {
        for (ConsumerRecord r : m.poll(Duration.ofMillis(100))) {
          seenBy.computeIfAbsent(r.valueAsString(), k -> new ArrayList<>()).add(m.memberId());
        }
        try {
          m.commit();
        } catch (RatislogException e) {
          assertTrue(e.code() == ErrorCode.FENCED_GENERATION || e.code() == ErrorCode.UNKNOWN_MEMBER_ID, e.getMessage());
        }
      }
    }
  }

  private static boolean sameGenerationDisjointCover(List<GroupConsumer> members, int partitions) {
    long gen = members.get(0).generation();
    Set<TopicPartition> all = new HashSet<>();
    int total = 0;
    for (GroupConsumer m : members) {
      if (m.generation() != gen) {
        return false;
      }
      all.addAll(m.assignment());
      total += m.assignment().size();
    }
    return all.size() == partitions && total == partitions;
  }

  @Test
  void competingConsumersSharePartitionsAndALeavingMembersPartitionsMove() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll()) {
      try (Admin admin = admin(c)) {
        admin.createTopic("work", 6, 3);
      }
      List<GroupConsumer> members = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        members.add(member(c, "workers", "work", DeliveryMode.AT_LEAST_ONCE, 2_000, 300));
      }
      Map<String, List<String>> seenBy = new HashMap<>();
      try {
        pollUntil(members, seenBy, 20_000, v -> sameGenerationDisjointCover(members, 6));
        assertTrue(sameGenerationDisjointCover(members, 6), "each partition owned by exactly one member");
        for (GroupConsumer m : members) {
          assertEquals(2, m.assignment().size(), "6 partitions over 3 members");
        }
        try (Producer p = producer(c)) {
          produceAll(p, "work", "w", 600);
        }
        pollUntil(members, seenBy, 30_000, v -> seenBy.size() == 600);
        assertEquals(600, seenBy.size(), "every record consumed");
        seenBy.forEach((v, who) -> assertEquals(1, who.size(), v + " consumed once in a stable group: " + who));
        assertEquals(3, seenBy.values().stream().map(w -> w.get(0)).distinct().count(), "all three members worked");

        GroupConsumer leaving = members.remove(0);
        long before = members.get(0).generation();
        leaving.close();
        pollUntil(members, seenBy, 20_000, v -> members.get(0).generation() > before
            && sameGenerationDisjointCover(members, 6));
        assertTrue(sameGenerationDisjointCover(members, 6), "the leaver's partitions moved to the others");
        try (Producer p = producer(c)) {
          produceAll(p, "work", "x", 300);
        }
        pollUntil(members, seenBy, 30_000, v -> seenBy.size() == 900);
        assertEquals(900, seenBy.size());
      } finally {
        members.forEach(GroupConsumer::close);
      }
    }
  }

  @Test
  void crashInEachDeliveryMode() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll()) {
      try (Admin admin = admin(c)) {
        admin.createTopic("amo", 1, 3);
        admin.createTopic("alo", 1, 3);
      }
      try (Producer p = producer(c)) {
        produceAll(p, "amo", "m", 300);
        produceAll(p, "alo", "l", 300);
      }

      // At most once: the first member dies after poll returned (committed) and before processing.
      Map<String, Integer> delivered = new HashMap<>();
      GroupConsumer first = member(c, "g-amo", "amo", DeliveryMode.AT_MOST_ONCE, 1_500, 300);
      int processed = 0;
      List<ConsumerRecord> lost = List.of();
      for (int i = 0; i < 50 && processed < 100; i++) {
        List<ConsumerRecord> batch = first.poll(Duration.ofMillis(200));
        batch.forEach(r -> delivered.merge(r.valueAsString(), 1, Integer::sum));
        processed += batch.size();
        if (processed >= 100 && !batch.isEmpty()) {
          lost = batch; // killed before processing these
        }
      }
      assertFalse(lost.isEmpty());
      first.closeWithoutLeaving();
      GroupConsumer successor = member(c, "g-amo", "amo", DeliveryMode.AT_MOST_ONCE, 1_500, 300);
      long deadline = System.currentTimeMillis() + 20_000;
      while (delivered.size() < 300 && System.currentTimeMillis() < deadline) {
        successor.poll(Duration.ofMillis(200)).forEach(r -> delivered.merge(r.valueAsString(), 1, Integer::sum));
      }
      successor.close();
      assertEquals(300, delivered.size(), "the successor starts exactly after the last committed record");
      delivered.forEach((v, n) -> assertEquals(1, n, v + " delivered twice in at-most-once mode"));
      Set<String> lostValues = new HashSet<>();
      lost.forEach(r -> lostValues.add(r.valueAsString()));
      assertEquals(lost.size(), lostValues.size(), "lost by design: " + lost.size() + " records");

      // At least once: the first member processes a batch and dies before committing it.
      Map<String, Integer> processedCount = new HashMap<>();
      GroupConsumer a = member(c, "g-alo", "alo", DeliveryMode.AT_LEAST_ONCE, 1_500, 300);
      int done = 0;
      List<ConsumerRecord> uncommitted = List.of();
      for (int i = 0; i < 50 && done < 100; i++) {
        List<ConsumerRecord> batch = a.poll(Duration.ofMillis(200));
        batch.forEach(r -> processedCount.merge(r.valueAsString(), 1, Integer::sum));
        done += batch.size();
        if (done >= 100) {
          uncommitted = batch; // processed, not committed: killed now
        } else {
          a.commit();
        }
      }
      assertFalse(uncommitted.isEmpty());
      a.closeWithoutLeaving();
      GroupConsumer b = member(c, "g-alo", "alo", DeliveryMode.AT_LEAST_ONCE, 1_500, 300);
      deadline = System.currentTimeMillis() + 20_000;
      Set<String> redelivered = new HashSet<>();
      Set<String> uncommittedValues = new HashSet<>();
      uncommitted.forEach(r -> uncommittedValues.add(r.valueAsString()));
      while (processedCount.size() < 300 && System.currentTimeMillis() < deadline || redelivered.isEmpty()
          && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord r : b.poll(Duration.ofMillis(200))) {
          if (processedCount.containsKey(r.valueAsString())) {
            redelivered.add(r.valueAsString());
          }
          processedCount.merge(r.valueAsString(), 1, Integer::sum);
        }
        b.commit();
      }
      b.close();
      assertEquals(300, processedCount.size(), "at least once: every record processed");
      assertEquals(uncommittedValues, redelivered, "exactly the uncommitted batch was redelivered");
    }
  }

  @Test
  void aFencedCommitMakesTheConsumerRejoinAndNeverSucceedsSilently() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll()) {
      try (Admin admin = admin(c)) {
        admin.createTopic("z", 1, 3);
      }
      try (Producer p = producer(c)) {
        produceAll(p, "z", "z", 50);
      }
      // Slow heartbeats: the zombie does not learn of the new generation before it commits.
      GroupConsumer zombie = member(c, "gz", "z", DeliveryMode.AT_LEAST_ONCE, 20_000, 15_000);
      List<ConsumerRecord> got = new ArrayList<>();
      for (int i = 0; i < 50 && got.isEmpty(); i++) {
        got.addAll(zombie.poll(Duration.ofMillis(200)));
      }
      assertFalse(got.isEmpty());
      assertEquals(1, zombie.generation());
      GroupConsumer other = member(c, "gz", "z", DeliveryMode.AT_LEAST_ONCE, 20_000, 15_000);
      other.poll(Duration.ofMillis(10));
      assertEquals(2, other.generation());
      await("generation 2 everywhere", 10_000, () -> c.ids().stream().allMatch(id ->
          c.node(id).metadata().group("gz").map(GroupRecord::getGeneration).orElse(-1L) == 2));
      RatislogException e = assertThrows(RatislogException.class, zombie::commit);
      assertEquals(ErrorCode.FENCED_GENERATION, e.code(), e.getMessage());
      zombie.poll(Duration.ofMillis(10));
      assertEquals(2, zombie.generation(), "the fenced member re-synced to the current generation");
      other.close();
      zombie.close();
    }
  }

  /**
   * A member that joins while a crashed member still holds the partitions gets them once the crashed one
   * expires, within a single long poll: poll must act on the rebalance, not sleep through its whole timeout.
   */
  @Test
  void aSinglePollPicksUpPartitionsFreedByAnExpiredMember() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new java.util.Properties()).startAll();
         io.ratislog.client.Admin admin = ClusterTestSupport.admin(c);
         io.ratislog.client.Producer producer = ClusterTestSupport.producer(c)) {
      admin.createTopic("freed", 1, 3);
      ClusterTestSupport.produceAll(producer, "freed", "f", 50);
      GroupConsumer crashed = member(c, "gf", "freed", DeliveryMode.AT_LEAST_ONCE, 1500, 300);
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (crashed.assignment().isEmpty() && System.nanoTime() < until) {
        crashed.poll(java.time.Duration.ofMillis(200));
      }
      crashed.closeWithoutLeaving();
      try (GroupConsumer successor = member(c, "gf", "freed", DeliveryMode.AT_LEAST_ONCE, 1500, 300)) {
        long start = System.nanoTime();
        List<io.ratislog.client.ConsumerRecord> got = successor.poll(java.time.Duration.ofSeconds(30));
        long tookMs = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        org.junit.jupiter.api.Assertions.assertFalse(got.isEmpty(), "the freed partition's records arrive in the same poll");
        org.junit.jupiter.api.Assertions.assertTrue(tookMs < 15_000, "took " + tookMs + " ms (session 1.5 s)");
      }
    }
  }

  /** Push mode: the same competing-consumer guarantees, with the leaders streaming to the members. */
  @Test
  void pushModeMembersShareThePartitionsAndMissNothing() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new java.util.Properties()).startAll();
         io.ratislog.client.Admin admin = ClusterTestSupport.admin(c);
         io.ratislog.client.Producer producer = ClusterTestSupport.producer(c)) {
      admin.createTopic("pushed", 4, 3);
      ClusterTestSupport.produceAll(producer, "pushed", "v", 400);
      ConsumerConfig cc = ConsumerConfig.builder(c.bootstrap()).maxWaitMs(200).build();
      List<GroupConsumer> members = new java.util.ArrayList<>();
      for (int i = 0; i < 2; i++) {
        members.add(new GroupConsumer(GroupConsumerConfig.of(cc, "gp", List.of("pushed"), DeliveryMode.AT_LEAST_ONCE)
            .withSession(3000, 500).withPush(50)));
      }
      try {
        Map<String, List<String>> seenBy = new java.util.HashMap<>();
        pollUntil(members, seenBy, 60_000, v -> seenBy.size() >= 400);
        java.util.Set<String> seen = seenBy.keySet();
        org.junit.jupiter.api.Assertions.assertEquals(400, seen.size(), "every record reached some member");
        org.junit.jupiter.api.Assertions.assertTrue(members.stream().allMatch(m -> !m.assignment().isEmpty()),
            "both members own partitions");
      } finally {
        members.forEach(GroupConsumer::close);
      }
    }
  }
}
