package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.ratis.protocol.RaftGroupId;
import org.junit.jupiter.api.Test;

class GroupIdsTest {
  @Test
  void partitionIdsRoundTrip() {
    RaftGroupId g = GroupIds.partition(123456789L, 4095);
    assertTrue(GroupIds.isPartition(g));
    assertFalse(GroupIds.isMetadata(g));
    assertEquals(123456789L, GroupIds.topicIdOf(g));
    assertEquals(4095, GroupIds.partitionOf(g));
    assertEquals(g, RaftGroupId.valueOf(java.util.UUID.fromString(g.getUuid().toString())));
    assertTrue(GroupIds.isMetadata(GroupIds.metadata()));
    assertFalse(GroupIds.isPartition(GroupIds.metadata()));
  }
}
