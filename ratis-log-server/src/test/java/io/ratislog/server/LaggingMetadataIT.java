package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.admin;
import static io.ratislog.server.ClusterTestSupport.await;
import static io.ratislog.server.ClusterTestSupport.leaderOf;
import static io.ratislog.server.ClusterTestSupport.metadataLeader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.ratislog.client.Admin;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import io.ratislog.server.entries.MetadataSnapshot;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition leader whose metadata replica has not applied the topic yet (a restarted node learns the metadata
 * commit index only from the metadata leader, and may lead partition groups before) must not tell a producer the
 * topic does not exist: the producer gives up on the batch, though an earlier attempt of it may have been appended.
 * Found by the chaos smoke test (aborted reads after a kill and a pause).
 */
class LaggingMetadataIT {
  @TempDir Path dir;

  @Test
  void aLeaderWhoseMetadataLagsAnswersRetriablyAndAnUnknownTopicStaysUnknown() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); Admin admin = admin(c)) {
      // A partition led by a node that does not lead the metadata group: the metadata leader's own replica is the
      // one a linearizable read answers from, and it is never behind.
      String topic = null;
      int leader = -1;
      for (int i = 0; i < 6 && topic == null; i++) {
        admin.createTopic("t" + i, 1, 3);
        String name = "t" + i;
        await(name + " to elect a leader", 30_000, () -> leaderOf(c, name, 0) > 0);
        int l = leaderOf(c, name, 0);
        if (l != metadataLeader(c)) {
          topic = "t" + i;
          leader = l;
        }
      }
      assertTrue(topic != null, "a partition led by another node than the metadata leader");
      ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", c.clientPort(leader)).usePlaintext().build();
      try {
        LogServiceGrpc.LogServiceBlockingStub log = LogServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
        // The replica as it is right after a restart, before it has applied the topic's creation.
        c.node(leader).metadata().restore(MetadataSnapshot.getDefaultInstance());
        ProduceResponse lagging = log.produce(ProduceRequest.newBuilder().setTopic(topic).setPartition(0).build());
        assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, lagging.getError().getCode(), lagging.getError().getMessage());
        ProduceResponse unknown = LogServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
            .produce(ProduceRequest.newBuilder().setTopic("nope").setPartition(0).build());
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, unknown.getError().getCode(), unknown.getError().getMessage());
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
