package io.ratislog.server.group;

import io.ratislog.proto.Assignor;
import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AssignedPartitions;
import io.ratislog.server.entries.ExpireMemberCommand;
import io.ratislog.server.entries.GroupMemberRecord;
import io.ratislog.server.entries.GroupRecord;
import io.ratislog.server.entries.JoinGroupCommand;
import io.ratislog.server.entries.LeaveGroupCommand;
import io.ratislog.server.entries.MetadataResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Consumer-group membership as the metadata group's state machine holds it.
 *
 * <p>Every membership change — a join, a subscription change, a leave, an expiry, or a topic change that
 * alters an assignment — bumps the group's generation by one and recomputes the whole assignment with the
 * group's {@link Assignors assignor} from the sorted member ids and their topics' partition counts. Member ids
 * are made here, from the join's client id and the group's member counter. Nothing reads a clock: times come
 * from the commands. So the same commands give the same groups, generations and assignments on every replica.
 *
 * <p>Groups are never removed, even when empty: a partition fences commits by the highest generation it has
 * seen for a group name, so a group's generation must never start again from 1.
 *
 * <p>Not thread-safe: {@link io.ratislog.server.metadata.MetadataState} serialises access.
 */
public final class GroupTable {
  public static final int MIN_SESSION_TIMEOUT_MS = 1_000;
  public static final int MAX_SESSION_TIMEOUT_MS = 300_000;
  public static final int MAX_CLIENT_ID_LENGTH = 64;
  private static final Pattern LEGAL_CLIENT_ID = Pattern.compile("[A-Za-z0-9._-]*");

  private final Map<String, GroupRecord> groups = new TreeMap<>();

  /** What a group name may be (the rules of topic names), or null when it is fine. */
  public static String nameProblem(String group) {
    String p = io.ratislog.server.metadata.TopicNames.problem(group);
    return p == null ? null : p.replace("topic name", "group name");
  }

  public MetadataResult join(JoinGroupCommand c, Map<String, Integer> topicPartitions) {
    String problem = nameProblem(c.getGroup());
    if (problem != null) {
      return error(ErrorCode.INVALID_REQUEST, problem);
    }
    if (c.getTopicsCount() == 0) {
      return error(ErrorCode.INVALID_REQUEST, "a member must subscribe to at least one topic");
    }
    for (String t : c.getTopicsList()) {
      String tp = io.ratislog.server.metadata.TopicNames.problem(t);
      if (tp != null) {
        return error(ErrorCode.INVALID_TOPIC, tp);
      }
    }
    if (c.getSessionTimeoutMs() < MIN_SESSION_TIMEOUT_MS || c.getSessionTimeoutMs() > MAX_SESSION_TIMEOUT_MS) {
      return error(ErrorCode.INVALID_REQUEST, "session_timeout_ms must be in " + MIN_SESSION_TIMEOUT_MS + ".."
          + MAX_SESSION_TIMEOUT_MS + ", got " + c.getSessionTimeoutMs());
    }
    Assignor assignor = Assignor.forNumber(c.getAssignor());
    if (assignor == null) {
      return error(ErrorCode.INVALID_REQUEST, "unknown assignor " + c.getAssignor());
    }
    if (c.getClientId().length() > MAX_CLIENT_ID_LENGTH || !LEGAL_CLIENT_ID.matcher(c.getClientId()).matches()) {
      return error(ErrorCode.INVALID_REQUEST, "client_id must be at most " + MAX_CLIENT_ID_LENGTH
          + " characters of [A-Za-z0-9._-]");
    }
    GroupRecord g = groups.get(c.getGroup());
    if (g == null) {
      g = GroupRecord.newBuilder().setName(c.getGroup()).setGeneration(0).setAssignor(assignor.getNumber())
          .setNextMemberSeq(1).build();
    }
    TreeMap<String, GroupMemberRecord> members = membersOf(g);
    List<String> topics = new ArrayList<>(new TreeSet<>(c.getTopicsList()));
    String memberId = c.getMemberId();
    GroupRecord.Builder b = g.toBuilder();
    if (!memberId.isEmpty()) {
      GroupMemberRecord m = members.get(memberId);
      if (m == null) {
        return error(ErrorCode.UNKNOWN_MEMBER_ID, "group '" + c.getGroup() + "' has no member '" + memberId
            + "' (it left or its session expired): join with an empty member id");
      }
      if (m.getTopicsList().equals(topics) && m.getSessionTimeoutMs() == c.getSessionTimeoutMs()) {
        return MetadataResult.newBuilder().setGroup(g).setMemberId(memberId).build(); // nothing changed
      }
      members.put(memberId, m.toBuilder().clearTopics().addAllTopics(topics)
          .setSessionTimeoutMs(c.getSessionTimeoutMs()).build());
    } else {
      if (!members.isEmpty() && g.getAssignor() != assignor.getNumber()) {
        return error(ErrorCode.INVALID_REQUEST, "group '" + c.getGroup() + "' uses the "
            + Assignor.forNumber(g.getAssignor()) + " assignor; a member asking for " + assignor + " cannot join");
      }
      if (members.isEmpty()) {
        b.setAssignor(assignor.getNumber());
      }
      memberId = (c.getClientId().isEmpty() ? "member" : c.getClientId()) + "-" + g.getNextMemberSeq();
      b.setNextMemberSeq(g.getNextMemberSeq() + 1);
      members.put(memberId, GroupMemberRecord.newBuilder().setMemberId(memberId).addAllTopics(topics)
          .setSessionTimeoutMs(c.getSessionTimeoutMs()).setJoinedMs(c.getJoinTimeMs()).build());
    }
    Set<String> known = new TreeSet<>(g.getKnownTopicsList());
    known.addAll(topics);
    b.clearKnownTopics().addAllKnownTopics(known);
    GroupRecord updated = rebalance(b, members, topicPartitions);
    groups.put(updated.getName(), updated);
    return MetadataResult.newBuilder().setGroup(updated).setMemberId(memberId).build();
  }

