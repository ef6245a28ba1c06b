package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.TopicDescription;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leaders spread over the nodes, and leadership returns to a partition's preferred replica after it restarts. */
class LeaderBalanceIT {
  @TempDir Path dir;

  @Test
  void leadershipReturnsToThePreferredReplica() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); Admin admin = admin(c)) {
      TopicDescription t = admin.createTopic("bal", 3, 3);
      for (PartitionInfo p : t.partitions()) {
        int preferred = p.replicas().get(0);
        await("partition " + p.partition() + " led by its preferred replica " + preferred, 30_000,
            () -> leaderOf(c, "bal", p.partition()) == preferred);
      }
      int preferred0 = t.partitions().get(0).replicas().get(0);
      c.stop(preferred0);
      await("a new leader of partition 0", 20_000, () -> leaderOf(c, "bal", 0) > 0);
      assertTrue(leaderOf(c, "bal", 0) != preferred0);
      c.start(preferred0);
      await("leadership of partition 0 back on node " + preferred0, 60_000, () -> leaderOf(c, "bal", 0) == preferred0);
    }
  }
}
