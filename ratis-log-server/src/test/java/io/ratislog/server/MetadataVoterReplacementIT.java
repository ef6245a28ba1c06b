package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.cli.LogCtl;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replacing a metadata voter: a node added at runtime takes the vote of the metadata leader (leadership moves
 * first), started through the Admin API and finished by {@code logctl cluster remove-node ID --replace-with N}
 * (resuming what the first call began), which then drains and unregisters the old node. The new voter really
 * votes: with the old node gone and one more old voter stopped, the two voters left (one of them the new node)
 * still elect a leader, create a topic, and every acknowledged record is read back.
 */
class MetadataVoterReplacementIT {
  @TempDir Path dir;

  @Test
  void replaceTheMetadataLeadersVoteWithANewNodeThenLoseAnotherOldVoter() throws Exception {
    Properties props = new Properties();
    props.setProperty("metadata.voters", "3");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll();
         Admin admin = Admin.create(c.bootstrap(), Duration.ofSeconds(30))) {
      admin.createTopic("v", 2, 3);
      Map<String, RecordMetadata> acked = new HashMap<>();
      try (Producer p = producer(c)) {
        acked.putAll(produceAll(p, "v", "before", 200));
      }

      int added = c.prepareNode();
      admin.addNode(added, "127.0.0.1", c.raftPort(added), c.clientPort(added), false);
      c.start(added);
      await("node " + added + " listens to the metadata group", 30_000, () -> {
        NodeStatus s = status(admin, added);
        return s != null && s.getUp() && s.getMetadataListener();
      });

      // Refusals change nothing.
      assertEquals(ErrorCode.UNKNOWN_NODE, assertThrows(RatislogException.class,
          () -> admin.replaceMetadataVoter(1, 99)).code());
      // Already true (1 votes, the new node does not): done at once, as when resuming a finished replacement.
      assertTrue(admin.replaceMetadataVoter(added, 1).getDone());
      assertEquals(ErrorCode.INVALID_REQUEST, assertThrows(RatislogException.class,
          () -> admin.replaceMetadataVoter(1, 2)).code(), "node 2 already votes");
      assertEquals(ErrorCode.INVALID_REQUEST, assertThrows(RatislogException.class,
          () -> admin.replaceMetadataVoter(1, 1)).code());
      assertEquals(Set.of(1, 2, 3), voters(admin));

      int replaced = admin.describeCluster().getMetadataLeader();
      assertTrue(replaced >= 1 && replaced <= 3, "an old node leads the metadata group: " + replaced);
      // The first step on the leader it replaces: leadership moves away, nothing else yet.
      ReplaceMetadataVoterResponse first = admin.replaceMetadataVoter(replaced, added);
      assertFalse(first.getDone(), first.toString());
      assertEquals(Set.of(1, 2, 3), voters(admin), "voters unchanged by the first step: " + first.getStep());

      // The command resumes, swaps the vote, drains the old node and removes it.
      Run run = logctl(c, "cluster", "remove-node", String.valueOf(replaced), "--replace-with", String.valueOf(added),
          "--timeout-ms", "120000");
      assertEquals(0, run.exit, run.out + run.err);
      assertTrue(run.out.contains("node " + added + " votes in place of node " + replaced), run.out);
      assertTrue(run.out.contains("node " + replaced + " removed"), run.out);
      Set<Integer> expected = new TreeSet<>(Set.of(1, 2, 3, added));
      expected.remove(replaced);
      assertEquals(expected, voters(admin));
      assertTrue(status(admin, replaced) == null, "node " + replaced + " is unregistered");
      admin.describeTopic("v").partitions().forEach(pt -> assertFalse(pt.replicas().contains(replaced), pt.toString()));

      // Stop the removed node and one more old voter: the remaining old voter and the new one are a majority.
      c.stop(replaced);
      int otherOld = expected.stream().filter(id -> id != added).findFirst().orElseThrow();
      c.stop(otherOld);
      await("a metadata leader among the two voters left", 60_000, () -> {
        try {
          int leader = admin.describeCluster().getMetadataLeader();
          return leader != -1 && leader != otherOld && leader != replaced;
        } catch (RatislogException e) {
          return false;
        }
      });
      admin.createTopic("after", 1, 2);
      try (Producer p = producer(c)) {
        acked.putAll(produceAll(p, "v", "after", 100));
      }
      assertAllAckedReadAtTheirOffsets(acked, readAll(c, "v", 2, acked.size()));
    }
  }

  private static Set<Integer> voters(Admin admin) {
    Set<Integer> out = new TreeSet<>();
    admin.describeCluster().getNodesList().stream().filter(NodeStatus::getMetadataVoter).forEach(n -> out.add(n.getNode().getId()));
    return out;
  }

  private static NodeStatus status(Admin admin, int id) {
    DescribeClusterResponse r = admin.describeCluster();
    return r.getNodesList().stream().filter(n -> n.getNode().getId() == id).findFirst().orElse(null);
  }

  private record Run(int exit, String out, String err) {
  }

  private static Run logctl(MiniCluster c, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = new String[args.length + 2];
    all[0] = "--bootstrap";
    all[1] = c.bootstrap();
    System.arraycopy(args, 0, all, 2, args.length);
    int exit = LogCtl.run(all, new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
