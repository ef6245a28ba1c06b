package io.ratislog.server.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.jvm.BufferPoolMetricSet;
import com.codahale.metrics.jvm.ClassLoadingGaugeSet;
import com.codahale.metrics.jvm.FileDescriptorRatioGauge;
import com.codahale.metrics.jvm.GarbageCollectorMetricSet;
import com.codahale.metrics.jvm.MemoryUsageGaugeSet;
import com.codahale.metrics.jvm.ThreadStatesGaugeSet;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * A node's Dropwizard {@link MetricRegistry}: request rates, bytes and latencies (fed by
 * {@link MetricsInterceptor}), Raft events (leader changes, snapshot times) reported by the state machines,
 * per-replica gauges ({@link ReplicaGauges}) and the JVM's own metrics ({@code jvm.*}). Every node has its own
 * registry, so that several nodes in one JVM (tests) do not mix their numbers.
 *
 * <p>Names follow {@link MetricNames}: labels travel in the name and become Prometheus labels at export.
 */
public final class NodeMetrics {
  /** Label value of the metadata group in {@code group_kind}. */
  public static final String METADATA = "metadata";
  /** Label value of partition groups in {@code group_kind}. */
  public static final String PARTITION = "partition";

  private final MetricRegistry registry = new MetricRegistry();

  public NodeMetrics() {
    registry.register("jvm.memory", new MemoryUsageGaugeSet());
    registry.register("jvm.gc", new GarbageCollectorMetricSet());
    registry.register("jvm.threads", new ThreadStatesGaugeSet());
    registry.register("jvm.classes", new ClassLoadingGaugeSet());
    registry.register("jvm.buffers", new BufferPoolMetricSet(ManagementFactory.getPlatformMBeanServer()));
    registry.register("jvm.fd.usage_ratio", new FileDescriptorRatioGauge());
    registry.gauge("jvm.uptime_seconds", () -> () -> ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0);
  }

  public MetricRegistry registry() {
    return registry;
  }

  public Meter meter(String base, String... labels) {
    return registry.meter(MetricNames.tagged(base, labels));
  }

  public Counter counter(String base, String... labels) {
    return registry.counter(MetricNames.tagged(base, labels));
  }

  public Timer timer(String base, String... labels) {
    return registry.timer(MetricNames.tagged(base, labels));
  }

  /** A Raft group on this node saw a new leader (or lost its leader) at this term; {@code kind} is METADATA or PARTITION. */
  public void leaderChanged(String kind, boolean thisNodeLeads) {
    counter("ratislog.raft.leader_changes_total", "group_kind", kind).inc();
    if (thisNodeLeads) {
      counter("ratislog.raft.became_leader_total", "group_kind", kind).inc();
    }
  }

  /** A state machine of this node took a snapshot in {@code nanos}. */
  public void snapshotTaken(String kind, long nanos) {
    timer("ratislog.raft.snapshot", "group_kind", kind).update(nanos, TimeUnit.NANOSECONDS);
  }

  /** An entry was applied to a state machine of this node in {@code nanos}. */
  public void applied(String kind, long nanos) {
    timer("ratislog.raft.apply", "group_kind", kind).update(nanos, TimeUnit.NANOSECONDS);
  }
}
