package io.ratislog.chaos.nemesis;

import io.ratislog.client.Admin;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves one replica of a random partition under load and back: onto a node that holds none of the
 * partition when the cluster has one (replica set {@code R -> R - r + s -> R}), else off one replica and
 * back ({@code R -> R - r -> R}, the removed node re-joining as a new replica from a snapshot). Each move
 * is a Ratis configuration change driven by the partition's leader (the new replica joins as a listener,
 * catches up, becomes a voter; the old one leaves and deletes its data). Injecting waits until the first
 * move is done; healing waits for the move back.
 */
public final class ReassignNemesis implements Nemesis {
  @Override
  public String name() {
    return "reassign";
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    Admin admin = ctx.cluster().admin();
    int p = ctx.random().nextInt(ctx.partitions());
    List<Integer> original = ctx.cluster().replicasOf(ctx.topic(), p);
    if (original.isEmpty()) {
      return null;
    }
    List<Integer> spare = ctx.cluster().nodeIds().stream()
        .filter(id -> !original.contains(id) && ctx.cluster().isRunning(id) && !ctx.cluster().isPaused(id)).toList();
    int out = original.get(ctx.random().nextInt(original.size()));
    List<Integer> moved = new ArrayList<>(original);
    String note;
    List<Integer> nodes;
    if (!spare.isEmpty()) {
      int in = spare.get(ctx.random().nextInt(spare.size()));
      moved.set(moved.indexOf(out), in);
      note = ctx.topic() + "-" + p + " " + original + " -> " + moved + " -> back";
      nodes = List.of(out, in);
    } else if (original.size() > 1) {
      moved.remove(Integer.valueOf(out));
      note = ctx.topic() + "-" + p + " " + original + " -> " + moved + " -> back (node " + out + " re-joins)";
      nodes = List.of(out);
    } else {
      return null;
    }
    String topic = ctx.topic();
    return new SimpleFault(name(), nodes, note,
        () -> Membership.move(admin, topic, p, moved),
        () -> Membership.move(admin, topic, p, original));
  }
}
