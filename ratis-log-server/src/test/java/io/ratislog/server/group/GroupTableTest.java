package io.ratislog.server.group;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.proto.Assignor;
import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.ExpireMemberCommand;
import io.ratislog.server.entries.GroupRecord;
import io.ratislog.server.entries.JoinGroupCommand;
import io.ratislog.server.entries.LeaveGroupCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.metadata.Placement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Group membership in the metadata state machine: determinism, generations, assignments, errors. */
class GroupTableTest {
  private static MetadataCommand topic(String name, int partitions) {
    return MetadataCommand.newBuilder().setCreateTopic(CreateTopicCommand.newBuilder().setName(name)
        .setReplicationFactor(3).addAllPartitions(Placement.place(name, partitions, 3, List.of(1, 2, 3)))).build();
  }

  private static MetadataCommand join(String group, String member, long time, String... topics) {
    return MetadataCommand.newBuilder().setJoinGroup(JoinGroupCommand.newBuilder().setGroup(group).setMemberId(member)
        .addAllTopics(List.of(topics)).setSessionTimeoutMs(5000).setAssignor(Assignor.RANGE_VALUE)
        .setClientId("c").setJoinTimeMs(time)).build();
  }

  private static MetadataCommand leave(String group, String member) {
    return MetadataCommand.newBuilder().setLeaveGroup(LeaveGroupCommand.newBuilder().setGroup(group).setMemberId(member)).build();
  }

  private static MetadataCommand expire(String group, String member, long generation) {
    return MetadataCommand.newBuilder().setExpireMember(ExpireMemberCommand.newBuilder().setGroup(group)
        .setMemberId(member).setGeneration(generation).setExpireTimeMs(9)).build();
  }

  @Test
  void sameEntriesGiveTheSameGroupsAndGenerationsOnTwoReplicas() {
    Random r = new Random(3);
    List<MetadataCommand> commands = new ArrayList<>();
    commands.add(topic("a", 6));
    commands.add(topic("b", 3));
    for (int i = 0; i < 400; i++) {
      String group = "g" + r.nextInt(3);
      String member = r.nextBoolean() ? "" : "c-" + (1 + r.nextInt(8));
      commands.add(switch (r.nextInt(5)) {
        case 0, 1 -> join(group, member, i, r.nextBoolean() ? "a" : "b");
        case 2 -> leave(group, member);
        case 3 -> expire(group, member, r.nextInt(20));
        default -> topic("t" + r.nextInt(4), 1 + r.nextInt(4));
      });
    }
    MetadataState x = new MetadataState();
    MetadataState y = new MetadataState();
    for (MetadataCommand c : commands) {
      assertEquals(x.apply(c), y.apply(c));
    }
    assertEquals(x.toSnapshot(), y.toSnapshot());
    MetadataState restored = new MetadataState();
    restored.restore(x.toSnapshot());
    assertEquals(x.groups(), restored.groups(), "groups are part of the metadata snapshot");
  }

  @Test
  void everyMembershipChangeBumpsTheGenerationAndReassigns() {
    MetadataState s = new MetadataState();
    s.apply(topic("t", 6));
    MetadataResult j1 = s.apply(join("g", "", 1, "t"));
    assertEquals("c-1", j1.getMemberId());
    assertEquals(1, j1.getGroup().getGeneration());
    assertEquals(List.of(0, 1, 2, 3, 4, 5), j1.getGroup().getMembers(0).getAssignment(0).getPartitionsList());
    MetadataResult j2 = s.apply(join("g", "", 2, "t"));
    assertEquals(2, j2.getGroup().getGeneration());
    assertEquals(List.of(3, 4, 5), j2.getGroup().getMembers(1).getAssignment(0).getPartitionsList());
    assertEquals(2, s.apply(join("g", "c-1", 3, "t")).getGroup().getGeneration(), "same subscription: no rebalance");
    assertEquals(ErrorCode.REBALANCE_IN_PROGRESS_VALUE, s.apply(expire("g", "c-1", 1)).getErrorCode(),
        "an expiry proposed for an older generation does nothing");
    assertEquals(3, s.apply(expire("g", "c-1", 2)).getGroup().getGeneration());
    GroupRecord g = s.group("g").orElseThrow();
    assertEquals(1, g.getMembersCount());
    assertEquals(List.of(0, 1, 2, 3, 4, 5), g.getMembers(0).getAssignment(0).getPartitionsList());
    assertEquals(4, s.apply(leave("g", "c-2")).getGroup().getGeneration());
    assertEquals(0, s.group("g").orElseThrow().getMembersCount());
    assertEquals(5, s.apply(join("g", "", 5, "t")).getGroup().getGeneration(), "an empty group keeps counting");
    assertEquals(6, s.apply(topic("u", 2)).getErrorCode() == 0 ? s.apply(join("g", "c-3", 6, "t", "u")).getGroup().getGeneration() : -1);
    assertEquals(7, s.apply(topic("u2", 1)).getErrorCode() == 0 && s.apply(join("g", "c-3", 7, "u2")).getErrorCode() == 0
        ? s.group("g").orElseThrow().getGeneration() : -1);
  }

  @Test
  void creatingASubscribedTopicRebalances() {
    MetadataState s = new MetadataState();
    s.apply(join("g", "", 1, "later"));
    assertEquals(1, s.group("g").orElseThrow().getGeneration());
    assertEquals(0, s.group("g").orElseThrow().getMembers(0).getAssignmentCount());
    s.apply(topic("later", 2));
    assertEquals(2, s.group("g").orElseThrow().getGeneration());
    assertEquals(List.of(0, 1), s.group("g").orElseThrow().getMembers(0).getAssignment(0).getPartitionsList());
    s.apply(topic("unrelated", 2));
    assertEquals(2, s.group("g").orElseThrow().getGeneration(), "a topic nobody subscribes to changes nothing");
  }

  @Test
  void badInputGetsItsErrorCode() {
    MetadataState s = new MetadataState();
    assertEquals(ErrorCode.UNKNOWN_MEMBER_ID_VALUE, s.apply(join("g", "nobody", 1, "t")).getErrorCode());
    assertEquals(ErrorCode.UNKNOWN_GROUP_VALUE, s.apply(leave("nogroup", "x")).getErrorCode());
    assertEquals(ErrorCode.INVALID_REQUEST_VALUE, s.apply(join("bad group", "", 1, "t")).getErrorCode());
    assertEquals(ErrorCode.INVALID_REQUEST_VALUE, s.apply(join("g", "", 1)).getErrorCode());
    s.apply(join("g", "", 1, "t"));
    assertEquals(ErrorCode.UNKNOWN_MEMBER_ID_VALUE, s.apply(leave("g", "x")).getErrorCode());
    MetadataCommand rr = MetadataCommand.newBuilder().setJoinGroup(JoinGroupCommand.newBuilder().setGroup("g")
        .addTopics("t").setSessionTimeoutMs(5000).setAssignor(Assignor.ROUND_ROBIN_VALUE)).build();
    assertEquals(ErrorCode.INVALID_REQUEST_VALUE, s.apply(rr).getErrorCode(), "assignor differs from the group's");
    MetadataCommand shortSession = MetadataCommand.newBuilder().setJoinGroup(JoinGroupCommand.newBuilder().setGroup("g")
        .addTopics("t").setSessionTimeoutMs(10)).build();
    assertEquals(ErrorCode.INVALID_REQUEST_VALUE, s.apply(shortSession).getErrorCode());
  }
}
