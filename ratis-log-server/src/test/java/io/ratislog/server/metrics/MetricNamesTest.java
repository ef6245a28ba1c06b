package io.ratislog.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.codahale.metrics.MetricRegistry;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.dropwizard.DropwizardExports;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricNamesTest {
  @Test
  void labelsRoundTripThroughTheName() {
    String name = MetricNames.tagged("ratislog.group.lag", "group", "we\"ird\\grp", "topic", "a.b-c", "partition", "7");
    MetricNames.Parsed p = MetricNames.parse(name);
    assertEquals("ratislog.group.lag", p.base());
    assertEquals(List.of("group", "topic", "partition"), p.labelNames());
    assertEquals(List.of("we\"ird\\grp", "a.b-c", "7"), p.labelValues());
    assertEquals(new MetricNames.Parsed("plain.name", List.of(), List.of()), MetricNames.parse("plain.name"));
  }

  @Test
  void samplesOfOneBaseNameBecomeOneLabelledFamily() throws Exception {
    MetricRegistry registry = new MetricRegistry();
    registry.counter(MetricNames.tagged("ratislog.rpc.errors_total", "method", "Produce", "code", "NOT_LEADER")).inc(3);
    registry.counter(MetricNames.tagged("ratislog.rpc.errors_total", "method", "Fetch", "code", "TIMEOUT")).inc();
    registry.timer(MetricNames.tagged("ratislog.rpc.latency", "method", "Produce")).update(java.time.Duration.ofMillis(5));
    CollectorRegistry prometheus = new CollectorRegistry();
    prometheus.register(new DropwizardExports(registry, new LabelledSampleBuilder()));
    List<Collector.MetricFamilySamples> families = java.util.Collections.list(prometheus.metricFamilySamples());
    assertEquals(2, families.size(), families.toString());
    StringWriter text = new StringWriter();
    TextFormat.write004(text, java.util.Collections.enumeration(families));
    String body = text.toString();
    org.junit.jupiter.api.Assertions.assertTrue(
        body.contains("ratislog_rpc_errors_total{method=\"Produce\",code=\"NOT_LEADER\",} 3.0"), body);
    org.junit.jupiter.api.Assertions.assertTrue(
        body.contains("ratislog_rpc_latency{method=\"Produce\",quantile=\"0.99\",} 0.005"), body);
  }
}
