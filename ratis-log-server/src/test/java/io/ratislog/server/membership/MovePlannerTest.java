package io.ratislog.server.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.metadata.Placement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MovePlannerTest {
  private static TopicRecord topic(String name, int partitions, List<Integer> nodes) {
    return TopicRecord.newBuilder().setName(name).setTopicId(1).setReplicationFactor(3)
        .addAllPartitions(Placement.place(name, partitions, 3, nodes)).build();
  }

  @Test
  void drainMovesEveryReplicaOffTheNodeKeepingPositionsAndSpreadingLoad() {
    TopicRecord t = topic("a", 8, List.of(1, 2, 3, 4));
    List<MovePlanner.Move> moves = MovePlanner.drain(4, List.of(t), List.of(1, 2, 3, 4, 5));
    Map<Integer, Integer> received = new HashMap<>();
    for (MovePlanner.Move m : moves) {
      int pos = m.from().indexOf(4);
      assertTrue(pos >= 0);
      assertTrue(!m.to().contains(4) && m.to().size() == 3 && m.to().stream().distinct().count() == 3, m.toString());
      received.merge(m.to().get(pos), 1, Integer::sum);
    }
    assertEquals(6, moves.size(), "node 4 holds 6 of the 24 replicas");
    assertTrue(received.getOrDefault(5, 0) >= 3, "the empty node takes the most: " + received);
  }

  @Test
  void drainIsRefusedWhenNoNodeCanTakeTheReplica() {
    TopicRecord t = topic("a", 2, List.of(1, 2, 3));
    assertThrows(IllegalStateException.class, () -> MovePlanner.drain(3, List.of(t), List.of(1, 2, 3)));
  }

  @Test
  void rebalanceGivesTheNewNodeItsShare() {
    TopicRecord t = topic("a", 8, List.of(1, 2, 3));
    List<MovePlanner.Move> moves = MovePlanner.rebalanceOnto(4, List.of(t), List.of(1, 2, 3, 4));
    assertEquals(6, moves.size(), "24 replicas over 4 nodes: 6 each");
    moves.forEach(m -> assertTrue(m.to().contains(4) && !m.from().contains(4)));
    assertEquals(moves.size(), moves.stream().map(m -> m.partition()).distinct().count(), "one move per partition");
  }
}
