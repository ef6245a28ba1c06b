package io.ratislog.chaos.nemesis;

import java.util.List;

/**
 * {@code kill -9} of one node (a random one, or the leader of a random partition); healing starts
 * it again with its data.
 */
public final class KillNemesis implements Nemesis {
  private final boolean leader;

  /**
   * Creates the nemesis.
   *
   * @param leader true to target a partition leader, false for a random node
   */
  public KillNemesis(boolean leader) {
    this.leader = leader;
  }

  @Override
  public String name() {
    return leader ? "kill-leader" : "kill";
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    NemesisContext.Target t = leader ? ctx.leaderOrRandom()
        : new NemesisContext.Target(ctx.randomLiveNode(), "random node");
    if (t.node() < 0) {
      return null;
    }
    int id = t.node();
    return new SimpleFault(name(), List.of(id), t.note(),
        () -> ctx.cluster().kill9(id), () -> ctx.cluster().start(id));
  }
}
