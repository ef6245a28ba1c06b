package io.ratislog.client.cli;

import io.ratislog.client.Admin;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.RatislogException;
import io.ratislog.client.TopicDescription;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.DescribeReassignmentResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.NodeStatus;
import io.ratislog.proto.PartitionMove;
import io.ratislog.proto.RemoveNodeResponse;
import io.ratislog.proto.ReplaceMetadataVoterResponse;
import io.ratislog.proto.ReplicaProgress;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The membership commands of {@code logctl}: {@code cluster add-node | remove-node} and
 * {@code partition reassign | transfer-leader | status}. Long operations print one progress line per
 * change until they are done (or the timeout passes: exit 1 with error TIMEOUT; the operation goes on in
 * the cluster).
 */
final class MembershipCommands {
  private static final long POLL_MS = 500;

  private MembershipCommands() {}

  static Admin admin(LogCtl root, LogCtl.BootstrapOption b, long timeoutMs) {
    return Admin.create(root.bootstrap(b), Duration.ofMillis(Math.min(timeoutMs, 30_000)), root.channels(b));
  }

  // ------------------------------------------------------------------ cluster add-node / remove-node

  /** {@code logctl cluster add-node ID HOST:RAFTPORT:CLIENTPORT [--rebalance]}. */
  @Command(name = "add-node", mixinStandardHelpOptions = true,
      description = "Register a node (start it with the printed settings); new topics may be placed on it.")
  static final class AddNode implements Callable<Integer> {
    @ParentCommand
    LogCtl.ClusterCommand parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "ID")
    int id;
    @Parameters(index = "1", paramLabel = "HOST:RAFTPORT:CLIENTPORT")
    String address;
    @Option(names = "--rebalance", description = "Also move partition replicas onto the node, and wait for the moves.")
    boolean rebalance;
    @Option(names = "--timeout-ms", defaultValue = "600000", description = "Give up waiting after this long (default 600000).")
    long timeoutMs;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      int last = address.lastIndexOf(':');
      int mid = last > 0 ? address.lastIndexOf(':', last - 1) : -1;
      if (mid <= 0) {
        throw new LogCtl.UsageException("address '" + address + "' is not HOST:RAFTPORT:CLIENTPORT");
      }
      String host = address.substring(0, mid);
      int raftPort = port(address.substring(mid + 1, last));
      int clientPort = port(address.substring(last + 1));
      PrintWriter progress = progress(root);
      try (Admin admin = admin(root, bootstrap, timeoutMs)) {
        List<PartitionMove> moves = admin.addNode(id, host, raftPort, clientPort, rebalance);
        progress.printf("node %d registered at %s%n", id, address);
        DescribeClusterResponse c = admin.describeCluster();
        StringJoiner peers = new StringJoiner(",");
        long voters = c.getNodesList().stream().filter(NodeStatus::getMetadataVoter).count();
        c.getNodesList().stream().sorted(Comparator.comparingInt(n -> n.getNode().getId()))
            .filter(n -> n.getNode().getId() != id && n.getRaftPort() > 0)
            .forEach(n -> peers.add(n.getNode().getId() + "=" + n.getNode().getHost() + ":" + n.getRaftPort() + ":"
                + n.getNode().getClientPort()));
        peers.add(id + "=" + address);
        long metadataVoters = Math.max(1, voters);
        progress.printf("start it with: node.id=%d peers=%s metadata.voters=%d%n", id, peers, metadataVoters);
        List<Map<String, Object>> moved = List.of();
        if (!moves.isEmpty()) {
          progress.printf("moving %d replica(s) onto node %d%n", moves.size(), id);
          moved = awaitMoves(admin, progress, moves, timeoutMs);
        }
        progress.flush();
        if (root.json()) {
          Map<String, Object> settings = new LinkedHashMap<>();
          settings.put("node.id", id);
          settings.put("peers", peers.toString());
          settings.put("metadata.voters", metadataVoters);
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("node_id", id);
          m.put("address", address);
          m.put("start_settings", settings);
          m.put("moves", moved);
          root.out.print(JsonOutput.write(m));
        }
      }
      return 0;
    }
  }

  /** {@code logctl cluster remove-node ID [--drain] [--replace-with N]}. */
  @Command(name = "remove-node", mixinStandardHelpOptions = true,
      description = "Unregister a node; refused while it holds replicas (unless --drain moves them first) or a metadata"
          + " vote (unless --replace-with hands the vote to another registered node, then drains).")
  static final class RemoveNode implements Callable<Integer> {
    @ParentCommand
    LogCtl.ClusterCommand parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "ID")
    int id;
    @Option(names = "--drain", description = "Reassign the node's replicas to other nodes first, showing progress.")
    boolean drain;
    @Option(names = "--replace-with", paramLabel = "N",
        description = "The node is a metadata voter: make registered node N vote instead (once N caught up; leadership"
            + " moves first if the node leads), then drain and remove it. Run again to resume after an interruption.")
    Integer replaceWith;
    @Option(names = "--timeout-ms", defaultValue = "600000", description = "Give up waiting after this long (default 600000).")
    long timeoutMs;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      PrintWriter progress = progress(root);
      try (Admin admin = admin(root, bootstrap, timeoutMs)) {
        long deadline = System.nanoTime() + Duration.ofMillis(timeoutMs).toNanos();
        ReplaceMetadataVoterResponse replaced = null;
        if (replaceWith != null) {
          replaced = replaceVoter(admin, progress, id, replaceWith, deadline, timeoutMs);
          drain = true;
        }
        Map<String, PartitionMove> moves = new LinkedHashMap<>();
        String lastLine = "";
        while (true) {
          RemoveNodeResponse r = admin.removeNode(id, drain);
          r.getMovesList().forEach(mv -> moves.putIfAbsent(mv.getTopic() + "-" + mv.getPartition(), mv));
          if (r.getRemoved()) {
            progress.printf("node %d removed%n", id);
            progress.flush();
            if (root.json()) {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("node_id", id);
              m.put("removed", true);
              m.put("metadata_voter_replacement", replaced == null ? null : JsonOutput.voterReplacement(id, replaceWith, replaced));
              m.put("moves", JsonOutput.moves(new ArrayList<>(moves.values())));
              root.out.print(JsonOutput.write(m));
            }
            return 0;
          }
          String line = "draining node " + id + ": " + r.getMovesCount() + " move(s) under way"
              + (r.getMovesCount() == 0 ? "" : ": " + r.getMovesList().stream().map(MembershipCommands::describe)
                  .collect(Collectors.joining("; ")));
          if (!line.equals(lastLine)) {
            progress.println(line);
            progress.flush();
            lastLine = line;
          }
          if (System.nanoTime() - deadline > 0) {
            throw new RatislogException(ErrorCode.TIMEOUT, "node " + id + " still holds replicas after " + timeoutMs + " ms");
          }
          sleep(1_000);
        }
      }
    }
  }

  /** Steps the replacement of metadata voter {@code from} by {@code to} until done, printing each new step. */
  static ReplaceMetadataVoterResponse replaceVoter(Admin admin, PrintWriter out, int from, int to, long deadline,
                                                  long timeoutMs) {
    String lastLine = "";
    while (true) {
      ReplaceMetadataVoterResponse r = admin.replaceMetadataVoter(from, to);
      String line = "metadata voter " + from + " -> " + to + ": " + r.getStep() + "; voters " + r.getVotersList()
          + ", listeners " + r.getListenersList();
      if (!line.equals(lastLine)) {
        out.println(line);
        out.flush();
        lastLine = line;
      }
      if (r.getDone()) {
        return r;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new RatislogException(ErrorCode.TIMEOUT, "node " + to + " does not vote in place of node " + from + " after "
            + timeoutMs + " ms (last step: " + r.getStep() + "); run the command again to resume");
      }
      sleep(POLL_MS);
    }
  }

  // ------------------------------------------------------------------ partition

  /** {@code logctl partition ...}. */
  @Command(name = "partition", mixinStandardHelpOptions = true, description = "Move partitions and their leaders.",
      subcommands = {Reassign.class, TransferLeader.class, Status.class})
  static final class PartitionCommand implements Callable<Integer> {
    @ParentCommand
    LogCtl root;
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: reassign, transfer-leader or status");
    }
  }

  /** {@code logctl partition reassign TOPIC PARTITION --replicas 1,2,4}. */
  @Command(name = "reassign", mixinStandardHelpOptions = true,
      description = "Move a partition to new replicas (first: preferred leader), showing progress until done.")
  static final class Reassign implements Callable<Integer> {
    @ParentCommand
    PartitionCommand parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;
    @Parameters(index = "1", paramLabel = "PARTITION")
    int partition;
    @Option(names = "--replicas", required = true, split = ",", paramLabel = "ID[,ID...]")
    List<Integer> replicas;
    @Option(names = "--no-wait", description = "Start the move and return.")
    boolean noWait;
    @Option(names = "--timeout-ms", defaultValue = "600000", description = "Give up waiting after this long (default 600000).")
    long timeoutMs;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      PrintWriter progress = progress(root);
      try (Admin admin = admin(root, bootstrap, timeoutMs)) {
        PartitionMove m = admin.reassignPartition(topic, partition, replicas);
        progress.println("reassigning " + describe(m));
        progress.flush();
        List<Map<String, Object>> done = noWait ? List.of() : awaitMoves(admin, progress, List.of(m), timeoutMs);
        if (root.json()) {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("move", JsonOutput.move(m));
          out.put("done", !noWait);
          out.put("state", done.isEmpty() ? null : done.get(0));
          root.out.print(JsonOutput.write(out));
        }
      }
      return 0;
    }
  }

  /** {@code logctl partition transfer-leader TOPIC PARTITION --to N}. */
  @Command(name = "transfer-leader", mixinStandardHelpOptions = true,
      description = "Make a replica the partition's preferred leader and hand it leadership (Ratis transferLeadership).")
  static final class TransferLeader implements Callable<Integer> {
    @ParentCommand
    PartitionCommand parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;
    @Parameters(index = "1", paramLabel = "PARTITION")
    int partition;
    @Option(names = "--to", required = true, paramLabel = "N")
    int to;
    @Option(names = "--timeout-ms", defaultValue = "60000", description = "Give up waiting after this long (default 60000).")
    long timeoutMs;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      PrintWriter progress = progress(root);
      try (Admin admin = admin(root, bootstrap, timeoutMs)) {
        TopicDescription t = admin.describeTopic(topic);
        if (partition < 0 || partition >= t.partitionCount()) {
          throw new RatislogException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic " + topic + " has no partition " + partition);
        }
        PartitionInfo p = t.partitions().get(partition);
        if (!p.replicas().contains(to)) {
          throw new LogCtl.UsageException("node " + to + " holds no replica of " + topic + "-" + partition
              + " (replicas " + p.replicas() + "); use partition reassign");
        }
        List<Integer> order = new ArrayList<>();
        order.add(to);
        p.replicas().stream().filter(id -> id != to).forEach(order::add);
        PartitionMove m = admin.reassignPartition(topic, partition, order);
        progress.println("preferred leader of " + topic + "-" + partition + ": " + describe(m));
        progress.flush();
        awaitMoves(admin, progress, List.of(m), timeoutMs);
        long deadline = System.nanoTime() + Duration.ofMillis(timeoutMs).toNanos();
        while (true) {
          DescribeReassignmentResponse r = admin.describeReassignment(topic, partition);
          if (r.getLeader().getId() == to) {
            progress.printf("leader of %s-%d is node %d%n", topic, partition, to);
            progress.flush();
            if (root.json()) {
              root.out.print(JsonOutput.write(JsonOutput.reassignment(topic, partition, r)));
            }
            return 0;
          }
          if (System.nanoTime() - deadline > 0) {
            throw new RatislogException(ErrorCode.TIMEOUT, "leader of " + topic + "-" + partition + " is still node "
                + r.getLeader().getId());
          }
          sleep(POLL_MS);
        }
      }
    }
  }

  /** {@code logctl partition status TOPIC PARTITION}. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show a partition's replicas, Raft voters and listeners, and how far each replica caught up.")
  static final class Status implements Callable<Integer> {
    @ParentCommand
    PartitionCommand parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;
    @Parameters(index = "1", paramLabel = "PARTITION")
    int partition;
    @Option(names = "--timeout-ms", defaultValue = "10000")
    long timeoutMs;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      try (Admin admin = admin(root, bootstrap, timeoutMs)) {
        DescribeReassignmentResponse r = admin.describeReassignment(topic, partition);
        root.out.print(root.json() ? JsonOutput.write(JsonOutput.reassignment(topic, partition, r))
            : progressLine(topic, partition, r) + System.lineSeparator());
        root.out.flush();
      }
      return 0;
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Polls each move until the partition's replicas are its target, printing a line whenever its state changes.
   *
   * @return the final state of each moved partition, in the order the moves completed ({@link JsonOutput#reassignment})
   */
  static List<Map<String, Object>> awaitMoves(Admin admin, PrintWriter out, List<PartitionMove> moves, long timeoutMs) {
    long deadline = System.nanoTime() + Duration.ofMillis(timeoutMs).toNanos();
    List<Map<String, Object>> done = new ArrayList<>();
    List<PartitionMove> left = new ArrayList<>(moves);
    List<String> lastLines = new ArrayList<>();
    left.forEach(m -> lastLines.add(""));
    while (!left.isEmpty()) {
      for (int i = left.size() - 1; i >= 0; i--) {
        PartitionMove m = left.get(i);
        DescribeReassignmentResponse r;
        try {
          r = admin.describeReassignment(m.getTopic(), m.getPartition());
        } catch (RatislogException e) {
          if (System.nanoTime() - deadline > 0) {
            throw e;
          }
          continue;
        }
        String line = progressLine(m.getTopic(), m.getPartition(), r);
        if (!line.equals(lastLines.get(i))) {
          out.println(line);
          out.flush();
          lastLines.set(i, line);
        }
        if (r.getTargetReplicasCount() == 0 && r.getReplicasList().equals(m.getToReplicasList())) {
          out.printf("%s-%d: done, replicas %s, leader %d%n", m.getTopic(), m.getPartition(), r.getReplicasList(),
              r.getLeader().getId());
          out.flush();
          done.add(JsonOutput.reassignment(m.getTopic(), m.getPartition(), r));
          left.remove(i);
          lastLines.remove(i);
        }
      }
      if (left.isEmpty()) {
        return done;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new RatislogException(ErrorCode.TIMEOUT, left.size() + " move(s) not done after " + timeoutMs
            + " ms (they go on): " + left.stream().map(MembershipCommands::describe).collect(Collectors.joining("; ")));
      }
      sleep(POLL_MS);
    }
    return done;
  }

  /** {@code topic-p: replicas [..] -> [..], step ...; 1 VOTER 120/120 ok, 4 LISTENER 80/120}. */
  static String progressLine(String topic, int partition, DescribeReassignmentResponse r) {
    StringBuilder sb = new StringBuilder(topic + "-" + partition + ": replicas " + r.getReplicasList());
    if (r.getTargetReplicasCount() > 0) {
      sb.append(" -> ").append(r.getTargetReplicasList());
    }
    sb.append(", leader ").append(r.getLeader().getId());
    if (!r.getStep().isEmpty()) {
      sb.append(", step: ").append(r.getStep());
    }
    StringJoiner j = new StringJoiner(", ", "; ", "");
    for (ReplicaProgress p : r.getProgressList()) {
      j.add(p.getNodeId() + " " + p.getRole() + " " + (p.getCommitIndex() < 0 ? "?" : p.getCommitIndex()) + "/"
          + r.getLeaderCommitIndex() + (p.getCaughtUp() ? " caught up" : ""));
    }
    return sb.append(j).toString();
  }

  /** Where progress lines go: stdout for people, stderr with {@code --output json} (stdout carries the document). */
  static PrintWriter progress(LogCtl root) {
    return root.json() ? root.err : root.out;
  }

  static String describe(PartitionMove m) {
    return m.getTopic() + "-" + m.getPartition() + " " + m.getFromReplicasList() + " -> " + m.getToReplicasList();
  }

  private static int port(String s) {
    try {
      int p = Integer.parseInt(s.trim());
      if (p < 1 || p > 65535) {
        throw new LogCtl.UsageException("port must be in 1..65535, got " + p);
      }
      return p;
    } catch (NumberFormatException e) {
      throw new LogCtl.UsageException("port is not a number: '" + s + "'");
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RatislogException(ErrorCode.TIMEOUT, "interrupted", e);
    }
  }
}
