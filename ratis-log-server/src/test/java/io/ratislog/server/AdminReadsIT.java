package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.ratislog.client.Admin;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.DescribeTopicRequest;
import io.ratislog.proto.DescribeTopicResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ListTopicsRequest;
import io.ratislog.proto.TopicDescription;
import io.ratislog.server.metadata.TopicConfigs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admin reads see the caller's own changes whichever node answers: a metadata follower applies a commit only after
 * the leader's next append tells it the commit index, so answering from its replica right after a change would show
 * the state before it (a node still listed as a replica right after its removal).
 */
class AdminReadsIT {
  private static final int ROUNDS = 20;

  @TempDir Path dir;

  @Test
  void everyNodeAnswersAnAdminDescribeAndListWithTheChangeJustMade() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); Admin admin = admin(c)) {
      List<AdminServiceGrpc.AdminServiceBlockingStub> nodes = new ArrayList<>();
      for (int id : c.ids()) {
        ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", c.clientPort(id)).usePlaintext().build();
        channels.add(ch);
        nodes.add(AdminServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS));
      }
      admin.createTopic("r", 1, 3);
      for (int round = 0; round < ROUNDS; round++) {
        String retention = Long.toString(3_600_000L + round);
        admin.alterTopicConfig("r", Map.of(TopicConfigs.RETENTION_MS, retention), List.of());
        for (int n = 0; n < nodes.size(); n++) {
          DescribeTopicResponse d = nodes.get(n).describeTopic(
              DescribeTopicRequest.newBuilder().setName("r").setLinearizable(true).build());
          assertEquals(ErrorCode.NONE, d.getError().getCode(), d.getError().getMessage());
          assertEquals(retention, d.getTopic().getConfigsMap().get(TopicConfigs.RETENTION_MS),
              "round " + round + ": node " + c.ids().get(n) + " describes the topic as altered");
        }
        admin.createTopic("r-" + round, 1, 3);
        for (int n = 0; n < nodes.size(); n++) {
          List<String> listed = nodes.get(n).listTopics(ListTopicsRequest.getDefaultInstance()).getTopicsList()
              .stream().map(TopicDescription::getName).toList();
          assertEquals(round + 2, listed.size(),
              "round " + round + ": node " + c.ids().get(n) + " lists the topic just created: " + listed);
        }
      }
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }
}
