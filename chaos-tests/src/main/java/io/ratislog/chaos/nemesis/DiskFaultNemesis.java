package io.ratislog.chaos.nemesis;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * {@code kill -9} of a random node, then damage to the tail of its files before it restarts (heal), in
 * every partition group it hosts ({@link DiskDamage} says what is touched and why):
 * <ul>
 *   <li>{@code torn-segment} / {@code corrupt-segment}: the last partition segment not covered by a
 *       snapshot loses up to 512 bytes of its tail, or gets 1-4 bytes flipped in it; the server must
 *       truncate the torn or corrupt tail on recovery and the Raft log replays the rest;</li>
 *   <li>{@code torn-raft-log} / {@code corrupt-raft-log}: the open Ratis log segment loses up to 24 bytes
 *       of its tail, or gets 1-4 bytes flipped in its last 16 bytes (inside the last entry); Ratis must
 *       drop the damaged last entry and the node catch up from the leader. Always the same node in a run
 *       (see {@link #raftLogVictim});</li>
 *   <li>{@code lose-unsynced} / {@code lose-unsynced-all}: a power failure of one node / of every node:
 *       every partition segment file the newest snapshot does not name (written since, never forced) is
 *       truncated to 0 bytes; the Raft log, forced before every acknowledgement, is kept whole. The node
 *       must rebuild its segments from its Raft log (or the leader's).</li>
 * </ul>
 * The fault's history note lists each file and what was done to it. Needs a cluster whose node files
 * are reachable ({@link io.ratislog.chaos.cluster.ClusterControl#dataDir}).
 */
public final class DiskFaultNemesis implements Nemesis {
  /** What is damaged, and how. */
  public enum Kind {
    /** The partition segment's unforced tail, truncated. */
    TORN_SEGMENT("torn-segment"),
    /** The partition segment's unforced tail, bytes flipped. */
    CORRUPT_SEGMENT("corrupt-segment"),
    /** The open Raft log segment's last entry, truncated. */
    TORN_RAFT_LOG("torn-raft-log"),
    /** The open Raft log segment's last entry, bytes flipped. */
    CORRUPT_RAFT_LOG("corrupt-raft-log"),
    /** Every partition segment write since the last snapshot (never forced) lost, on one node. */
    LOSE_UNSYNCED("lose-unsynced"),
    /** The same on every node at once: a power failure of the whole cluster. */
    LOSE_UNSYNCED_ALL("lose-unsynced-all");

    private final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  private final Kind kind;

  /**
   * Creates the nemesis.
   *
   * @param kind what to damage
   */
  public DiskFaultNemesis(Kind kind) {
    this.kind = kind;
  }

  @Override
  public String name() {
    return kind.label;
  }

  /**
   * The one node whose Raft log this nemesis damages, for the whole run. The Raft log is forced before an
   * acknowledgement, so its last entry may be acknowledged: damaging it on two nodes in turn (before the
   * first caught up) could destroy a committed entry on a majority, a fault outside the failure model
   * (a minority's disks). One victim per run keeps the damage to a minority of every group.
   */
  private int raftLogVictim = -1;

  @Override
  public Fault plan(NemesisContext ctx) {
    boolean raftLog = kind == Kind.TORN_RAFT_LOG || kind == Kind.CORRUPT_RAFT_LOG;
    if (raftLog && raftLogVictim < 0) {
      raftLogVictim = ctx.randomLiveNode();
    }
    if (raftLog && (!ctx.cluster().isRunning(raftLogVictim) || ctx.cluster().isPaused(raftLogVictim))) {
      return null;
    }
    List<Integer> ids = kind == Kind.LOSE_UNSYNCED_ALL ? ctx.cluster().nodeIds()
        : List.of(raftLog ? raftLogVictim : ctx.randomLiveNode());
    if (ids.contains(-1) || ctx.cluster().dataDir(ids.get(0)).isEmpty()) {
      return null;
    }
    Random random = new Random(ctx.random().nextLong());
    return new DiskFault(ids, random, ctx);
  }

  /** The fault: kill, damage, and (heal) restart. */
  private final class DiskFault implements Fault {
    private final List<Integer> ids;
    private final Random random;
    private final NemesisContext ctx;
    private volatile String done = "";

    DiskFault(List<Integer> ids, Random random, NemesisContext ctx) {
      this.ids = List.copyOf(ids);
      this.random = random;
      this.ctx = ctx;
    }

    @Override
    public String name() {
      return kind.label;
    }

    @Override
    public List<Integer> nodes() {
      return ids;
    }

    @Override
    public String note() {
      return (ids.size() > 1 ? "every node" : kind == Kind.TORN_RAFT_LOG || kind == Kind.CORRUPT_RAFT_LOG
          ? "this run's Raft-log victim" : "random node") + ", killed, then its files damaged";
    }

    @Override
    public String result() {
      return done;
    }

    @Override
    public void inject() {
      ids.forEach(ctx.cluster()::kill9);
      List<String> what = new ArrayList<>();
      for (int id : ids) {
        Path data = ctx.cluster().dataDir(id).orElseThrow();
        for (Path group : DiskDamage.partitionGroupDirs(data)) {
          String g = group.getFileName().toString();
          what.add("n" + id + "/" + g.substring(g.length() - 4) + ": " + damage(group));
        }
      }
      done = String.join("; ", what);
    }

    private String damage(Path group) {
      if (kind == Kind.LOSE_UNSYNCED || kind == Kind.LOSE_UNSYNCED_ALL) {
        return DiskDamage.loseAll(DiskDamage.unforcedSegmentFiles(group));
      }
      Optional<Path> file = switch (kind) {
        case TORN_SEGMENT, CORRUPT_SEGMENT -> DiskDamage.unforcedLastSegment(group);
        default -> DiskDamage.openRaftSegment(group);
      };
      if (file.isEmpty()) {
        return "nothing unforced";
      }
      return switch (kind) {
        case TORN_SEGMENT -> DiskDamage.tear(file.get(), 512, random);
        case CORRUPT_SEGMENT -> DiskDamage.corrupt(file.get(), 512, random);
        case TORN_RAFT_LOG -> DiskDamage.tear(file.get(), 24, random);
        default -> DiskDamage.corrupt(file.get(), 16, random);
      };
    }

    @Override
    public void heal() {
      ids.forEach(ctx.cluster()::start);
    }
  }
}
