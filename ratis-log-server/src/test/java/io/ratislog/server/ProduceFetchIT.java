package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.TopicDescription;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.storage.StoredBatch;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Produce and fetch across partitions on a real 3-node cluster; every replica ends with the same bytes. */
class ProduceFetchIT {
  @TempDir Path dir;

  @Test
  void recordsAreReadBackAtTheirOffsetsAndEveryReplicaIsIdentical() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c);
         Producer producer = producer(c)) {
      TopicDescription t = admin.createTopic("orders", 3, 3);
      assertEquals(3, t.partitions().size());

      Map<String, RecordMetadata> acked = produceAll(producer, "orders", "order", 3000);
      Set<Integer> partitionsUsed = new HashSet<>();
      acked.values().forEach(m -> partitionsUsed.add(m.partition()));
      assertEquals(Set.of(0, 1, 2), partitionsUsed, "keys spread over every partition");

      List<ConsumerRecord> read = readAll(c, "orders", 3, 3000);
      assertEquals(3000, read.size());
      assertAllAckedReadAtTheirOffsets(acked, read);
      assertContiguous(read);

      Set<Integer> leaders = new HashSet<>();
      for (int p = 0; p < 3; p++) {
        int partition = p;
        await("every replica of partition " + p + " applied everything", 20_000, () -> c.ids().stream()
            .allMatch(id -> replica(c, id, "orders", partition).logEndOffset() == replica(c, leaderOf(c, "orders", partition), "orders", partition).logEndOffset()));
        List<StoredBatch> reference = allBatches(replica(c, 1, "orders", p));
        for (int id : c.ids()) {
          PartitionStateMachine sm = replica(c, id, "orders", p);
          assertNotNull(sm);
          assertEquals(reference, allBatches(sm), "replica on node " + id + " of partition " + p + " differs from node 1's");
        }
        leaders.add(leaderOf(c, "orders", p));
      }
      assertTrue(leaders.size() >= 2, "partition leaders are spread over nodes: " + leaders);
    }
  }
}
