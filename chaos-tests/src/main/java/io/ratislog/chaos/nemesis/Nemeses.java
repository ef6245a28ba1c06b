package io.ratislog.chaos.nemesis;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds nemeses from their command-line names.
 *
 * <p>What is real: {@code kill*} (SIGKILL of the node's JVM) and {@code pause*} (SIGSTOP/SIGCONT) on
 * any cluster; {@code partition-*} (kernel netfilter DROP rules between the nodes' network
 * namespaces, {@link PartitionNemesis}) when the cluster runs in namespaces; {@code reassign} and
 * {@code wipe-rejoin} (membership changes through the admin API, the latter with the node's data
 * directory really deleted, {@link WipeRejoinNemesis}) on any cluster. Not made real here:
 * client-to-node partitions (clients always reach every node, by design), packet loss, delay or
 * reordering ({@code tc netem}), one-way partitions, clock skew (needs a VM per node) and disk faults
 * or power loss ({@code kill -9} keeps the page cache).
 */
public final class Nemeses {
  /** Every name {@link #parse} accepts. */
  public static final List<String> NAMES = List.of("kill", "kill-leader", "pause", "pause-leader", "kill-all",
      "partition-one", "partition-majority", "partition-bridge", "partition-leader", "reassign", "wipe-rejoin");

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
        case "kill-all" -> new KillAllNemesis();
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
