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
 *       drop the damaged last entry and the node catch up from the leader.</li>
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
    CORRUPT_RAFT_LOG("corrupt-raft-log");

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

  @Override
  public Fault plan(NemesisContext ctx) {
    int id = ctx.randomLiveNode();
    if (id < 0) {
      return null;
    }
    Optional<Path> data = ctx.cluster().dataDir(id);
    if (data.isEmpty()) {
      return null;
    }
    Random random = new Random(ctx.random().nextLong());
    return new DiskFault(id, data.get(), random, ctx);
  }

  /** The fault: kill, damage, and (heal) restart. */
  private final class DiskFault implements Fault {
    private final int id;
    private final Path data;
    private final Random random;
    private final NemesisContext ctx;
    private volatile String done = "";

    DiskFault(int id, Path data, Random random, NemesisContext ctx) {
      this.id = id;
      this.data = data;
      this.random = random;
      this.ctx = ctx;
    }

    @Override
    public String name() {
      return kind.label;
    }

    @Override
    public List<Integer> nodes() {
      return List.of(id);
    }

    @Override
    public String note() {
      return "random node, killed, then its files damaged";
    }

    @Override
    public String result() {
      return done;
    }

    @Override
    public void inject() {
      ctx.cluster().kill9(id);
      List<String> what = new ArrayList<>();
      for (Path group : DiskDamage.partitionGroupDirs(data)) {
        Optional<Path> file = switch (kind) {
          case TORN_SEGMENT, CORRUPT_SEGMENT -> DiskDamage.unforcedLastSegment(group);
          case TORN_RAFT_LOG, CORRUPT_RAFT_LOG -> DiskDamage.openRaftSegment(group);
        };
        String g = group.getFileName().toString();
        g = g.substring(g.length() - 4);
        if (file.isEmpty()) {
          what.add(g + ": nothing unforced");
          continue;
        }
        what.add(g + "/" + switch (kind) {
          case TORN_SEGMENT -> DiskDamage.tear(file.get(), 512, random);
          case CORRUPT_SEGMENT -> DiskDamage.corrupt(file.get(), 512, random);
          case TORN_RAFT_LOG -> DiskDamage.tear(file.get(), 24, random);
          case CORRUPT_RAFT_LOG -> DiskDamage.corrupt(file.get(), 16, random);
        });
      }
      done = String.join("; ", what);
    }

    @Override
    public void heal() {
      ctx.cluster().start(id);
    }
  }
}
