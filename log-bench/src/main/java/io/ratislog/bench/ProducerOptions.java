package io.ratislog.bench;

import io.ratislog.client.DeliveryMode;
import io.ratislog.client.ProducerConfig;
import picocli.CommandLine.Option;

/**
 * The producer settings the throughput commands share ({@code produce}, {@code delivery-cost}), so that their rows are
 * measured with the same batching, pipelining and buffers.
 */
final class ProducerOptions {
  @Option(names = "--batch-bytes", defaultValue = "1048576") int batchBytes;
  @Option(names = "--linger-ms", defaultValue = "10", description = "as Kafka's rows in bench.sh (linger.ms=10)")
  long lingerMs;
  @Option(names = "--in-flight", defaultValue = "5",
      description = "batches in flight per partition (Kafka's max.in.flight default)") int inFlight;
  @Option(names = "--outstanding", defaultValue = "200000", description = "unacknowledged records at most")
  int outstanding;

  /** A producer configuration with these settings and {@code delivery}. */
  ProducerConfig.Builder config(String bootstrap, DeliveryMode delivery) {
    return ProducerConfig.builder(bootstrap).batchSizeBytes(batchBytes).lingerMs(lingerMs)
        .maxInFlightPerPartition(inFlight).delivery(delivery).bufferMemoryBytes(256L * 1024 * 1024)
        .deliveryTimeoutMs(120_000);
  }
}
