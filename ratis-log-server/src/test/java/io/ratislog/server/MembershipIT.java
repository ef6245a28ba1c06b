package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.TopicDescription;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.RemoveNodeResponse;
import io.ratislog.server.partition.PartitionStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership under produce load: a node added at runtime (only its own configuration names it) becomes known
 * to every node, a partition is reassigned onto it (it catches up by snapshot install, becomes the preferred
 * leader and takes leadership), an old node is drained and removed. No acknowledged record is lost and every
 * replica of every partition ends byte-identical.
 */
class MembershipIT {
  @TempDir Path dir;

  @Test
  void addNodeReassignOntoItDrainAndRemoveAnOldNodeUnderLoad() throws Exception {
    Properties props = new Properties();
    props.setProperty("metadata.voters", "3");
    props.setProperty("snapshot.threshold.entries", "64");
    props.setProperty("segment.bytes", "65536");
    props.setProperty("raft.segment.bytes", "65536");
    try (MiniCluster c = new MiniCluster(dir, 4, props).startAll(); Admin admin = admin(c)) {
      admin.createTopic("m", 2, 3);
      Map<String, RecordMetadata> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger failures = new AtomicInteger();
      Thread load = new Thread(() -> produceUntil(c, stop, acked, failures), "load");
      load.start();
      try {
        await("first records acknowledged", 30_000, () -> acked.size() > 100);

        int added = c.prepareNode();
        admin.addNode(added, "127.0.0.1", c.raftPort(added), c.clientPort(added), false);
        c.start(added);
        await("node " + added + " up and following the metadata group", 30_000, () -> {
          NodeStatus s = status(admin, added);
          return s != null && s.getUp() && s.getMetadataListener();
        });
        await("node " + added + " knows the topic", 30_000, () -> c.node(added).metadata().topic("m").isPresent());
        assertEquals(5, admin.describeCluster().getNodesCount(), "DescribeCluster lists the added node");

        // Refused: a metadata voter, and a node that still holds replicas.
        RatislogException voter = assertThrows(RatislogException.class, () -> admin.removeNode(1, false));
        assertEquals(ErrorCode.NODE_IN_USE, voter.code());
        RatislogException inUse = assertThrows(RatislogException.class, () -> admin.removeNode(4, false));
        assertEquals(ErrorCode.NODE_IN_USE, inUse.code(), inUse.getMessage());

        // Reassign partition 0 onto the new node, which becomes its preferred leader; the old preferred leader leaves.
        List<Integer> before = admin.describeTopic("m").partitions().get(0).replicas();
        List<Integer> target = new ArrayList<>(before);
        int leaving = target.set(0, added);
        admin.reassignPartition("m", 0, target);
        awaitMoved(admin, "m", 0, target);
        await("leadership of m-0 on its new preferred leader " + added, 30_000, () -> leaderOf(c, "m", 0) == added);
        await("node " + leaving + " deleted its replica of m-0", 30_000, () -> division(c, leaving, "m", 0) == null);
        PartitionStateMachine joined = replica(c, added, "m", 0);
        assertTrue(joined != null && joined.getLatestSnapshot() != null, "the new replica holds a snapshot");

        // Drain node 4 and remove it.
        long deadline = System.currentTimeMillis() + 120_000;
        RemoveNodeResponse r;
        do {
          r = admin.removeNode(4, true);
          if (!r.getRemoved()) {
            Thread.sleep(500);
          }
        } while (!r.getRemoved() && System.currentTimeMillis() < deadline);
        assertTrue(r.getRemoved(), "node 4 drained and removed in time");
        TopicDescription t = admin.describeTopic("m");
        t.partitions().forEach(p -> assertFalse(p.replicas().contains(4), "no replica left on node 4: " + p));
        assertNull(status(admin, 4), "node 4 is no longer registered");
      } finally {
        stop.set(true);
        load.join(120_000);
      }
      assertEquals(0, failures.get(), "every send was acknowledged");

      TopicDescription t = admin.describeTopic("m");
      List<ConsumerRecord> read = readAll(c, "m", 2, acked.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);
      for (var p : t.partitions()) {
        await("replicas of m-" + p.partition() + " at the same end offset", 30_000, () -> p.replicas().stream()
            .map(id -> replica(c, id, "m", p.partition())).allMatch(sm -> sm != null && sm.isServing()
                && sm.logEndOffset() == replica(c, p.replicas().get(0), "m", p.partition()).logEndOffset()));
        var reference = allBatches(replica(c, p.replicas().get(0), "m", p.partition()));
        for (int id : p.replicas()) {
          assertEquals(reference, allBatches(replica(c, id, "m", p.partition())),
              "replica on node " + id + " of m-" + p.partition() + " is byte-identical");
        }
      }
      c.stop(4);
    }
  }

  private static void produceUntil(MiniCluster c, AtomicBoolean stop, Map<String, RecordMetadata> acked,
                                   AtomicInteger failures) {
    try (Producer p = producer(c)) {
      int i = 0;
      while (!stop.get()) {
        List<String> values = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int k = 0; k < 20; k++, i++) {
          String v = "v-" + i;
          values.add(v);
          fs.add(p.send(new ProducerRecord("m", ("k" + i).getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8))));
        }
        for (int k = 0; k < fs.size(); k++) {
          try {
            acked.put(values.get(k), fs.get(k).get(90, java.util.concurrent.TimeUnit.SECONDS));
          } catch (Exception e) {
            failures.incrementAndGet();
          }
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitMoved(Admin admin, String topic, int partition, List<Integer> target) throws InterruptedException {
    await(topic + "-" + partition + " moved to " + target, 90_000, () -> {
      try {
        DescribeReassignmentResponse r = admin.describeReassignment(topic, partition);
        return r.getTargetReplicasCount() == 0 && r.getReplicasList().equals(target);
      } catch (RatislogException e) {
        return false;
      }
    });
  }

  private static NodeStatus status(Admin admin, int id) {
    DescribeClusterResponse r = admin.describeCluster();
    return r.getNodesList().stream().filter(n -> n.getNode().getId() == id).findFirst().orElse(null);
  }
}
