package io.ratislog.server.group;

import io.ratislog.server.entries.ExpireMemberCommand;
import io.ratislog.server.entries.GroupMemberRecord;
import io.ratislog.server.entries.GroupRecord;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.raft.GroupIds;
import java.io.Closeable;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer-group sessions, kept by the metadata group's leader in memory only (heartbeats are not Raft entries).
 *
 * <p>{@link #heartbeat} records when a member was last heard of. A reaper runs every {@value #REAP_INTERVAL_MS} ms
 * on every node but acts only while this node leads the metadata group and has applied every committed entry:
 * for each member of each group it proposes one {@link ExpireMemberCommand} (stamped with this node's clock and
 * the generation it saw) once the member was silent for longer than its session timeout. A member this leader
 * has not heard of yet — every member right after a leader change, and every new member — starts with a fresh
 * grace period: its clock starts when this leader first sees it. A change of Raft term clears everything, so a
 * node that lost and regained leadership does not trust times from its previous term.
 */
public final class GroupSessions implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupSessions.class);
  static final long REAP_INTERVAL_MS = 200;

  private record Key(String group, String member) {
  }

  private final RaftServer server;
  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final LongSupplier clockMs;
  private final Map<Key, Long> lastHeard = new ConcurrentHashMap<>();
  private final Set<Key> expiring = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService reaper;
  private volatile long term = -1;

  public GroupSessions(int nodeId, RaftServer server, MetadataState metadata, MetadataClient metadataClient) {
    this.server = server;
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.clockMs = System::currentTimeMillis;
    this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "group-reaper-" + nodeId);
      t.setDaemon(true);
      return t;
    });
  }

  public void start() {
    reaper.scheduleWithFixedDelay(this::reapSafely, REAP_INTERVAL_MS, REAP_INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Whether this node leads the metadata group and has applied everything committed, so that its replica of
   * the groups is current: only then may it answer heartbeats.
   */
  public boolean isReadyLeader() {
    try {
      RaftServer.Division d = server.getDivision(GroupIds.metadata());
      if (!d.getInfo().isLeader() || !d.getInfo().isLeaderReady()) {
        return false;
      }
      checkTerm(d.getInfo().getCurrentTerm());
      return d.getInfo().getLastAppliedIndex() >= d.getRaftLog().getLastCommittedIndex();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private void checkTerm(long current) {
    if (current != term) {
      lastHeard.clear();
      term = current;
    }
  }

  /** Records a heartbeat of a member (the caller checked that it is a member and that this node leads). */
  public void heartbeat(String group, String member) {
    lastHeard.put(new Key(group, member), clockMs.getAsLong());
  }

  private void reapSafely() {
    try {
      reap();
    } catch (RuntimeException e) {
      LOG.warn("group session reaper: {}", e.toString());
    }
  }

  private void reap() {
    if (!isReadyLeader()) {
      return;
    }
    long now = clockMs.getAsLong();
    Set<Key> live = new HashSet<>();
    for (GroupRecord g : metadata.groups()) {
      for (GroupMemberRecord m : g.getMembersList()) {
        Key k = new Key(g.getName(), m.getMemberId());
        live.add(k);
        long last = lastHeard.computeIfAbsent(k, x -> now); // fresh grace period for members new to this leader
        if (now - last > m.getSessionTimeoutMs() && expiring.add(k)) {
          propose(g, m, now, k);
        }
      }
    }
    lastHeard.keySet().retainAll(live);
  }

  private void propose(GroupRecord g, GroupMemberRecord m, long now, Key k) {
    LOG.info("group {}: member {} silent for more than {} ms, expiring it (generation {})", g.getName(),
        m.getMemberId(), m.getSessionTimeoutMs(), g.getGeneration());
    MetadataCommand c = MetadataCommand.newBuilder().setExpireMember(ExpireMemberCommand.newBuilder()
        .setGroup(g.getName()).setMemberId(m.getMemberId()).setGeneration(g.getGeneration())
        .setExpireTimeMs(now)).build();
    metadataClient.submit(c).whenComplete((r, t) -> {
      expiring.remove(k);
      if (t != null) {
        LOG.debug("expiring {} failed: {}", k, t.toString());
      }
    });
  }

  @Override
  public void close() {
    reaper.shutdownNow();
  }
}
