package io.ratislog.client;

import static io.ratislog.client.FakeCluster.address;
import static io.ratislog.client.FakeCluster.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Where {@link ClusterConnection#route} sends a partition's requests after a node could not be reached. */
class ClusterConnectionRoutingTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);
  private FakeCluster cluster;
  private ClusterConnection conn;

  @BeforeEach
  void start() throws Exception {
    cluster = new FakeCluster(3);
    cluster.createTopic("t", 1, 3); // leader of partition 0: node 1
    conn = new ClusterConnection(cluster.bootstrap(2), 5_000, cluster.channels());
    conn.refresh("t").get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    conn.close();
    cluster.close();
  }

  @Test
  void anUnreachableLeaderIsTriedLastAndItsHintsAreNotFollowed() throws Exception {
    assertEquals(address(1), conn.route(TP, 0).get());
    conn.onUnreachable(address(1));
    for (int attempt = 0; attempt < 6; attempt++) {
      assertNotEquals(address(1), conn.route(TP, attempt).get(), "the other replicas first, attempt " + attempt);
    }
    List<HostPort> candidates = conn.candidates();
    assertEquals(address(1), candidates.get(candidates.size() - 1), "cluster-wide requests try it last");
    assertFalse(conn.onNotLeader(TP, node(1)), "a hint naming the node that just failed is not followed");
    assertTrue(conn.onNotLeader(TP, node(2)));
    assertEquals(address(2), conn.route(TP, 0).get());
  }

  @Test
  void anUnreachableNodeIsTriedAgainAfterAWhile() throws Exception {
    conn.onUnreachable(address(1));
    assertNotEquals(address(1), conn.route(TP, 0).get());
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(ClusterConnection.UNREACHABLE_AVOID_NANOS) + 100);
    assertEquals(address(1), conn.route(TP, 0).get());
  }
}
