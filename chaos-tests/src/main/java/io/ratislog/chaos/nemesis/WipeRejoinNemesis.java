package io.ratislog.chaos.nemesis;

import io.ratislog.client.Admin;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.TopicDescription;
import io.ratislog.proto.NodeStatus;
import io.ratislog.server.raft.GroupIds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A node loses its disk and rejoins, the safe way: its replica is first removed from every partition of the
 * test topic that it holds (each group's Raft configuration then excludes it, and it deletes the replica),
 * the node is killed, its data directory is wiped, it is started again (with a new storage id, which the
 * node registry records), and it is added back to those partitions as a new replica that catches up from
 * the leader's snapshot. A node with wiped storage thus never votes as if it remembered: it returns as a
 * listener and becomes a voter only after catching up. (The server also refuses to re-create, from scratch,
 * a replica its registered storage predates; see PartitionReconciler.)
 *
 * <p>What is kept: when the node votes in the metadata group, its metadata group's Raft directory is kept
 * (a metadata voter cannot yet be replaced at runtime; wiping it would make the node vote there with an
 * empty log, which Raft forbids). Everything else (partition data, storage id) is wiped.
 */
public final class WipeRejoinNemesis implements Nemesis {
  @Override
  public String name() {
    return "wipe-rejoin";
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    Admin admin = ctx.cluster().admin();
    int node = ctx.randomLiveNode();
    if (node < 0) {
      return null;
    }
    TopicDescription t = admin.describeTopic(ctx.topic());
    Map<Integer, List<Integer>> original = new LinkedHashMap<>();
    for (PartitionInfo p : t.partitions()) {
      if (p.replicas().contains(node)) {
        if (p.replicas().size() < 2) {
          return null; // nowhere to keep the data while the node is away
        }
        original.put(p.partition(), p.replicas());
      }
    }
    boolean voter = admin.describeCluster().getNodesList().stream()
        .anyMatch(s -> s.getNode().getId() == node && s.getMetadataVoter());
    Set<Path> keep = voter ? Set.of(Path.of("raft", GroupIds.metadata().getUuid().toString())) : Set.of();
    String note = "node " + node + " leaves " + ctx.topic() + " partitions " + original.keySet() + ", data wiped"
        + (voter ? " (metadata group state kept: it is a metadata voter)" : "") + ", rejoins";
    String topic = ctx.topic();
    return new SimpleFault(name(), List.of(node), note,
        () -> {
          original.forEach((p, replicas) -> {
            List<Integer> without = new ArrayList<>(replicas);
            without.remove(Integer.valueOf(node));
            Membership.move(admin, topic, p, without);
          });
          ctx.cluster().kill9(node);
          ctx.cluster().wipeData(node, keep);
          ctx.cluster().start(node);
        },
        () -> {
          awaitUp(admin, node);
          original.forEach((p, replicas) -> Membership.move(admin, topic, p, replicas));
        });
  }

  private static void awaitUp(Admin admin, int node) {
    long deadline = System.nanoTime() + Membership.MOVE_TIMEOUT.toNanos();
    while (System.nanoTime() - deadline < 0) {
      try {
        for (NodeStatus s : admin.describeCluster().getNodesList()) {
          if (s.getNode().getId() == node && s.getUp()) {
            return;
          }
        }
      } catch (RuntimeException e) {
        // not yet
      }
      Membership.sleep(300);
    }
    throw new IllegalStateException("node " + node + " is not up again after " + Membership.MOVE_TIMEOUT);
  }
}
