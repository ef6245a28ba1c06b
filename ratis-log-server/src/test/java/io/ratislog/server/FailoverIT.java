package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordMetadata;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ListOffsetsRequest;
import io.ratislog.proto.ListOffsetsResponse;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.OffsetSpec;
import io.ratislog.proto.ProduceResponse;
import io.ratislog.server.storage.StoredBatch;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leader loss, full restarts: no acknowledged record is ever lost. */
class FailoverIT {
  private static final String APPENDER_WAIT = "raft.server.log.appender.wait-time.min";
  @TempDir Path dir;

  @Test
  void leaderKilledUnderLoadLosesNoAcknowledgedRecord() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = producer(c)) {
      admin.createTopic("pay", 1, 3);
      Map<String, RecordMetadata> acked = new ConcurrentHashMap<>(produceAll(producer, "pay", "before", 500));

      // Keep producing while the leader dies: sends in flight at the kill may fail or be retried.
      AtomicBoolean stop = new AtomicBoolean();
      Map<String, CompletableFuture<RecordMetadata>> during = new ConcurrentHashMap<>();
      Thread load = new Thread(() -> {
        for (int i = 0; i < 100_000 && !stop.get(); i++) {
          String v = "during-" + i;
          during.put(v, producer.send(new ProducerRecord("pay", 0, null, v.getBytes(StandardCharsets.UTF_8))));
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      load.start();
      Thread.sleep(500);
      int oldLeader = leaderOf(c, "pay", 0);
      assertTrue(oldLeader > 0);
      c.stop(oldLeader);
      await("a new leader", 10_000, () -> leaderOf(c, "pay", 0) > 0);
      assertNotEquals(oldLeader, leaderOf(c, "pay", 0));
      Thread.sleep(1_000);
      stop.set(true);
      load.join(10_000);
      for (Map.Entry<String, CompletableFuture<RecordMetadata>> e : during.entrySet()) {
        try {
          acked.put(e.getKey(), e.getValue().get(90, TimeUnit.SECONDS));
        } catch (Exception failed) {
          // not acknowledged: the log may or may not hold it, and either is correct
        }
      }
      acked.putAll(produceAll(producer, "pay", "after", 500));
      assertTrue(acked.size() >= 1000);

      List<ConsumerRecord> read = readAll(c, "pay", 1, acked.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);

      // The old leader comes back and catches up to the same bytes.
      c.start(oldLeader);
      int leader = leaderOf(c, "pay", 0);
      await("the restarted node catches up", 30_000, () -> replica(c, oldLeader, "pay", 0) != null
          && replica(c, oldLeader, "pay", 0).logEndOffset() == replica(c, leaderOf(c, "pay", 0), "pay", 0).logEndOffset());
      List<StoredBatch> reference = allBatches(replica(c, leaderOf(c, "pay", 0), "pay", 0));
      assertEquals(reference, allBatches(replica(c, oldLeader, "pay", 0)));
      assertTrue(leader > 0);
    }
  }

  @Test
  void restartOfEveryNodeKeepsEveryAcknowledgedRecord() throws Exception {
    Map<String, RecordMetadata> acked = new HashMap<>();
    MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
    try {
      try (Admin admin = admin(c); Producer producer = producer(c)) {
        admin.createTopic("ledger", 2, 3);
        acked.putAll(produceAll(producer, "ledger", "first", 2000));
      }
      for (int id : c.ids()) {
        c.stop(id);
      }
      for (int id : c.ids()) {
        c.start(id);
      }
      List<ConsumerRecord> read = readAll(c, "ledger", 2, 2000);
      assertEquals(2000, read.size());
      assertAllAckedReadAtTheirOffsets(acked, read);

      try (Producer producer = producer(c)) {
        acked.putAll(produceAll(producer, "ledger", "second", 1000));
      }
      read = readAll(c, "ledger", 2, 3000);
      assertEquals(3000, read.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
    } finally {
      c.close();
    }
  }

  /**
   * A replica restarted with the whole cluster knows its commit index only once a leader of the new term committed
   * (Ratis' log-metadata entries are off): until then a new leader must not answer with the end offset it has
   * applied so far, which is older than the one its clients already saw.
   */
  @Test
  void afterARestartOfEveryNodeNoLeaderAnswersWithAnOlderEndOffset() throws Exception {
    // Leaders send at most every 400 ms (heartbeats every 500 ms), so that followers learn of the last commit only
    // that much later: the leader is stopped first, within that window.
    System.setProperty(APPENDER_WAIT, "400ms");
    MiniCluster c;
    try {
      c = new MiniCluster(dir, 3, new Properties()).startAll();
    } finally {
      System.clearProperty(APPENDER_WAIT);
    }
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      try (Admin admin = admin(c); Producer producer = producer(c)) {
        admin.createTopic("ends", 1, 3);
        produceAll(producer, "ends", "r", 1000);
      }
      // The leader goes first, right after its last acknowledgement: the followers learn the last commit only from
      // its next append or heartbeat, so the follower elected next applied less than what was acknowledged.
      int oldLeader = leaderOf(c, "ends", 0);
      c.stop(oldLeader);
      List<Integer> followers = c.ids().stream().filter(id -> id != oldLeader).toList();
      for (int id : followers) {
        c.stop(id);
      }
      AtomicBoolean stop = new AtomicBoolean();
      List<String> stale = new CopyOnWriteArrayList<>();
      AtomicInteger answered = new AtomicInteger();
      List<Thread> pollers = new ArrayList<>();
      for (int id : c.ids()) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", c.clientPort(id)).usePlaintext().build();
        channels.add(ch);
        Thread t = new Thread(() -> {
          long deadline = System.currentTimeMillis() + 60_000;
          while (!stop.get() && System.currentTimeMillis() < deadline) {
            try {
              ListOffsetsResponse r = LogServiceGrpc.newBlockingStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
                  .listOffsets(ListOffsetsRequest.newBuilder().setTopic("ends").setSpec(OffsetSpec.LATEST).build());
              if (r.getError().getCode() == ErrorCode.NONE) {
                answered.incrementAndGet();
                if (r.getOffset() != 1000 || r.getLogEndOffset() != 1000) {
                  stale.add(r.toString());
                }
              }
            } catch (RuntimeException e) {
              // the node is down or starting
            }
          }
        }, "end-poller-" + id);
        t.start();
        pollers.add(t);
      }
      for (int id : followers) {
        c.start(id);
      }
      await("a leader to answer", 30_000, () -> answered.get() > 0);
      c.start(oldLeader);
      assertEquals(1000, readAll(c, "ends", 1, 1000).size());
      stop.set(true);
      for (Thread t : pollers) {
        t.join(10_000);
      }
      assertEquals(List.of(), stale, "answers with an end offset older than the acknowledged one");
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
      c.close();
    }
  }

  @Test
  void produceDuringAnElectionIsHeldUntilThereIsALeader() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); Admin admin = admin(c)) {
      admin.createTopic("vote", 1, 3);
      try (Producer producer = producer(c)) {
        produceAll(producer, "vote", "before", 10);
      }
      int oldLeader = leaderOf(c, "vote", 0);
      List<Integer> others = c.ids().stream().filter(id -> id != oldLeader).toList();
      int survivor = others.get(0);
      int second = others.get(1);
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", c.clientPort(survivor)).usePlaintext().build();
      try {
        // Without a majority no leader can be elected: the survivor knows no leader until the second node is back.
        c.stop(oldLeader);
        c.stop(second);
        await("the survivor forgets the dead leader", 30_000,
            () -> division(c, survivor, "vote", 0).getInfo().getLeaderId() == null);
        CompletableFuture<ProduceResponse> answer = CompletableFuture.supplyAsync(() -> LogServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(60, TimeUnit.SECONDS).produce(batch("vote", 0, records(3, 10), 3).setTimeoutMs(40_000).build()));
        Thread.sleep(1_000);
        assertFalse(answer.isDone(), "held while there is no leader, not answered LEADER_NOT_AVAILABLE: "
            + (answer.isDone() ? answer.join() : ""));

        c.start(second);
        ProduceResponse r = answer.get(30, TimeUnit.SECONDS);
        int leader = leaderOf(c, "vote", 0);
        assertTrue(r.getError().getCode() == ErrorCode.NONE
            || (r.getError().getCode() == ErrorCode.NOT_LEADER && r.getLeader().getId() == leader && leader != oldLeader),
            "proposed by the new leader, or pointed at it: " + r);
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
