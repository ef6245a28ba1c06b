package io.ratislog.chaos;

import io.ratislog.chaos.workload.DeliveryMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Command line of the chaos suite (called by {@code scripts/chaos.sh}). Exits 0 when the history
 * is valid for the delivery mode, 1 when the checker found anomalies, 2 when the harness failed.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = "Runs a ratislog cluster under faults with a workload and checks the history.")
public final class ChaosMain implements Callable<Integer> {
  @Option(names = "--time-limit", description = "seconds of faults (default ${DEFAULT-VALUE})", defaultValue = "60")
  long timeLimitS;

  @Option(names = "--nemesis", description = "comma-separated faults. Process: kill, kill-leader, "
      + "kill-meta-leader, pause, pause-leader, kill-all. Disk (a killed node's files damaged before it restarts): "
      + "torn-segment, corrupt-segment, torn-raft-log, corrupt-raft-log, lose-unsynced, lose-unsynced-all. "
      + "Clock (libfaketime preloaded into the nodes; skipped with a warning when not installed): clock-skew. "
      + "Network (root, iproute2 and iptables needed: the nodes then run in their own network namespaces; skipped "
      + "with a warning when unavailable): partition-one, partition-majority, partition-bridge (best with "
      + "--nodes 5), partition-leader, packet-loss. Membership: reassign (move a partition's replica and back), "
      + "wipe-rejoin (remove a node's replicas, wipe its data, restart it, add it back) (default ${DEFAULT-VALUE})",
      defaultValue = "kill-leader,pause,kill")
  String nemesis;

  @Option(names = "--workload", description = "append (producers and readers) or group (the same plus a consumer "
      + "group of 3 at-least-once members committing offsets, one abandoned without leaving and replaced every "
      + "6-12 s) (default ${DEFAULT-VALUE})", defaultValue = "append")
  String workload;

  @Option(names = "--nodes", description = "3 or 5 (default ${DEFAULT-VALUE})", defaultValue = "3")
  int nodes;

  @Option(names = "--out", description = "results directory; a run writes OUT/<timestamp>/ "
      + "(default ${DEFAULT-VALUE})", defaultValue = "chaos-results")
  Path out;

  @Option(names = "--delivery", description = "at-least-once or exactly-once (default ${DEFAULT-VALUE})",
      defaultValue = "at-least-once")
  String delivery;

  @Option(names = "--partitions", defaultValue = "4", description = "partitions (default ${DEFAULT-VALUE})")
  int partitions;

  @Option(names = "--producers", defaultValue = "3", description = "producers (default ${DEFAULT-VALUE})")
  int producers;

  @Option(names = "--readers", defaultValue = "2", description = "readers (default ${DEFAULT-VALUE})")
  int readers;

  @Option(names = "--rate", defaultValue = "60", description = "sends/s per producer (default ${DEFAULT-VALUE})")
  int rate;

  @Option(names = "--seed", description = "random seed (default: time)")
  Long seed;

  @Override
  public Integer call() {
    if (nodes != 3 && nodes != 5) {
      System.err.println("chaos: --nodes must be 3 or 5");
      return 2;
    }
    ChaosOptions d = ChaosOptions.defaults(out);
    ChaosOptions opts = new ChaosOptions(nodes, Duration.ofSeconds(timeLimitS), nemesis, workload,
        DeliveryMode.parse(delivery), out, partitions, producers, readers, rate, d.quietMin(), d.quietMax(),
        d.faultMin(), d.faultMax(), d.recovery(), seed == null ? d.seed() : seed, d.serverProps());
    io.ratislog.chaos.nemesis.Nemeses.parse(nemesis); // fail fast on a typo
    ChaosRun.Outcome o = ChaosRun.run(opts);
    if (o.skipped() != null) {
      System.err.println("chaos: WARNING: nemeses " + o.skipped());
    }
    System.out.println(o.result().summary());
    System.out.println("report: " + o.dir().resolve("report.md"));
    if (o.error() != null) {
      System.err.println("chaos: harness error: " + o.error());
      return 2;
    }
    return o.result().valid() ? 0 : 1;
  }

  /**
   * Entry point.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    System.exit(new CommandLine(new ChaosMain()).execute(args));
  }
}
