package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordMetadata;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
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
 * Replacing a metadata voter: a node added at runtime ({@code logctl -o json cluster add-node}) takes the vote of
 * the metadata leader (leadership moves first), started through the Admin API and finished by
 * {@code logctl -o json cluster remove-node ID --replace-with N} (resuming what the first call began), which then
 * drains and unregisters the old node. The new voter really
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
      LogCtlRun add = logctl(c, "-o", "json", "cluster", "add-node", String.valueOf(added),
          "127.0.0.1:" + c.raftPort(added) + ":" + c.clientPort(added));
      assertEquals(0, add.exit(), add.out() + add.err());
      JsonNode addDoc = onlyDocument(add.out());
      assertEquals(added, addDoc.get("node_id").asInt());
      assertEquals(added, addDoc.get("start_settings").get("node.id").asInt());
      assertEquals(3, addDoc.get("start_settings").get("metadata.voters").asInt());
      assertTrue(add.err().contains("node " + added + " registered"), "progress on stderr: " + add.err());
      c.start(added);
      await("node " + added + " listens to the metadata group", 30_000, () -> {
        NodeStatus s = status(admin, added);
        return s != null && s.getUp() && s.getMetadataListener();
      });

      // Refusals change nothing. An unknown node is refused even while a configuration change is under way.
      assertEquals(ErrorCode.UNKNOWN_NODE, assertThrows(RatislogException.class,
          () -> admin.replaceMetadataVoter(1, 99)).code());
      // Already true (1 votes, the new node does not): done at once, as when resuming a finished replacement, once
      // the configuration change that made the new node a listener has committed (until then the answer is
      // "waiting for a configuration change"; CI saw that once).
      await("the metadata group's configuration settles", 30_000, () -> admin.replaceMetadataVoter(added, 1).getDone());
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

      // The command resumes, swaps the vote, drains the old node and removes it (progress on stderr with -o json).
      LogCtlRun run = logctl(c, "-o", "json", "cluster", "remove-node", String.valueOf(replaced), "--replace-with",
          String.valueOf(added), "--timeout-ms", "120000");
      assertEquals(0, run.exit(), run.out() + run.err());
      assertTrue(run.err().contains("node " + added + " votes in place of node " + replaced), run.err());
      assertTrue(run.err().contains("node " + replaced + " removed"), run.err());
      JsonNode removed = onlyDocument(run.out());
      assertTrue(removed.get("removed").asBoolean());
      assertTrue(removed.get("metadata_voter_replacement").get("done").asBoolean());
      assertFalse(removed.get("metadata_voter_replacement").get("voters").toString().contains(String.valueOf(replaced)));
      assertEquals(2, removed.get("moves").size(), "both partitions moved off node " + replaced + ": " + removed);
      Set<Integer> expected = new TreeSet<>(Set.of(1, 2, 3, added));
      expected.remove(replaced);
      assertEquals(expected, voters(admin));
      assertTrue(status(admin, replaced) == null, "node " + replaced + " is unregistered");
      admin.describeTopic("v").partitions().forEach(pt -> assertFalse(pt.replicas().contains(replaced), pt.toString()));
      JsonNode addedAcl = onlyDocument(logctl(c, "-o", "json", "acl", "add", "--principal", "alice", "--topic", "v",
          "--operation", "READ").out());
      assertEquals("alice", addedAcl.get("added").get("principal").asText());
      JsonNode acls = onlyDocument(logctl(c, "-o", "json", "acl", "list").out());
      assertEquals(1, acls.size(), acls.toString());
      assertEquals("TOPIC", acls.get(0).get("resource_type").asText());
      assertTrue(onlyDocument(logctl(c, "-o", "json", "acl", "remove", "--principal", "alice", "--topic", "v",
          "--operation", "READ").out()).get("removed").asBoolean());
      JsonNode status = onlyDocument(logctl(c, "-o", "json", "partition", "status", "v", "0").out());
      assertEquals(3, status.get("voters").size(), status.toString());
      assertTrue(status.get("voters").toString().contains(String.valueOf(added)), status.toString());
      assertEquals(3, status.get("progress").size(), status.toString());
      LogCtlRun transfer = logctl(c, "-o", "json", "partition", "transfer-leader", "v", "1", "--to", String.valueOf(added));
      assertEquals(0, transfer.exit(), transfer.out() + transfer.err());
      JsonNode moved = onlyDocument(transfer.out());
      assertEquals(added, moved.get("leader").asInt(), moved.toString());
      assertEquals(added, moved.get("replicas").get(0).asInt(), "the new node is v-1's preferred leader: " + moved);

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

  /** Stdout of a {@code -o json} command: exactly one JSON document, on one line. */
  private static JsonNode onlyDocument(String out) throws Exception {
    assertEquals(1, out.lines().count(), "one line on stdout: " + out);
    return new ObjectMapper().readTree(out);
  }

  private static LogCtlRun logctl(MiniCluster c, String... args) {
    return LogCtlRun.of(c, "", args);
  }

}
