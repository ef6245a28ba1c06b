package io.ratislog.server.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.DeleteTopicCommand;
import io.ratislog.server.entries.MetadataCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MetadataStateTest {
  private static MetadataCommand create(String name, int partitions) {
    return MetadataCommand.newBuilder().setCreateTopic(CreateTopicCommand.newBuilder().setName(name).setReplicationFactor(3)
        .addAllPartitions(Placement.place(name, partitions, 3, List.of(1, 2, 3))).setCreatedMs(1000)).build();
  }

  private static MetadataCommand delete(String name) {
    return MetadataCommand.newBuilder().setDeleteTopic(DeleteTopicCommand.newBuilder().setName(name)).build();
  }

  @Test
  void sameCommandsGiveTheSameStateAndResultsOnEveryReplica() {
    Random r = new Random(1);
    List<MetadataCommand> commands = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      String name = "t" + r.nextInt(20);
      commands.add(r.nextInt(3) == 0 ? delete(name) : create(name, 1 + r.nextInt(5)));
    }
    MetadataState a = new MetadataState();
    MetadataState b = new MetadataState();
    for (MetadataCommand c : commands) {
      assertEquals(a.apply(c), b.apply(c));
    }
    assertEquals(a.toSnapshot(), b.toSnapshot());
    MetadataState restored = new MetadataState();
    restored.restore(a.toSnapshot());
    assertEquals(a.toSnapshot(), restored.toSnapshot());
  }

  @Test
  void errorsAndTopicIds() {
    MetadataState s = new MetadataState();
    assertEquals(1, s.apply(create("a", 2)).getTopic().getTopicId());
    assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS.getNumber(), s.apply(create("a", 2)).getErrorCode());
    assertEquals(ErrorCode.INVALID_TOPIC.getNumber(), s.apply(create("a b", 2)).getErrorCode());
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.getNumber(), s.apply(delete("zz")).getErrorCode());
    s.apply(delete("a"));
    assertEquals(2, s.apply(create("a", 2)).getTopic().getTopicId(), "a re-created topic gets a new id");
  }

  @Test
  void placementSpreadsLeadersAndReplicas() {
    var placement = Placement.place("orders", 6, 3, List.of(3, 1, 2));
    int[] leads = new int[4];
    for (var p : placement) {
      assertEquals(3, p.getReplicasCount());
      assertEquals(3, p.getReplicasList().stream().distinct().count());
      leads[p.getReplicas(0)]++;
    }
    assertEquals(2, leads[1]);
    assertEquals(2, leads[2]);
    assertEquals(2, leads[3]);
  }
}
