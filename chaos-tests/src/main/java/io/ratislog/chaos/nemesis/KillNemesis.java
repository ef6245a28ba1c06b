package io.ratislog.chaos.nemesis;

import java.util.List;

/**
 * {@code kill -9} of one node: a random one, the leader of a random partition, or the metadata group's
 * leader (the controller: group coordination, producer ids and placement move to another node); healing
 * starts it again with its data.
 */
public final class KillNemesis implements Nemesis {
  /** Whom to kill. */
  public enum Target {
    /** A random live node. */
    RANDOM("kill"),
    /** The leader of a random partition of the topic. */
    PARTITION_LEADER("kill-leader"),
    /** The metadata group's leader. */
    METADATA_LEADER("kill-meta-leader");

    private final String label;

    Target(String label) {
      this.label = label;
    }
  }

  private final Target target;

  /**
   * Creates the nemesis.
   *
   * @param leader true to target a partition leader, false for a random node
   */
  public KillNemesis(boolean leader) {
    this(leader ? Target.PARTITION_LEADER : Target.RANDOM);
  }

  /**
   * Creates the nemesis.
   *
   * @param target whom to kill
   */
  public KillNemesis(Target target) {
    this.target = target;
  }

  @Override
  public String name() {
    return target.label;
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    NemesisContext.Target t = switch (target) {
      case PARTITION_LEADER -> ctx.leaderOrRandom();
      case METADATA_LEADER -> ctx.metadataLeaderOrRandom();
      case RANDOM -> new NemesisContext.Target(ctx.randomLiveNode(), "random node");
    };
    if (t.node() < 0) {
      return null;
    }
    int id = t.node();
    return new SimpleFault(name(), List.of(id), t.note(),
        () -> ctx.cluster().kill9(id), () -> ctx.cluster().start(id));
  }
}
