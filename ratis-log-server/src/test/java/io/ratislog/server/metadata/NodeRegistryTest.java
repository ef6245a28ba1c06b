package io.ratislog.server.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.CompleteReassignmentCommand;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.NodeRecord;
import io.ratislog.server.entries.PartitionPlacement;
import io.ratislog.server.entries.ReassignPartitionCommand;
import io.ratislog.server.entries.RegisterNodeCommand;
import io.ratislog.server.entries.RemoveNodeCommand;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The node registry and partition reassignment as metadata commands. */
class NodeRegistryTest {
  private static final List<NodeRecord> BOOT = List.of(node(1, 9001), node(2, 9002), node(3, 9003));

  private static NodeRecord node(int id, int port) {
    return NodeRecord.newBuilder().setId(id).setHost("h" + id).setRaftPort(port).setClientPort(port + 100).build();
  }

  private static MetadataResult register(MetadataState s, NodeRecord n, boolean self) {
    return s.apply(MetadataCommand.newBuilder().setRegisterNode(RegisterNodeCommand.newBuilder().setNode(n).setSelf(self)
        .addAllBootstrap(BOOT)).build());
  }

  private static MetadataResult reassign(MetadataState s, int partition, List<Integer> replicas) {
    return s.apply(MetadataCommand.newBuilder().setReassignPartition(ReassignPartitionCommand.newBuilder().setTopic("t")
        .setPartition(partition).addAllReplicas(replicas).addAllBootstrap(BOOT)).build());
  }

  private static MetadataResult complete(MetadataState s, int partition, List<Integer> replicas) {
    return s.apply(MetadataCommand.newBuilder().setCompleteReassignment(CompleteReassignmentCommand.newBuilder().setTopic("t")
        .setTopicId(1).setPartition(partition).addAllReplicas(replicas)).build());
  }

  private static MetadataResult remove(MetadataState s, int id) {
    return s.apply(MetadataCommand.newBuilder().setRemoveNode(RemoveNodeCommand.newBuilder().setNodeId(id)
        .addAllBootstrap(BOOT)).build());
  }

  private static void createTopic(MetadataState s) {
    s.apply(MetadataCommand.newBuilder().setCreateTopic(CreateTopicCommand.newBuilder().setName("t").setReplicationFactor(3)
        .addPartitions(PartitionPlacement.newBuilder().addAllReplicas(List.of(1, 2, 3)))).build());
  }

  private static int code(MetadataResult r) {
    return r.getErrorCode();
  }

  @Test
  void theFirstRegistrationSeedsTheRegistryFromTheBootstrapPeers() {
    MetadataState s = new MetadataState();
    assertEquals(false, s.registrySeeded());
    MetadataResult r = register(s, node(2, 9002).toBuilder().setStorageId("s2").build(), true);
    assertEquals(0, code(r), r.getErrorMessage());
    assertEquals(List.of(1, 2, 3), s.nodes().stream().map(NodeRecord::getId).toList());
    assertEquals("s2", s.node(2).orElseThrow().getStorageId());
    assertEquals(0, s.node(2).orElseThrow().getFirstTopicId(), "a first registration keeps the node trusted");
  }

  @Test
  void aSelfRegistrationRecordsTheNodesStartAndAnAddDoesNot() {
    MetadataState s = new MetadataState();
    register(s, node(2, 9002).toBuilder().setStorageId("s2").setStartedAtMs(1_000).build(), true);
    assertEquals(1_000, s.node(2).orElseThrow().getStartedAtMs());
    register(s, node(2, 9002).toBuilder().setStorageId("s2").setStartedAtMs(5_000).build(), true);
    assertEquals(5_000, s.node(2).orElseThrow().getStartedAtMs(), "a restart registers its new start");
    assertEquals(0, s.node(2).orElseThrow().getFirstTopicId(), "the same storage keeps its trust");
    assertEquals(0, code(register(s, node(4, 9004).toBuilder().setStartedAtMs(7_000).build(), false)));
    assertEquals(0, s.node(4).orElseThrow().getStartedAtMs(), "an admin's add says nothing about the process");
  }

  @Test
  void anUnknownNodeCannotRegisterItselfButCanBeAddedAndAddressesStayUnique() {
    MetadataState s = new MetadataState();
    register(s, node(1, 9001), true);
    assertEquals(ErrorCode.UNKNOWN_NODE.getNumber(), code(register(s, node(4, 9004).toBuilder().setStorageId("x").build(), true)));
    assertEquals(0, code(register(s, node(4, 9004), false)));
    assertEquals(0, code(register(s, node(4, 9004), false)), "adding the same node again is harmless");
    assertEquals(ErrorCode.NODE_ALREADY_EXISTS.getNumber(), code(register(s, node(4, 9014), false)));
    NodeRecord clash = NodeRecord.newBuilder().setId(5).setHost("h1").setRaftPort(9001).setClientPort(9555).build();
    assertEquals(ErrorCode.NODE_ALREADY_EXISTS.getNumber(), code(register(s, clash, false)));
    assertEquals(0, code(register(s, node(4, 9004).toBuilder().setStorageId("s4").build(), true)));
  }

  @Test
  void aChangedStorageIsNotTrustedWithOlderTopics() {
    MetadataState s = new MetadataState();
    register(s, node(3, 9003).toBuilder().setStorageId("old").build(), true);
    createTopic(s);
    register(s, node(3, 9003).toBuilder().setStorageId("new").build(), true);
    NodeRecord n = s.node(3).orElseThrow();
    assertEquals("new", n.getStorageId());
    assertEquals(2, n.getFirstTopicId(), "topic 1 predates the new storage");
  }

