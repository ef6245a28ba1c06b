package io.ratislog.server.partition;

import io.ratislog.server.entries.PartitionEntry;
import io.ratislog.server.entries.RetentionEntry;
import io.ratislog.server.entries.RetentionResult;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.metadata.TopicConfigs;
import io.ratislog.server.raft.GroupIds;
import io.ratislog.server.raft.ShadedBytes;
import java.io.Closeable;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces topics' {@code retention.ms} / {@code retention.bytes} on the partitions this node leads: every
 * interval it runs {@link RetentionPolicy} on each led partition's segments with its own clock, and when the log
 * start should move, proposes a {@link RetentionEntry} carrying the decided offset (and the time and limits it
 * was decided with) to the partition's Raft group. Followers never decide; they apply the entry. At most one
 * proposal per partition is in flight.
 */
public final class RetentionManager implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionManager.class);

  private final RaftServer server;
  private final MetadataState metadata;
  private final long intervalMs;
  private final ScheduledExecutorService timer;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Set<RaftGroupId> inFlight = ConcurrentHashMap.newKeySet();

  public RetentionManager(int nodeId, RaftServer server, MetadataState metadata, long intervalMs) {
    this.server = server;
    this.metadata = metadata;
    this.intervalMs = intervalMs;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "retention-" + nodeId);
      t.setDaemon(true);
      return t;
    });
  }

  public void start() {
    timer.scheduleWithFixedDelay(this::runOnce, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  /** One pass over the led partitions (also for tests). */
  void runOnce() {
    try {
      Map<Long, TopicRecord> topics = new HashMap<>();
      for (TopicRecord t : metadata.topics()) {
        topics.put(t.getTopicId(), t);
      }
      for (RaftGroupId gid : server.getGroupIds()) {
        if (!GroupIds.isPartition(gid) || inFlight.contains(gid)) {
          continue;
        }
        TopicRecord topic = topics.get(GroupIds.topicIdOf(gid));
        if (topic == null) {
          continue;
        }
        long retentionMs = TopicConfigs.retentionMs(topic.getConfigsMap());
        long retentionBytes = TopicConfigs.retentionBytes(topic.getConfigsMap());
        if (retentionMs < 0 && retentionBytes < 0) {
          continue;
        }
        check(gid, retentionMs, retentionBytes);
      }
    } catch (RuntimeException e) {
      LOG.warn("retention pass failed: {}", e.toString());
    }
  }

  private void check(RaftGroupId gid, long retentionMs, long retentionBytes) {
    RaftServer.Division d;
    try {
      d = server.getDivision(gid);
    } catch (IOException e) {
      return;
    }
    if (!d.getInfo().isLeader() || !(d.getStateMachine() instanceof PartitionStateMachine sm) || !sm.isServing()) {
      return;
    }
    long now = System.currentTimeMillis();
    long target;
    try {
      List<RetentionPolicy.SegmentInfo> segments = sm.retentionView();
      target = RetentionPolicy.newLogStart(segments, now, retentionMs, retentionBytes);
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: no retention decision: {}", gid, e.toString());
      return;
    }
    if (target <= sm.logStartOffset()) {
      return;
    }
    PartitionEntry entry = PartitionEntry.newBuilder().setRetention(RetentionEntry.newBuilder()
        .setLogStartOffset(target).setDecidedMs(now).setRetentionMs(retentionMs).setRetentionBytes(retentionBytes))
        .build();
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server.getId())
        .setGroupId(gid)
        .setCallId(callIds.incrementAndGet())
        .setMessage(ShadedBytes.toMessage(entry))
        .setType(RaftClientRequest.writeRequestType())
        .build();
    inFlight.add(gid);
    try {
      server.submitClientRequestAsync(request).orTimeout(30, TimeUnit.SECONDS).whenComplete((reply, t) -> {
        inFlight.remove(gid);
        if (t != null || !reply.isSuccess()) {
          LOG.info("{}: retention to offset {} not applied: {}", gid, target, t != null ? t.toString() : reply.getException());
          return;
        }
        try {
          RetentionResult r = ShadedBytes.parse(RetentionResult.parser(), reply.getMessage().getContent());
          if (r.getErrorCode() != 0) {
            LOG.warn("{}: retention to offset {} refused: {}", gid, target, r.getErrorMessage());
          }
        } catch (IOException e) {
          LOG.warn("{}: unreadable retention result: {}", gid, e.toString());
        }
      });
    } catch (IOException e) {
      inFlight.remove(gid);
      LOG.debug("{}: cannot propose retention: {}", gid, e.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
