package io.ratislog.chaos.nemesis;

import io.ratislog.chaos.cluster.NetworkControl;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Real network partitions between the nodes (iptables DROP rules in the nodes' network namespaces,
 * see {@link io.ratislog.chaos.cluster.NetnsNetwork}); the clients always keep reaching every node.
 * Healing removes the rules. Needs a cluster with {@link io.ratislog.chaos.cluster.ClusterControl#network()}.
 *
 * <ul>
 *   <li>{@code partition-one}: one random node cut from every other node;</li>
 *   <li>{@code partition-majority}: a random minority ({@code floor(n/2)} nodes) cut from the
 *       majority;</li>
 *   <li>{@code partition-bridge}: Jepsen's bridge: two halves that cannot talk to each other and
 *       one node that talks to both (5 nodes: 2 | 1 | 2; 3 nodes: 1 | 1 | 1, the middle node being
 *       the only one that sees everybody); with fewer than 3 nodes, like {@code partition-one};</li>
 *   <li>{@code partition-leader}: the leader of a random partition of the workload's topic cut from
 *       that partition's followers (other nodes and the clients still reach it), so it keeps
 *       answering clients as long as it believes it leads; a random node when the leader is
 *       unknown.</li>
 * </ul>
 */
public final class PartitionNemesis implements Nemesis {
  /** The partition shapes. */
  public enum Kind {
    /** One node alone. */
    ONE("partition-one"),
    /** Minority and majority. */
    MAJORITY("partition-majority"),
    /** Two halves and a bridge node. */
    BRIDGE("partition-bridge"),
    /** A partition's leader from its followers. */
    LEADER("partition-leader");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /**
     * The nemesis name.
     *
     * @return e.g. {@code partition-one}
     */
    public String label() {
      return label;
    }
  }

  private final Kind kind;

  /**
   * Creates the nemesis.
   *
   * @param kind the shape
   */
  public PartitionNemesis(Kind kind) {
    this.kind = kind;
  }

  @Override
  public String name() {
    return kind.label();
  }

  @Override
  public boolean needsNetwork() {
    return true;
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    NetworkControl net = ctx.cluster().network().orElseThrow(() -> new IllegalStateException(
        name() + " needs a cluster in network namespaces"));
    List<Integer> all = ctx.cluster().nodeIds();
    if (all.size() < 2) {
      return null;
    }
    List<Integer> shuffled = new ArrayList<>(all);
    Collections.shuffle(shuffled, ctx.random());
    Map<Integer, Set<Integer>> cuts = new TreeMap<>();
    List<Integer> targets;
    String note;
    Kind k = kind == Kind.BRIDGE && all.size() < 3 ? Kind.ONE : kind;
    switch (k) {
      case ONE -> {
        int x = shuffled.get(0);
        List<Integer> rest = without(all, List.of(x));
        cuts.put(x, new TreeSet<>(rest));
        targets = List.of(x);
        note = "isolated " + List.of(x) + " from " + rest;
      }
      case MAJORITY -> {
        List<Integer> minority = sorted(shuffled.subList(0, all.size() / 2));
        List<Integer> majority = without(all, minority);
        minority.forEach(m -> cuts.put(m, new TreeSet<>(majority)));
        targets = minority;
        note = "minority " + minority + " | majority " + majority;
      }
      case BRIDGE -> {
        int half = (all.size() - 1) / 2;
        List<Integer> a = sorted(shuffled.subList(0, half));
        int bridge = shuffled.get(half);
        List<Integer> b = sorted(shuffled.subList(half + 1, all.size()));
        a.forEach(m -> cuts.put(m, new TreeSet<>(b)));
        targets = List.of(bridge);
        note = a + " | " + b + ", bridge " + bridge + " sees both";
      }
      case LEADER -> {
        int p = ctx.random().nextInt(ctx.partitions());
        String tp = ctx.topic() + "-" + p;
        int leader = ctx.cluster().leaderOf(ctx.topic(), p);
        for (int i = 0; i < 10 && leader <= 0; i++) { // e.g. an election right after the last heal
          sleep(300);
          leader = ctx.cluster().leaderOf(ctx.topic(), p);
        }
        List<Integer> followers = new ArrayList<>();
        String how;
        if (leader > 0 && all.contains(leader)) {
          followers.addAll(ctx.cluster().replicasOf(ctx.topic(), p));
          followers.remove(Integer.valueOf(leader));
          how = "leader " + leader + " of " + tp;
        } else {
          leader = ctx.randomLiveNode();
          if (leader < 0) {
            return null;
          }
          how = "leader of " + tp + " unknown; random node " + leader;
        }
        if (followers.isEmpty()) {
          followers.addAll(without(all, List.of(leader)));
        }
        cuts.put(leader, new TreeSet<>(followers));
        targets = List.of(leader);
        note = how + " cut from followers " + sorted(followers) + "; clients still reach it";
      }
      default -> throw new IllegalStateException("unknown kind " + k);
    }
    return new SimpleFault(name(), targets, note, () -> net.cut(cuts), net::heal);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static List<Integer> without(List<Integer> all, List<Integer> minus) {
    List<Integer> out = new ArrayList<>(all);
    out.removeAll(minus);
    return sorted(out);
  }

  private static List<Integer> sorted(List<Integer> l) {
    return List.copyOf(new TreeSet<>(l));
  }
}
