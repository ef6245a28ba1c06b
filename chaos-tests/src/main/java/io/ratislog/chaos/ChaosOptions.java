package io.ratislog.chaos;

import io.ratislog.chaos.workload.DeliveryMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything a chaos run needs.
 *
 * @param nodes          cluster size (3 or 5)
 * @param timeLimit      length of the fault phase
 * @param nemeses        comma-separated nemesis names, e.g. {@code kill-leader,pause,kill}
 * @param workload       the workload: {@code append} (producers and readers), or {@code group} (the same plus a
 *                       consumer group committing offsets while its members crash, {@link
 *                       io.ratislog.chaos.workload.GroupWorkload})
 * @param mode           the delivery mode asked of the producers
 * @param outDir         results go to {@code outDir/<timestamp>/}
 * @param partitions     partitions of the test topic
 * @param producers      producer processes
 * @param readers        reader processes
 * @param sendsPerSecond target send rate per producer
 * @param quietMin       shortest quiet period between faults
 * @param quietMax       longest quiet period
 * @param faultMin       shortest fault
 * @param faultMax       longest fault
 * @param recovery       how long the workload keeps running after the final heal
 * @param seed           random seed (faults, partition and key choice)
 * @param serverProps    extra {@code logd.properties} keys
 */
public record ChaosOptions(int nodes, Duration timeLimit, String nemeses, String workload, DeliveryMode mode,
    Path outDir, int partitions, int producers, int readers, int sendsPerSecond, Duration quietMin,
    Duration quietMax, Duration faultMin, Duration faultMax, Duration recovery, long seed,
    Map<String, String> serverProps) {

  /** The workloads {@link #workload} accepts. */
  public static final java.util.List<String> WORKLOADS = java.util.List.of("append", "group");

  /**
   * Whether the consumer-group workload runs (beside the producers and readers).
   *
   * @return true for {@code group}
   */
  public boolean group() {
    return "group".equals(workload);
  }

  /** Server settings that make snapshots, segment rolls and Raft log purges happen during a short run. */
  public static final Map<String, String> CHURNY_SERVER = Map.of(
      "snapshot.threshold.entries", "500",
      "segment.bytes", "262144",
      "raft.segment.bytes", "262144");

  /**
   * Copies the map.
   *
   * @param nodes          nodes
   * @param timeLimit      time limit
   * @param nemeses        nemeses
   * @param workload       workload
   * @param mode           mode
   * @param outDir         output directory
   * @param partitions     partitions
   * @param producers      producers
   * @param readers        readers
   * @param sendsPerSecond rate
   * @param quietMin       quiet min
   * @param quietMax       quiet max
   * @param faultMin       fault min
   * @param faultMax       fault max
   * @param recovery       recovery
   * @param seed           seed
   * @param serverProps    server properties
   */
  public ChaosOptions {
    serverProps = Map.copyOf(serverProps);
    if (!WORKLOADS.contains(workload)) {
      throw new IllegalArgumentException("unknown workload '" + workload + "' (known: " + WORKLOADS + ")");
    }
  }

  /**
   * Defaults: 3 nodes, 60 s of kill/pause faults, at-least-once, 4 partitions, 3 producers at 60/s,
   * 2 readers, quiet 3-6 s, faults 3-8 s, 5 s recovery.
   *
   * @param outDir the results directory
   * @return the options
   */
  public static ChaosOptions defaults(Path outDir) {
    return new ChaosOptions(3, Duration.ofSeconds(60), "kill-leader,pause,kill", "append",
        DeliveryMode.AT_LEAST_ONCE, outDir, 4, 3, 2, 60, Duration.ofSeconds(3), Duration.ofSeconds(6),
        Duration.ofSeconds(3), Duration.ofSeconds(8), Duration.ofSeconds(5), System.nanoTime(), CHURNY_SERVER);
  }
}
