package io.ratislog.chaos.workload;

import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;

/** Creates the workload's producers for a delivery mode. */
public final class ProducerFactory {
  private ProducerFactory() {}

  /**
   * Creates a producer.
   *
   * @param bootstrap the bootstrap list
   * @param cfg       the workload settings
   * @return the producer
   */
  public static Producer create(String bootstrap, WorkloadConfig cfg) {
    ProducerConfig.Builder b = ProducerConfig.builder(bootstrap)
        .lingerMs(2)
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
