package io.ratislog.chaos.nemesis;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds nemeses from their command-line names.
 *
 * <p>What is real: {@code kill*} (SIGKILL of the node's JVM) and {@code pause*} (SIGSTOP/SIGCONT) on
 * any cluster; {@code partition-*} (kernel netfilter DROP rules between the nodes' network
 * namespaces, {@link PartitionNemesis}) and {@code packet-loss} (netfilter {@code statistic} match) when
 * the cluster runs in namespaces; {@code torn-*}/{@code corrupt-*} (the files of a killed node damaged
 * before it restarts, {@link DiskFaultNemesis}); {@code clock-skew} (libfaketime in every node, wall
 * clock only, {@link ClockSkewNemesis}); {@code reassign} and {@code wipe-rejoin} (membership changes through
 * the admin API, the latter with the node's data directory really deleted, {@link WipeRejoinNemesis}) on any
 * cluster. Not made real here: client-to-node partitions (clients always
 * reach every node, by design), delay and reordering ({@code tc netem}: no {@code sch_netem} in this
 * kernel), one-way partitions, and loss of unsynced writes at power failure ({@code kill -9} keeps the
 * page cache; see docs/CHAOS.md).
 */
public final class Nemeses {
  /** Every name {@link #parse} accepts. */
  public static final List<String> NAMES = List.of("kill", "kill-leader", "kill-meta-leader", "pause",
      "pause-leader", "kill-all", "partition-one", "partition-majority", "partition-bridge", "partition-leader",
      "torn-segment", "corrupt-segment", "torn-raft-log", "corrupt-raft-log", "clock-skew", "packet-loss", "lose-unsynced",
      "lose-unsynced-all", "reassign", "wipe-rejoin");

  private Nemeses() {}

  /**
   * Parses a comma-separated list, e.g. {@code kill,pause,kill-all}.
   *
   * @param spec the list
   * @return the nemeses, in order
   * @throws IllegalArgumentException on an unknown name
   */
  public static List<Nemesis> parse(String spec) {
    List<Nemesis> out = new ArrayList<>();
    for (String raw : spec.split(",")) {
      String name = raw.trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      out.add(switch (name) {
        case "kill" -> new KillNemesis(false);
        case "kill-leader" -> new KillNemesis(true);
        case "pause" -> new PauseNemesis(false);
        case "pause-leader" -> new PauseNemesis(true);
        case "kill-meta-leader" -> new KillNemesis(KillNemesis.Target.METADATA_LEADER);
        case "kill-all" -> new KillAllNemesis();
        case "clock-skew" -> new ClockSkewNemesis();
        case "lose-unsynced" -> new DiskFaultNemesis(DiskFaultNemesis.Kind.LOSE_UNSYNCED);
        case "lose-unsynced-all" -> new DiskFaultNemesis(DiskFaultNemesis.Kind.LOSE_UNSYNCED_ALL);
        case "packet-loss" -> new PacketLossNemesis();
        case "torn-segment" -> new DiskFaultNemesis(DiskFaultNemesis.Kind.TORN_SEGMENT);
        case "corrupt-segment" -> new DiskFaultNemesis(DiskFaultNemesis.Kind.CORRUPT_SEGMENT);
        case "torn-raft-log" -> new DiskFaultNemesis(DiskFaultNemesis.Kind.TORN_RAFT_LOG);
        case "corrupt-raft-log" -> new DiskFaultNemesis(DiskFaultNemesis.Kind.CORRUPT_RAFT_LOG);
        case "partition-one" -> new PartitionNemesis(PartitionNemesis.Kind.ONE);
        case "partition-majority" -> new PartitionNemesis(PartitionNemesis.Kind.MAJORITY);
        case "partition-bridge" -> new PartitionNemesis(PartitionNemesis.Kind.BRIDGE);
        case "partition-leader" -> new PartitionNemesis(PartitionNemesis.Kind.LEADER);
        case "reassign" -> new ReassignNemesis();
        case "wipe-rejoin" -> new WipeRejoinNemesis();
        default -> throw new IllegalArgumentException("unknown nemesis '" + name + "' (known: " + NAMES + ")");
      });
    }
    return out;
  }
}
