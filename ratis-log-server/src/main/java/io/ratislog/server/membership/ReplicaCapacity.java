package io.ratislog.server.membership;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.raft.RaftPropertiesFactory;
import java.lang.management.ManagementFactory;

/**
 * How many partition replicas (Raft groups) a node takes: {@code max.partitions.per.node} when set, else the
 * smaller of a per-core and a direct-memory bound. The node registers the figure; the metadata group refuses
 * placements beyond it (REPLICA_LIMIT_EXCEEDED) instead of letting the node fall over.
 *
 * <p>Why a node needs a bound at all: every Raft group costs a node CPU while idle (Ratis' heartbeats every
 * half election timeout per follower, and a state machine updater waking every 100 ms) and a direct buffer for
 * its log writes. Measured on a 2-core host running 3 nodes (docs/BENCHMARKS-notes.md): 200 replicas per node
 * idled at 40 % of a core per node; near 450 per node the nodes' heartbeats fell behind, leaders lost their
 * followers, and every partition ended without a leader. A node that runs out
 * of direct memory fails to create groups and spends its CPU in GC retries.
 */
public record ReplicaCapacity(int maxReplicas, String reason) {
  /** Replicas per core when the limit is not configured: about 20 % of the cores spent idle, by the figures above. */
  public static final int REPLICAS_PER_CORE = 100;
  /** Direct memory kept for gRPC and Netty's pools, besides the groups' write buffers: this share, at least 64 MiB. */
  private static final double DIRECT_RESERVE_SHARE = 0.25;

  /** The node's capacity, from its config or from this JVM's cores and direct memory. */
  public static ReplicaCapacity of(NodeConfig config) {
    if (config.maxPartitionsPerNode() > 0) {
      return new ReplicaCapacity(config.maxPartitionsPerNode(), "max.partitions.per.node");
    }
    return derive(Runtime.getRuntime().availableProcessors(), maxDirectMemory(),
        RaftPropertiesFactory.writeBufferBytes(config));
  }

  /**
   * The bound without a configured limit: {@link #REPLICAS_PER_CORE} per core, and the groups whose write buffers
   * fit in the direct memory left after the reserve (the metadata group's included).
   */
  static ReplicaCapacity derive(int cores, long maxDirectBytes, long bufferBytesPerGroup) {
    long byCpu = (long) REPLICAS_PER_CORE * Math.max(1, cores);
    long reserve = Math.max(64L << 20, (long) (maxDirectBytes * DIRECT_RESERVE_SHARE));
    long byMemory = Math.max(1, (maxDirectBytes - reserve) / bufferBytesPerGroup - 1);
    long max = Math.min(byCpu, byMemory);
    String why = byCpu <= byMemory
        ? REPLICAS_PER_CORE + " per core x " + cores + " cores"
        : "direct memory: " + (maxDirectBytes >> 20) + " MiB less a " + (reserve >> 20) + " MiB reserve, "
            + (bufferBytesPerGroup >> 10) + " KiB per group (max.batch.bytes + 128 KiB; raise -XX:MaxDirectMemorySize"
            + " or lower max.batch.bytes)";
    return new ReplicaCapacity((int) Math.min(Integer.MAX_VALUE, max), why);
  }

  /** {@code -XX:MaxDirectMemorySize}, or the JVM's default for it: the maximum heap. */
  static long maxDirectMemory() {
    try {
      HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      long set = Long.parseLong(hs.getVMOption("MaxDirectMemorySize").getValue());
      if (set > 0) {
        return set;
      }
    } catch (RuntimeException e) {
      // not HotSpot: fall back to the default rule
    }
    return Runtime.getRuntime().maxMemory();
  }
}
