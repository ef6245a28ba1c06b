package io.ratislog.server.metrics;

import io.prometheus.client.Collector;
import io.prometheus.client.dropwizard.samplebuilder.SampleBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a Dropwizard metric named by {@link MetricNames#tagged} into a Prometheus sample with those labels:
 * {@code ratislog.partition.log_end_offset{topic="t",partition="0"}} becomes
 * {@code ratislog_partition_log_end_offset{topic="t",partition="0"}}. Samples of one base name merge into one
 * metric family in {@link io.prometheus.client.dropwizard.DropwizardExports}.
 */
public final class LabelledSampleBuilder implements SampleBuilder {
  @Override
  public Collector.MetricFamilySamples.Sample createSample(String dropwizardName, String nameSuffix,
                                                          List<String> additionalLabelNames,
                                                          List<String> additionalLabelValues, double value) {
    MetricNames.Parsed p = MetricNames.parse(dropwizardName);
    List<String> names = new ArrayList<>(p.labelNames());
    List<String> values = new ArrayList<>(p.labelValues());
    if (additionalLabelNames != null) {
      names.addAll(additionalLabelNames);
      values.addAll(additionalLabelValues);
    }
    String suffix = nameSuffix == null ? "" : nameSuffix;
    return new Collector.MetricFamilySamples.Sample(Collector.sanitizeMetricName(p.base() + suffix), names, values, value);
  }
}