  public MetadataResult leave(LeaveGroupCommand c, Map<String, Integer> topicPartitions) {
    GroupRecord g = groups.get(c.getGroup());
    if (g == null) {
      return error(ErrorCode.UNKNOWN_GROUP, "no consumer group '" + c.getGroup() + "'");
    }
    return remove(g, c.getMemberId(), topicPartitions);
  }

  /** Removes a member the leader found silent, unless the group moved past the generation it saw. */
  public MetadataResult expire(ExpireMemberCommand c, Map<String, Integer> topicPartitions) {
    GroupRecord g = groups.get(c.getGroup());
    if (g == null) {
      return error(ErrorCode.UNKNOWN_GROUP, "no consumer group '" + c.getGroup() + "'");
    }
    if (g.getGeneration() != c.getGeneration()) {
      return error(ErrorCode.REBALANCE_IN_PROGRESS, "group '" + c.getGroup() + "' moved to generation "
          + g.getGeneration() + " since the expiry was proposed at " + c.getGeneration() + "; not expiring");
    }
    return remove(g, c.getMemberId(), topicPartitions);
  }

  private MetadataResult remove(GroupRecord g, String memberId, Map<String, Integer> topicPartitions) {
    TreeMap<String, GroupMemberRecord> members = membersOf(g);
    if (members.remove(memberId) == null) {
      return error(ErrorCode.UNKNOWN_MEMBER_ID, "group '" + g.getName() + "' has no member '" + memberId + "'");
    }
    GroupRecord updated = rebalance(g.toBuilder(), members, topicPartitions);
    groups.put(updated.getName(), updated);
    return MetadataResult.newBuilder().setGroup(updated).setMemberId(memberId).build();
  }

  /**
   * After topics were created or deleted: recomputes every group's assignment and bumps the generation of the
   * groups whose assignment changed.
   */
  public void onTopicsChanged(Map<String, Integer> topicPartitions) {
    for (GroupRecord g : new ArrayList<>(groups.values())) {
      if (g.getMembersCount() == 0) {
        continue;
      }
      GroupRecord recomputed = withAssignment(g.toBuilder(), membersOf(g), topicPartitions).build();
      if (!recomputed.getMembersList().equals(g.getMembersList())) {
        groups.put(g.getName(), recomputed.toBuilder().setGeneration(g.getGeneration() + 1).build());
      }
    }
  }

  private GroupRecord rebalance(GroupRecord.Builder b, TreeMap<String, GroupMemberRecord> members,
                                Map<String, Integer> topicPartitions) {
    return withAssignment(b, members, topicPartitions).setGeneration(b.getGeneration() + 1).build();
  }

  private static GroupRecord.Builder withAssignment(GroupRecord.Builder b, TreeMap<String, GroupMemberRecord> members,
                                                    Map<String, Integer> topicPartitions) {
    Map<String, Set<String>> subs = new TreeMap<>();
    members.forEach((id, m) -> subs.put(id, new TreeSet<>(m.getTopicsList())));
    SortedMap<String, SortedMap<String, List<Integer>>> assignment =
        Assignors.assign(Assignor.forNumber(b.getAssignor()), subs, topicPartitions);
    b.clearMembers();
    for (GroupMemberRecord m : members.values()) {
      GroupMemberRecord.Builder mb = m.toBuilder().clearAssignment();
      assignment.get(m.getMemberId()).forEach((t, ps) ->
          mb.addAssignment(AssignedPartitions.newBuilder().setTopic(t).addAllPartitions(ps)));
      b.addMembers(mb);
    }
    return b;
  }

  private static TreeMap<String, GroupMemberRecord> membersOf(GroupRecord g) {
    TreeMap<String, GroupMemberRecord> m = new TreeMap<>();
    g.getMembersList().forEach(r -> m.put(r.getMemberId(), r));
    return m;
  }

  public Optional<GroupRecord> group(String name) {
    return Optional.ofNullable(groups.get(name));
  }

  public List<GroupRecord> groups() {
    return new ArrayList<>(groups.values());
  }

  public void restore(List<GroupRecord> records) {
    groups.clear();
    records.forEach(r -> groups.put(r.getName(), r));
  }

  private static MetadataResult error(ErrorCode code, String message) {
    return MetadataResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message).build();
  }
}
