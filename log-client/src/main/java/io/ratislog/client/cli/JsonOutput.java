package io.ratislog.client.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ratislog.client.GroupAdmin;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.TopicDescription;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.GroupSummary;
import io.ratislog.proto.NodeStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code --output json} forms of logctl's listings: one JSON document per command, on one line, with
 * snake_case keys and {@code null} for unknown values (no leader, nothing committed). Field names are part of
 * logctl's interface for scripts; add fields, do not rename them.
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
      out.add(nm);
    }
    m.put("nodes", out);
    return m;
  }
}
