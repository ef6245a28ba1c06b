package io.ratislog.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.chaos.cluster.ClusterControl;
import io.ratislog.chaos.cluster.NetworkControl;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The shapes of the partition nemeses, on a fake cluster that records the cuts. */
class PartitionNemesisTest {

  /** Records cuts, made symmetric like {@link io.ratislog.chaos.cluster.NetnsNetwork#cut}. */
  static final class FakeNet implements NetworkControl {
    final Map<Integer, Set<Integer>> cuts = new TreeMap<>();
    int heals;

    @Override
    public void cut(Map<Integer, Set<Integer>> c) {
      cuts.clear();
      c.forEach((a, bs) -> bs.forEach(b -> {
        cuts.computeIfAbsent(a, k -> new TreeSet<>()).add(b);
        cuts.computeIfAbsent(b, k -> new TreeSet<>()).add(a);
      }));
    }

    @Override
    public void heal() {
      cuts.clear();
      heals++;
    }

    boolean cut(int a, int b) {
      return cuts.getOrDefault(a, Set.of()).contains(b);
    }
  }

  static final class FakeCluster implements ClusterControl {
    final int n;
    final FakeNet net;
    final int leader;
    final List<Integer> replicas;

    FakeCluster(int n, FakeNet net, int leader, List<Integer> replicas) {
      this.n = n;
      this.net = net;
      this.leader = leader;
      this.replicas = replicas;
    }

    @Override
    public List<Integer> nodeIds() {
      return IntStream.rangeClosed(1, n).boxed().toList();
    }

    @Override
    public boolean isRunning(int id) {
      return true;
    }

    @Override
    public boolean isPaused(int id) {
      return false;
    }

    @Override
    public void kill9(int id) {}

    @Override
    public void pause(int id) {}

    @Override
    public void resume(int id) {}

    @Override
    public void start(int id) {}

    @Override
    public int leaderOf(String topic, int partition) {
      return leader;
    }

    @Override
    public List<Integer> replicasOf(String topic, int partition) {
      return replicas;
    }

    @Override
    public Optional<NetworkControl> network() {
      return Optional.ofNullable(net);
    }
  }

  private static FakeNet inject(PartitionNemesis.Kind kind, int nodes, long seed) {
    return inject(kind, new FakeCluster(nodes, new FakeNet(), 2, List.of(1, 2, 3)), seed);
  }

  private static FakeNet inject(PartitionNemesis.Kind kind, FakeCluster c, long seed) {
    Fault f = new PartitionNemesis(kind).plan(new NemesisContext(c, "t", 4, new Random(seed)));
    assertNotNull(f);
    assertEquals(kind.label(), f.name());
    f.inject();
    return c.net;
  }

  /** Connected components of the "can talk" graph are not the point; who cannot talk to whom is. */
  private static Set<Integer> isolatedFromAll(FakeNet net, int nodes) {
    Set<Integer> out = new HashSet<>();
    for (int a = 1; a <= nodes; a++) {
      if (net.cuts.getOrDefault(a, Set.of()).size() == nodes - 1) {
        out.add(a);
      }
    }
    return out;
  }

  @Test
  void partitionOneIsolatesExactlyOneNode() {
    for (long seed = 0; seed < 20; seed++) {
      FakeNet net = inject(PartitionNemesis.Kind.ONE, 5, seed);
      Set<Integer> alone = isolatedFromAll(net, 5);
      assertEquals(1, alone.size(), net.cuts::toString);
      int x = alone.iterator().next();
      for (int a = 1; a <= 5; a++) {
        for (int b = 1; b <= 5; b++) {
          assertEquals(a != b && (a == x || b == x), net.cut(a, b), net.cuts::toString);
        }
      }
    }
  }

  @Test
  void partitionMajoritySplitsIntoMinorityAndMajority() {
    for (int nodes : new int[] {3, 5}) {
      for (long seed = 0; seed < 20; seed++) {
        FakeNet net = inject(PartitionNemesis.Kind.MAJORITY, nodes, seed);
        Set<Integer> minority = new TreeSet<>();
        for (int a = 1; a <= nodes; a++) {
          if (net.cuts.getOrDefault(a, Set.of()).size() == nodes - nodes / 2) {
            minority.add(a);
          }
        }
        assertEquals(nodes / 2, minority.size(), net.cuts::toString);
        for (int a = 1; a <= nodes; a++) {
          for (int b = 1; b <= nodes; b++) {
            assertEquals(minority.contains(a) != minority.contains(b), net.cut(a, b), net.cuts::toString);
          }
        }
      }
    }
  }

  @Test
  void partitionBridgeLeavesOneNodeSeeingBothHalves() {
    for (int nodes : new int[] {3, 5}) {
      for (long seed = 0; seed < 20; seed++) {
        FakeNet net = inject(PartitionNemesis.Kind.BRIDGE, nodes, seed);
        List<Integer> bridges = IntStream.rangeClosed(1, nodes).filter(a -> !net.cuts.containsKey(a)).boxed().toList();
        assertEquals(1, bridges.size(), net.cuts::toString);
        // everyone else is cut from exactly the other half: (nodes - 1) / 2 nodes
        for (int a = 1; a <= nodes; a++) {
          if (a != bridges.get(0)) {
            assertEquals((nodes - 1) / 2, net.cuts.get(a).size(), net.cuts::toString);
            assertFalse(net.cut(a, bridges.get(0)));
          }
        }
      }
    }
  }

  @Test
  void partitionLeaderCutsTheLeaderFromItsFollowersOnly() {
    FakeCluster c = new FakeCluster(5, new FakeNet(), 4, List.of(1, 4, 5));
    Fault f = new PartitionNemesis(PartitionNemesis.Kind.LEADER).plan(new NemesisContext(c, "t", 4, new Random(1)));
    assertEquals(List.of(4), f.nodes());
    f.inject();
    assertEquals(Map.of(4, Set.of(1, 5), 1, Set.of(4), 5, Set.of(4)), c.net.cuts);
    assertFalse(c.net.cut(4, 2));
    f.heal();
    assertTrue(c.net.cuts.isEmpty());
    assertEquals(1, c.net.heals);
  }

  @Test
  void healAllHealsTheNetworkAndNetworkNemesesNeedIt() {
    FakeNet net = inject(PartitionNemesis.Kind.ONE, 3, 7);
    FakeCluster c = new FakeCluster(3, net, 1, List.of(1, 2, 3));
    c.healAll();
    assertTrue(net.cuts.isEmpty());
    FakeCluster loopback = new FakeCluster(3, null, 1, List.of(1, 2, 3));
    assertThrows(IllegalStateException.class, () -> new PartitionNemesis(PartitionNemesis.Kind.ONE)
        .plan(new NemesisContext(loopback, "t", 4, new Random(1))));
    List<Nemesis> all = Nemeses.parse(String.join(",", Nemeses.NAMES));
    assertEquals(Nemeses.NAMES.size(), all.size());
    assertEquals(Set.of("partition-one", "partition-majority", "partition-bridge", "partition-leader", "packet-loss"),
        new TreeSet<>(all.stream().filter(Nemesis::needsNetwork).map(Nemesis::name).toList()));
    assertEquals(Set.of("clock-skew"),
        new TreeSet<>(all.stream().filter(Nemesis::needsClock).map(Nemesis::name).toList()));
  }
}
