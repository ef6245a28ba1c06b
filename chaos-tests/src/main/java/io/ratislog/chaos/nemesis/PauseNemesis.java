package io.ratislog.chaos.nemesis;

import java.util.List;

/**
 * SIGSTOP of one node (a random one, or the leader of a random partition); healing sends SIGCONT.
 * A paused leader keeps its sockets open, so clients see timeouts rather than refused connections,
 * and it comes back still believing it leads: the classic stale-leader scenario.
 */
public final class PauseNemesis implements Nemesis {
  private final boolean leader;

  /**
   * Creates the nemesis.
   *
   * @param leader true to target a partition leader, false for a random node
   */
  public PauseNemesis(boolean leader) {
    this.leader = leader;
  }

  @Override
  public String name() {
    return leader ? "pause-leader" : "pause";
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
        () -> ctx.cluster().pause(id), () -> ctx.cluster().resume(id));
  }
}
