package io.ratislog.client;

import io.ratislog.proto.DescribeGroupRequest;
import io.ratislog.proto.DescribeGroupResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchCommittedOffsetRequest;
import io.ratislog.proto.FetchCommittedOffsetResponse;
import io.ratislog.proto.GroupMember;
import io.ratislog.proto.GroupSummary;
import io.ratislog.proto.ListGroupsRequest;
import io.ratislog.proto.ListGroupsResponse;
import io.ratislog.proto.ResetOffsetsRequest;
import io.ratislog.proto.ResetOffsetsResponse;
import io.ratislog.proto.ResetTarget;
import io.ratislog.proto.TopicPartitions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Consumer-group administration: list groups, describe one (members, assignment, and per partition the
 * committed offset, the log end and the lag), and reset a group's committed offsets.
 */
public final class GroupAdmin implements AutoCloseable {
  /** One partition of a described group. {@code committed} is -1 when the group never committed there. */
  public record PartitionOffsets(String topic, int partition, String member, long committed, long logEnd) {
    /** Records not yet committed by the group: log end - committed (the whole log when nothing was committed). */
    public long lag() {
      return logEnd - Math.max(0, committed);
    }
  }

  /** A described group. */
  public record GroupDescription(String group, long generation, String assignor, List<String> members,
                                 List<PartitionOffsets> partitions) {
  }

  private final ClusterConnection conn;
  private final GroupCalls calls;
  private final long timeoutMs;

  /**
   * @param bootstrap {@code host:port,...}
   * @param timeoutMs bound of each operation
   * @param channelFactory opens channels
   */
  public GroupAdmin(String bootstrap, long timeoutMs, ChannelFactory channelFactory) {
    this.conn = new ClusterConnection(bootstrap, Math.min(timeoutMs, 10_000), channelFactory);
    this.calls = new GroupCalls(conn, Math.min(timeoutMs, 10_000));
    this.timeoutMs = timeoutMs;
  }

  private static RatislogException failure(io.ratislog.proto.Error e) {
    return new RatislogException(e.getCode(), e.getMessage());
  }

  /** Every group with its generation and member count. */
  public List<GroupSummary> listGroups() {
    ListGroupsResponse r = calls.coordinator("ListGroups", s -> s.listGroups(ListGroupsRequest.getDefaultInstance()),
        ListGroupsResponse::getError, null, timeoutMs);
    if (r.getError().getCode() != ErrorCode.NONE) {
      throw failure(r.getError());
    }
    return r.getGroupsList();
  }

  /** Members, assignment, and each known partition's committed offset, log end and lag. */
  public GroupDescription describeGroup(String group) {
    DescribeGroupResponse d = calls.coordinator("DescribeGroup",
        s -> s.describeGroup(DescribeGroupRequest.newBuilder().setGroup(group).build()),
        DescribeGroupResponse::getError, null, timeoutMs);
    if (d.getError().getCode() != ErrorCode.NONE) {
      throw failure(d.getError());
    }
    Map<TopicPartition, String> owners = new HashMap<>();
    List<String> members = new ArrayList<>();
    for (GroupMember m : d.getMembersList()) {
      members.add(m.getMemberId());
      for (TopicPartitions tps : m.getAssignmentList()) {
        for (int p : tps.getPartitionsList()) {
          owners.put(new TopicPartition(tps.getTopic(), p), m.getMemberId());
        }
      }
    }
    List<PartitionOffsets> partitions = new ArrayList<>();
    for (String topic : d.getKnownTopicsList()) {
      ClusterConnection.TopicMetadata md;
      try {
        md = conn.refresh(topic).get();
      } catch (Exception e) {
        RatislogException re = RatislogException.wrap(e);
        if (re.code() == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          continue; // deleted since the group subscribed to it
        }
        throw re;
      }
      for (int p = 0; p < md.partitionCount(); p++) {
        TopicPartition tp = new TopicPartition(topic, p);
        FetchCommittedOffsetResponse c = calls.partition("FetchCommittedOffset", tp,
            s -> s.fetchCommittedOffset(FetchCommittedOffsetRequest.newBuilder().setGroup(group).setTopic(topic)
                .setPartition(tp.partition()).build()),
            FetchCommittedOffsetResponse::getError, r -> r.hasLeader() ? r.getLeader() : null, timeoutMs);
        if (c.getError().getCode() != ErrorCode.NONE) {
          throw failure(c.getError());
        }
        partitions.add(new PartitionOffsets(topic, p, owners.getOrDefault(tp, "-"), c.getOffset(), c.getLogEndOffset()));
      }
    }
    return new GroupDescription(d.getGroup(), d.getGeneration(), d.getAssignor().name(), members, partitions);
  }

  /**
   * Sets the group's committed offset on every partition of a topic: the log start, the log end, or a given
   * offset. Returns the offsets set, by partition.
   */
  public Map<Integer, Long> resetOffsets(String group, String topic, ResetTarget target, long offset) {
    ClusterConnection.TopicMetadata md;
    try {
      md = conn.refresh(topic).get();
    } catch (Exception e) {
      throw RatislogException.wrap(e);
    }
    Map<Integer, Long> result = new java.util.TreeMap<>();
    for (int p = 0; p < md.partitionCount(); p++) {
      TopicPartition tp = new TopicPartition(topic, p);
      ResetOffsetsResponse r = calls.partition("ResetOffsets", tp,
          s -> s.resetOffsets(ResetOffsetsRequest.newBuilder().setGroup(group).setTopic(topic)
              .setPartition(tp.partition()).setTarget(target).setOffset(offset).build()),
          ResetOffsetsResponse::getError, x -> x.hasLeader() ? x.getLeader() : null, timeoutMs);
      if (r.getError().getCode() != ErrorCode.NONE) {
        throw failure(r.getError());
      }
      result.put(p, r.getOffset());
    }
    return result;
  }

  @Override
  public void close() {
    conn.close();
  }
}
