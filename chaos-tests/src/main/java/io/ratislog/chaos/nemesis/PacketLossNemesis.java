package io.ratislog.chaos.nemesis;

import io.ratislog.chaos.cluster.NetworkControl;
import java.util.List;
import java.util.Optional;

/**
 * {@code packet-loss}: one node (a partition leader or a random node) drops 10, 30 or 50% of the packets
 * it receives, peers' and clients' alike, for the fault's duration (netfilter {@code statistic} match in
 * the node's namespace; see {@link NetworkControl#lossy}). Retransmissions make it slow rather than cut
 * off: elections, appends and client calls must cope. Delay and reordering ({@code tc netem}) cannot be
 * made here: the kernel has no {@code sch_netem}.
 */
public final class PacketLossNemesis implements Nemesis {
  private static final double[] RATES = {0.1, 0.3, 0.5};

  @Override
  public String name() {
    return "packet-loss";
  }

  @Override
  public boolean needsNetwork() {
    return true;
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    Optional<NetworkControl> net = ctx.cluster().network();
    if (net.isEmpty()) {
      return null;
    }
    NemesisContext.Target t = ctx.random().nextBoolean() ? ctx.leaderOrRandom()
        : new NemesisContext.Target(ctx.randomLiveNode(), "random node");
    if (t.node() < 0) {
      return null;
    }
    int id = t.node();
    double rate = RATES[ctx.random().nextInt(RATES.length)];
    return new SimpleFault(name(), List.of(id), t.note() + ", drops " + Math.round(rate * 100) + "% of packets in",
        () -> net.get().lossy(id, rate), () -> net.get().heal());
  }
}
