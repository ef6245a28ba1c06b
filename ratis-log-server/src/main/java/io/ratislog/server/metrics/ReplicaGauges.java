package io.ratislog.server.metrics;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.partition.CommittedOffsetTable;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.GroupIds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;

/**
 * Gauges of the replicas this node holds, re-registered before every scrape because partitions come and go:
 * per partition (labels topic, partition) the log start and end offsets, stored bytes and segments, idempotent
 * producer sessions, apply lag (committed but not yet applied Raft entries) and whether this node leads it; per
 * consumer group on partitions this node leads (labels group, topic, partition) the committed offset and the
 * lag (log end minus committed offset); for the metadata group its apply lag, leadership, topics and groups.
 *
 * <p>Every replica reports its own view of a partition's offsets; a dashboard takes the max over nodes. Group
 * offsets come from the leader only, so each appears once.
 */
final class ReplicaGauges {
  private final MetricRegistry registry;
  private final RaftServer server;
  private final MetadataState metadata;
  private final List<String> registered = new ArrayList<>();

  ReplicaGauges(MetricRegistry registry, RaftServer server, MetadataState metadata) {
    this.registry = registry;
    this.server = server;
    this.metadata = metadata;
  }

  /** Replaces the previous scrape's replica gauges with the current replicas'. */
  synchronized void refresh() {
    registered.forEach(registry::remove);
    registered.clear();
    Map<Long, String> topicNames = new HashMap<>();
    for (TopicRecord t : metadata.topics()) {
      topicNames.put(t.getTopicId(), t.getName());
    }
    Iterable<RaftGroupId> groups;
    try {
      groups = server.getGroupIds();
    } catch (RuntimeException e) {
      return;
    }
    for (RaftGroupId gid : groups) {
      RaftServer.Division d;
      try {
        d = server.getDivision(gid);
      } catch (IOException | RuntimeException e) {
        continue;
      }
      if (GroupIds.isMetadata(gid)) {
        add("ratislog.metadata.leader", () -> d.getInfo().isLeader() ? 1 : 0);
        add("ratislog.metadata.apply_lag", () -> applyLag(d));
        add("ratislog.metadata.topics", () -> metadata.topics().size());
        add("ratislog.metadata.groups", () -> metadata.groups().size());
      } else if (GroupIds.isPartition(gid) && d.getStateMachine() instanceof PartitionStateMachine sm) {
        long topicId = GroupIds.topicIdOf(gid);
        String topic = topicNames.getOrDefault(topicId, "#" + topicId);
        String partition = String.valueOf(GroupIds.partitionOf(gid));
        String[] labels = {"topic", topic, "partition", partition};
        add(MetricNames.tagged("ratislog.partition.log_start_offset", labels), sm::logStartOffset);
        add(MetricNames.tagged("ratislog.partition.log_end_offset", labels), sm::logEndOffset);
        add(MetricNames.tagged("ratislog.partition.size_bytes", labels), sm::sizeInBytes);
        add(MetricNames.tagged("ratislog.partition.segments", labels), sm::segmentCount);
        add(MetricNames.tagged("ratislog.partition.producer_sessions", labels), sm::producerSessions);
        add(MetricNames.tagged("ratislog.partition.apply_lag", labels), () -> applyLag(d));
        add(MetricNames.tagged("ratislog.partition.leader", labels), () -> d.getInfo().isLeader() ? 1 : 0);
        if (d.getInfo().isLeader() && sm.isServing()) {
          for (Map.Entry<String, CommittedOffsetTable.Committed> g : sm.committedOffsets().entrySet()) {
            if (g.getValue().offset() < 0) {
              continue;
            }
            String[] gl = {"group", g.getKey(), "topic", topic, "partition", partition};
            long committed = g.getValue().offset();
            add(MetricNames.tagged("ratislog.group.committed_offset", gl), () -> committed);
            add(MetricNames.tagged("ratislog.group.lag", gl), () -> Math.max(0, sm.logEndOffset() - committed));
          }
        }
      }
    }
  }

  private static long applyLag(RaftServer.Division d) {
    return Math.max(0, d.getRaftLog().getLastCommittedIndex() - d.getInfo().getLastAppliedIndex());
  }

  /** Registers a gauge that reads nothing (is skipped by the export) while the replica is closed or loading. */
  private void add(String name, Supplier<Number> value) {
    Gauge<Number> g = () -> {
      try {
        return value.get();
      } catch (RuntimeException e) {
        return null;
      }
    };
    registry.register(name, g);
    registered.add(name);
  }
}
