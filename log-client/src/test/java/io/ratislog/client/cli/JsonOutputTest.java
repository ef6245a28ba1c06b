package io.ratislog.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ratislog.proto.AclBinding;
import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclPatternType;
import io.ratislog.proto.AclPermission;
import io.ratislog.proto.AclResourceType;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.Node;
import io.ratislog.proto.PartitionMove;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
import io.ratislog.proto.ReplicaProgress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON documents of the membership and ACL commands, read back as a script would. */
class JsonOutputTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static JsonNode roundTrip(Object value) throws Exception {
    String line = JsonOutput.write(value);
    assertEquals(1, line.lines().count(), "one line: " + line);
    return MAPPER.readTree(line);
  }

  @Test
  void reassignmentWithUnknownLeaderAndCommitIndex() throws Exception {
    DescribeReassignmentResponse r = DescribeReassignmentResponse.newBuilder().addAllReplicas(List.of(1, 2, 3))
        .addAllTargetReplicas(List.of(4, 2, 3)).addAllVoters(List.of(1, 2, 3)).addListeners(4).setLeaderCommitIndex(120)
        .setStep("adding 4")
        .addProgress(ReplicaProgress.newBuilder().setNodeId(1).setRole("VOTER").setCommitIndex(120).setCaughtUp(true))
        .addProgress(ReplicaProgress.newBuilder().setNodeId(4).setRole("LISTENER").setCommitIndex(-1)).build();
    JsonNode j = roundTrip(JsonOutput.reassignment("orders", 2, r));
    assertEquals("orders", j.get("topic").asText());
    assertEquals(2, j.get("partition").asInt());
    assertEquals("[1,2,3]", j.get("replicas").toString());
    assertEquals("[4,2,3]", j.get("target_replicas").toString());
    assertTrue(j.get("leader").isNull(), "no leader in the response: null");
    assertEquals("[4]", j.get("listeners").toString());
    assertEquals(120, j.get("leader_commit_index").asLong());
    assertEquals("adding 4", j.get("step").asText());
    assertEquals(120, j.get("progress").get(0).get("commit_index").asLong());
    assertTrue(j.get("progress").get(0).get("caught_up").asBoolean());
    assertTrue(j.get("progress").get(1).get("commit_index").isNull(), "unknown commit index: null");

    JsonNode withLeader = roundTrip(JsonOutput.reassignment("orders", 2,
        r.toBuilder().setLeader(Node.newBuilder().setId(3).setHost("h").setClientPort(1)).build()));
    assertEquals(3, withLeader.get("leader").asInt());
  }

  @Test
  void movesAndVoterReplacement() throws Exception {
    PartitionMove mv = PartitionMove.newBuilder().setTopic("t").setPartition(0).addAllFromReplicas(List.of(1, 2, 3))
        .addAllToReplicas(List.of(2, 3, 4)).build();
    JsonNode moves = roundTrip(JsonOutput.moves(List.of(mv)));
    assertEquals("[1,2,3]", moves.get(0).get("from_replicas").toString());
    assertEquals("[2,3,4]", moves.get(0).get("to_replicas").toString());

    ReplaceMetadataVoterResponse r = ReplaceMetadataVoterResponse.newBuilder().setDone(true).setStep("node 4 votes in place of node 1")
        .addAllVoters(List.of(2, 3, 4)).addListeners(1).setLeaderCommitIndex(9)
        .addProgress(ReplicaProgress.newBuilder().setNodeId(4).setRole("VOTER").setCommitIndex(9).setCaughtUp(true)).build();
    JsonNode j = roundTrip(JsonOutput.voterReplacement(1, 4, r));
    assertEquals(1, j.get("from_node").asInt());
    assertEquals(4, j.get("to_node").asInt());
    assertTrue(j.get("done").asBoolean());
    assertEquals("[2,3,4]", j.get("voters").toString());
    assertEquals("[1]", j.get("listeners").toString());
    assertEquals("VOTER", j.get("progress").get(0).get("role").asText());
  }

  @Test
  void aclBindings() throws Exception {
    AclBinding b = AclBinding.newBuilder().setPrincipal("alice").setPermission(AclPermission.DENY)
        .setOperation(AclOperation.WRITE).setResourceType(AclResourceType.TOPIC).setResourceName("orders.")
        .setPatternType(AclPatternType.PREFIXED).build();
    JsonNode list = roundTrip(JsonOutput.aclList(List.of(b)));
    JsonNode j = list.get(0);
    assertEquals("alice", j.get("principal").asText());
    assertEquals("DENY", j.get("permission").asText());
    assertEquals("WRITE", j.get("operation").asText());
    assertEquals("TOPIC", j.get("resource_type").asText());
    assertEquals("orders.", j.get("resource_name").asText());
    assertEquals("PREFIXED", j.get("pattern_type").asText());
  }

  @Test
  void resetOffsetsByPartition() throws Exception {
    JsonNode j = roundTrip(JsonOutput.resetOffsets("billing", "orders", java.util.Map.of(1, 40L, 0, 7L)));
    assertEquals("billing", j.get("group").asText());
    assertEquals("orders", j.get("topic").asText());
    assertEquals(0, j.get("partitions").get(0).get("partition").asInt());
    assertEquals(7, j.get("partitions").get(0).get("committed").asLong());
    assertEquals(40, j.get("partitions").get(1).get("committed").asLong());
  }
}
