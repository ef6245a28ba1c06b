package io.ratislog.server.metrics;

import io.prometheus.client.Collector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Counter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Gauge;
import org.apache.ratis.thirdparty.com.codahale.metrics.Histogram;
import org.apache.ratis.thirdparty.com.codahale.metrics.Meter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Metric;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;

/**
 * Exports Apache Ratis' own metrics (leader election, log worker, log appender, state machine, server request
 * metrics). Ratis 3.3 keeps them in {@code ratis-metrics-default} registries: JVM-global, built on a shaded
 * copy of Dropwizard Metrics, so neither our registry nor the Prometheus Dropwizard bridge can take them
 * ({@code ratis-metrics-dropwizard3} wants Metrics 3.x). This collector reads those registries at scrape time.
 *
 * <p>A Ratis registry is named (application, component, prefix) and its prefix is a member id such as
 * {@code 1@group-4D45544144415441}. Only registries of this node's peer id are exported (several nodes may share
 * a JVM in tests), as {@code ratis_<component>_<metric>} with label {@code group}. Counters and meters export
 * their count ({@code _total}), gauges their numeric value, timers and histograms a summary (quantiles, count;
 * timers in seconds).
 */
public final class RatisMetricsCollector extends Collector {
  private static final double[] QUANTILES = {0.5, 0.75, 0.95, 0.98, 0.99, 0.999};
  private static final double NANOS_PER_SECOND = 1e9;

  private final String peerId;

  public RatisMetricsCollector(String peerId) {
    this.peerId = peerId;
  }

  @Override
  public List<MetricFamilySamples> collect() {
    Map<String, MetricFamilySamples> families = new LinkedHashMap<>();
    for (RatisMetricRegistry r : MetricRegistries.global().getMetricRegistries()) {
      if (!(r instanceof RatisMetricRegistryImpl impl)) {
        continue;
      }
      MetricRegistryInfo info = r.getMetricRegistryInfo();
      String prefix = info.getPrefix();
      String group;
      if (prefix.startsWith(peerId + "@")) {
        group = prefix.substring(peerId.length() + 1);
      } else if (prefix.equals(peerId)) {
        group = "";
      } else {
        continue;
      }
      String fullPrefix = info.getApplicationName() + "." + info.getMetricsComponentName() + "." + prefix + ".";
      String base = info.getApplicationName() + "_" + info.getMetricsComponentName() + "_";
      for (Map.Entry<String, Metric> e : impl.getDropWizardMetricRegistry().getMetrics().entrySet()) {
        String shortName = e.getKey().startsWith(fullPrefix) ? e.getKey().substring(fullPrefix.length()) : e.getKey();
        String name = sanitizeMetricName(base + shortName);
        add(families, name, group, e.getValue());
      }
    }
    return new ArrayList<>(families.values());
  }

  private static void add(Map<String, MetricFamilySamples> families, String name, String group, Metric m) {
    List<String> labels = List.of("group");
    List<String> values = List.of(group);
    if (m instanceof Gauge<?> g) {
      Object v;
      try {
        v = g.getValue();
      } catch (RuntimeException e) {
        return;
      }
      double d;
      if (v instanceof Number n) {
        d = n.doubleValue();
      } else if (v instanceof Boolean b) {
        d = b ? 1 : 0;
      } else {
        return;
      }
      family(families, name, Type.GAUGE).samples.add(new MetricFamilySamples.Sample(name, labels, values, d));
    } else if (m instanceof Counter c) {
      family(families, name, Type.COUNTER).samples.add(new MetricFamilySamples.Sample(name + "_total", labels, values, c.getCount()));
    } else if (m instanceof Meter meter) {
      family(families, name, Type.COUNTER).samples.add(new MetricFamilySamples.Sample(name + "_total", labels, values, meter.getCount()));
    } else if (m instanceof Timer t) {
      summary(families, name, group, t.getSnapshot(), t.getCount(), 1 / NANOS_PER_SECOND);
    } else if (m instanceof Histogram h) {
      summary(families, name, group, h.getSnapshot(), h.getCount(), 1);
    }
  }

  private static void summary(Map<String, MetricFamilySamples> families, String name, String group, Snapshot s,
                              long count, double factor) {
    List<MetricFamilySamples.Sample> samples = family(families, name, Type.SUMMARY).samples;
    for (double q : QUANTILES) {
      samples.add(new MetricFamilySamples.Sample(name, List.of("group", "quantile"), List.of(group, doubleToGoString(q)),
          s.getValue(q) * factor));
    }
    samples.add(new MetricFamilySamples.Sample(name + "_count", List.of("group"), List.of(group), count));
  }

  private static MetricFamilySamples family(Map<String, MetricFamilySamples> families, String name, Type type) {
    return families.computeIfAbsent(name, n -> new MetricFamilySamples(n, type, "Apache Ratis metric " + n, new ArrayList<>()));
  }
}
