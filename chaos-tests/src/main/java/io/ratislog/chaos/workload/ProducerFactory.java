package io.ratislog.chaos.workload;

import io.ratislog.client.CompressionType;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;

/** Creates the workload's producers for a delivery mode. */
public final class ProducerFactory {
  private static final CompressionType[] CODECS = {CompressionType.NONE, CompressionType.LZ4, CompressionType.ZSTD,
      CompressionType.GZIP};

  private ProducerFactory() {}

  /**
   * Creates a producer. Producers take turns through the codecs (none, lz4, zstd, gzip by number), so every run's
   * history checks compressed batches, mixed in one partition, under the same faults.
   *
   * @param bootstrap the bootstrap list
   * @param cfg       the workload settings
   * @param number    the producer's number in the workload
   * @return the producer
   */
  public static Producer create(String bootstrap, WorkloadConfig cfg, int number) {
    ProducerConfig.Builder b = ProducerConfig.builder(bootstrap)
        .lingerMs(2)
        .compression(CODECS[Math.floorMod(number, CODECS.length)])
        .requestTimeoutMs(cfg.requestTimeout().toMillis())
        .deliveryTimeoutMs(cfg.deliveryTimeout().toMillis())
        .delivery(cfg.mode() == DeliveryMode.EXACTLY_ONCE
            ? io.ratislog.client.DeliveryMode.EXACTLY_ONCE : io.ratislog.client.DeliveryMode.AT_LEAST_ONCE);
    if (cfg.mode() != DeliveryMode.EXACTLY_ONCE) {
      // At-least-once keeps send order only with one batch in flight; exactly-once keeps it with its default (5),
      // which the checker's per-partition order then verifies under faults.
      b.maxInFlightPerPartition(1);
    }
    return new Producer(b.build());
  }
}
