package io.ratislog.client.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ratislog.client.GroupAdmin;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.TopicDescription;
import io.ratislog.proto.AclBinding;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.GroupSummary;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.PartitionMove;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
import io.ratislog.proto.ReplicaProgress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code --output json} forms of logctl's listings: one JSON document per command, on one line, with
 * snake_case keys and {@code null} for unknown values (no leader, nothing committed). Field names are part of
 * logctl's interface for scripts; add fields, do not rename them. Long operations (membership changes) print
 * their progress lines on stderr in JSON mode and one document with the outcome on stdout.
 */
public final class JsonOutput {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonOutput() {
  }

  /** One line of JSON for a value made of maps, lists, strings, numbers, booleans and nulls. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value) + System.lineSeparator();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
    }
  }

  /** {@code {"name", "topic_id", "replication_factor", "configs", "partitions": [{"partition", "leader", "replicas"}]}}. */
  public static Map<String, Object> topic(TopicDescription t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", t.name());
    m.put("topic_id", t.topicId());
    m.put("replication_factor", t.replicationFactor());
    m.put("configs", new TreeMap<>(t.configs()));
    List<Object> parts = new ArrayList<>();
    for (PartitionInfo p : t.partitions()) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("partition", p.partition());
      pm.put("leader", p.hasLeader() ? p.leader() : null);
      pm.put("replicas", p.replicas());
      parts.add(pm);
    }
    m.put("partitions", parts);
    return m;
  }

  /** {@code [{"name", "topic_id", "partitions": <count>, "replication_factor", "configs"}]}, by name. */
  public static List<Object> topicList(List<TopicDescription> topics) {
    List<Object> out = new ArrayList<>();
    for (TopicDescription t : topics) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", t.name());
      m.put("topic_id", t.topicId());
      m.put("partitions", t.partitionCount());
      m.put("replication_factor", t.replicationFactor());
      m.put("configs", new TreeMap<>(t.configs()));
      out.add(m);
    }
    return out;
  }

  /** {@code [{"group", "generation", "members", "assignor"}]}. */
  public static List<Object> groupList(List<GroupSummary> groups) {
    List<Object> out = new ArrayList<>();
    for (GroupSummary g : groups) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("group", g.getGroup());
      m.put("generation", g.getGeneration());
      m.put("members", g.getMembers());
      m.put("assignor", g.getAssignor().name());
      out.add(m);
    }
    return out;
  }

  /**
   * {@code {"group", "generation", "assignor", "members": [...], "partitions": [{"topic", "partition", "member",
   * "committed", "log_end", "lag"}]}}.
   */
  public static Map<String, Object> group(GroupAdmin.GroupDescription d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("group", d.group());
    m.put("generation", d.generation());
    m.put("assignor", d.assignor());
    m.put("members", d.members());
    List<Object> parts = new ArrayList<>();
    for (GroupAdmin.PartitionOffsets p : d.partitions()) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("topic", p.topic());
      pm.put("partition", p.partition());
      pm.put("member", p.member() == null || p.member().isEmpty() || p.member().equals("-") ? null : p.member());
      pm.put("committed", p.committed() < 0 ? null : p.committed());
      pm.put("log_end", p.logEnd());
      pm.put("lag", p.lag());
      parts.add(pm);
    }
    m.put("partitions", parts);
    return m;
  }

  /** {@code {"answered_by", "metadata_leader", "nodes": [{"id", "host", "client_port", "up", "metadata_voter"}]}}. */
  public static Map<String, Object> cluster(DescribeClusterResponse r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("answered_by", r.getAnsweredBy());
    m.put("metadata_leader", r.getMetadataLeader() >= 0 ? r.getMetadataLeader() : null);
    List<NodeStatus> nodes = new ArrayList<>(r.getNodesList());
    nodes.sort(Comparator.comparingInt(n -> n.getNode().getId()));
    List<Object> out = new ArrayList<>();
    for (NodeStatus n : nodes) {
      Map<String, Object> nm = new LinkedHashMap<>();
      nm.put("id", n.getNode().getId());
      nm.put("host", n.getNode().getHost());
      nm.put("client_port", n.getNode().getClientPort());
      nm.put("up", n.getUp());
      nm.put("metadata_voter", n.getMetadataVoter());
      nm.put("replicas", n.getReplicaCount());
      nm.put("max_replicas", n.getMaxReplicas() > 0 ? n.getMaxReplicas() : null);
      out.add(nm);
    }
    m.put("nodes", out);
    return m;
  }

  /** {@code {"group", "topic", "partitions": [{"partition", "committed"}]}}, by partition. */
  public static Map<String, Object> resetOffsets(String group, String topic, Map<Integer, Long> committed) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("group", group);
    m.put("topic", topic);
    List<Object> parts = new ArrayList<>();
    new TreeMap<>(committed).forEach((p, o) -> {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("partition", p);
      pm.put("committed", o);
      parts.add(pm);
    });
    m.put("partitions", parts);
    return m;
  }

  /** {@code {"principal", "permission", "operation", "resource_type", "resource_name", "pattern_type"}}. */
  public static Map<String, Object> acl(AclBinding b) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("principal", b.getPrincipal());
    m.put("permission", b.getPermission().name());
    m.put("operation", b.getOperation().name());
    m.put("resource_type", b.getResourceType().name());
    m.put("resource_name", b.getResourceName());
    m.put("pattern_type", b.getPatternType().name());
    return m;
  }

  /** {@code [acl, ...]} (see {@link #acl}). */
  public static List<Object> aclList(List<AclBinding> bindings) {
    List<Object> out = new ArrayList<>();
    bindings.forEach(b -> out.add(acl(b)));
    return out;
  }

  /** {@code {"topic", "partition", "from_replicas", "to_replicas"}}. */
  public static Map<String, Object> move(PartitionMove mv) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("topic", mv.getTopic());
    m.put("partition", mv.getPartition());
    m.put("from_replicas", mv.getFromReplicasList());
    m.put("to_replicas", mv.getToReplicasList());
    return m;
  }

  /** {@code [move, ...]} (see {@link #move}). */
  public static List<Object> moves(List<PartitionMove> moves) {
    List<Object> out = new ArrayList<>();
    moves.forEach(mv -> out.add(move(mv)));
    return out;
  }

  /**
   * A partition as its leader sees it: {@code {"topic", "partition", "replicas", "target_replicas" (empty when no
   * move is under way), "leader" (null when unknown), "voters", "listeners", "leader_commit_index", "step",
   * "progress": [{"node_id", "role", "commit_index" (null when unknown), "caught_up"}]}}.
   */
  public static Map<String, Object> reassignment(String topic, int partition, DescribeReassignmentResponse r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("topic", topic);
    m.put("partition", partition);
    m.put("replicas", r.getReplicasList());
    m.put("target_replicas", r.getTargetReplicasList());
    m.put("leader", r.hasLeader() && r.getLeader().getId() > 0 ? r.getLeader().getId() : null);
    m.put("voters", r.getVotersList());
    m.put("listeners", r.getListenersList());
    m.put("leader_commit_index", r.getLeaderCommitIndex());
    m.put("step", r.getStep());
    m.put("progress", progress(r.getProgressList()));
    return m;
  }

  /**
   * The metadata group after a voter replacement step: {@code {"from_node", "to_node", "done", "step", "voters",
   * "listeners", "leader_commit_index", "progress": [...]}} (progress as in {@link #reassignment}).
   */
  public static Map<String, Object> voterReplacement(int from, int to, ReplaceMetadataVoterResponse r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("from_node", from);
    m.put("to_node", to);
    m.put("done", r.getDone());
    m.put("step", r.getStep());
    m.put("voters", r.getVotersList());
    m.put("listeners", r.getListenersList());
    m.put("leader_commit_index", r.getLeaderCommitIndex());
    m.put("progress", progress(r.getProgressList()));
    return m;
  }

  private static List<Object> progress(List<ReplicaProgress> list) {
    List<Object> out = new ArrayList<>();
    for (ReplicaProgress p : list) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("node_id", p.getNodeId());
      pm.put("role", p.getRole());
      pm.put("commit_index", p.getCommitIndex() < 0 ? null : p.getCommitIndex());
      pm.put("caught_up", p.getCaughtUp());
      out.add(pm);
    }
    return out;
  }
}
