package io.ratislog.chaos.nemesis;

/**
 * {@code kill -9} of every node at once; healing starts them all again. Every acknowledged record
 * must survive (acks follow a quorum fsync).
 */
public final class KillAllNemesis implements Nemesis {
  @Override
  public String name() {
    return "kill-all";
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    var c = ctx.cluster();
    return new SimpleFault(name(), c.nodeIds(), "every node",
        () -> c.nodeIds().forEach(c::kill9), () -> c.nodeIds().forEach(c::start));
  }
}