  @Test
  void aReassignmentIsValidatedRecordedCompletedAndBlocksNodeRemoval() {
    MetadataState s = new MetadataState();
    register(s, node(4, 9004), false);
    createTopic(s);
    assertEquals(ErrorCode.UNKNOWN_NODE.getNumber(), code(reassign(s, 0, List.of(1, 2, 9))));
    assertEquals(ErrorCode.INVALID_REQUEST.getNumber(), code(reassign(s, 0, List.of(1, 1, 2))));
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.getNumber(), code(reassign(s, 1, List.of(1, 2, 4))));
    assertEquals(ErrorCode.NODE_IN_USE.getNumber(), code(remove(s, 3)));

    assertEquals(0, code(reassign(s, 0, List.of(4, 2, 3))));
    PartitionPlacement p = s.topic("t").orElseThrow().getPartitions(0);
    assertEquals(List.of(1, 2, 3), p.getReplicasList());
    assertEquals(List.of(4, 2, 3), p.getTargetReplicasList());
    assertEquals(0, code(reassign(s, 0, List.of(4, 2, 3))), "the same target again is accepted");
    assertEquals(ErrorCode.REASSIGNMENT_IN_PROGRESS.getNumber(), code(reassign(s, 0, List.of(1, 2, 4))));
    assertEquals(ErrorCode.NODE_IN_USE.getNumber(), code(remove(s, 4)), "a target counts as a placement");
    assertEquals(ErrorCode.REASSIGNMENT_IN_PROGRESS.getNumber(), code(complete(s, 0, List.of(1, 2, 4))));

    assertEquals(0, code(complete(s, 0, List.of(4, 2, 3))));
    p = s.topic("t").orElseThrow().getPartitions(0);
    assertEquals(List.of(4, 2, 3), p.getReplicasList());
    assertTrue(p.getTargetReplicasList().isEmpty());
    assertEquals(0, code(remove(s, 1)), "node 1 holds nothing any more");
    assertEquals(ErrorCode.UNKNOWN_NODE.getNumber(), code(remove(s, 1)));

    MetadataState restored = new MetadataState();
    restored.restore(s.toSnapshot());
    assertEquals(s.toSnapshot(), restored.toSnapshot());
  }

  private static MetadataResult createTopic(MetadataState s, String name, int partitions, List<Integer> nodes) {
    return s.apply(MetadataCommand.newBuilder().setCreateTopic(CreateTopicCommand.newBuilder().setName(name)
        .setReplicationFactor(nodes.size()).addAllPartitions(Placement.place(name, partitions, nodes.size(), nodes)))
        .build());
  }

  @Test
  void placementsBeyondANodesRegisteredLimitAreRefusedAndNothingChanges() {
    MetadataState s = new MetadataState();
    register(s, node(1, 9001).toBuilder().setStorageId("s1").setMaxReplicas(5).build(), true);
    register(s, node(2, 9002).toBuilder().setStorageId("s2").setMaxReplicas(3).build(), true);
    assertEquals(3, s.node(2).orElseThrow().getMaxReplicas(), "a self-registration records the node's limit");
    assertEquals(0, s.node(3).orElseThrow().getMaxReplicas(), "a node that did not register one has none");

    assertEquals(0, code(createTopic(s, "a", 2, List.of(1, 2, 3))));
    MetadataResult refused = createTopic(s, "b", 2, List.of(1, 2, 3));
    assertEquals(ErrorCode.REPLICA_LIMIT_EXCEEDED.getNumber(), code(refused));
    assertTrue(refused.getErrorMessage().contains("node 2 holds 2 partition replicas and takes at most 3"),
        refused.getErrorMessage());
    assertTrue(s.topic("b").isEmpty(), "a refused topic is not created");
    assertEquals(0, code(createTopic(s, "c", 1, List.of(1, 2, 3))), "up to the limit is fine");
    assertEquals(3, s.replicaCounts().get(2));
    assertEquals(0, code(createTopic(s, "d", 40, List.of(3))), "node 3 registered no limit");
  }

  @Test
  void aReassignmentOntoAFullNodeIsRefused() {
    MetadataState s = new MetadataState();
    register(s, node(1, 9001).toBuilder().setStorageId("s1").build(), true);
    assertEquals(0, code(register(s, node(4, 9004), false)));
    register(s, node(4, 9004).toBuilder().setStorageId("s4").setMaxReplicas(1).build(), true);
    assertEquals(0, code(createTopic(s, "t", 2, List.of(1, 2, 3))));
    assertEquals(0, code(reassign(s, 0, List.of(4, 2, 3))), "node 4 takes one replica");
    MetadataResult refused = reassign(s, 1, List.of(4, 2, 3));
    assertEquals(ErrorCode.REPLICA_LIMIT_EXCEEDED.getNumber(), code(refused), refused.getErrorMessage());
    assertEquals(List.of(), s.topic("t").orElseThrow().getPartitions(1).getTargetReplicasList(), "nothing recorded");
    assertEquals(0, code(reassign(s, 0, List.of(4, 2, 3))), "the same request again is still answered");
    assertEquals(0, code(reassign(s, 1, List.of(2, 3, 1))), "moves among nodes already holding it add nothing");
  }
}
