package io.ratislog.chaos.workload;

import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import java.lang.reflect.Method;

/**
 * Creates the workload's producers for a delivery mode. At-least-once is today's client. For
 * exactly-once the client's {@code ProducerConfig.Builder.delivery(DeliveryMode.EXACTLY_ONCE)} is
 * looked up reflectively, so this suite works unchanged once that option lands (then replace the
 * reflection with the direct call); until then asking for it fails clearly.
 */
public final class ProducerFactory {
  private ProducerFactory() {}

  /**
   * Creates a producer.
   *
   * @param bootstrap the bootstrap list
   * @param cfg       the workload settings
   * @return the producer
   * @throws UnsupportedOperationException when exactly-once is asked and the client lacks it
   */
  public static Producer create(String bootstrap, WorkloadConfig cfg) {
    ProducerConfig.Builder b = ProducerConfig.builder(bootstrap)
        .lingerMs(2)
        .requestTimeoutMs(cfg.requestTimeout().toMillis())
        .deliveryTimeoutMs(cfg.deliveryTimeout().toMillis())
        .maxInFlightPerPartition(1)
        .retries(true);
    if (cfg.mode() == DeliveryMode.EXACTLY_ONCE) {
      applyExactlyOnce(b);
    }
    return new Producer(b.build());
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void applyExactlyOnce(ProducerConfig.Builder b) {
    try {
      Class<? extends Enum> modeType = (Class<? extends Enum>) Class.forName("io.ratislog.client.DeliveryMode");
      Object exactlyOnce = Enum.valueOf(modeType, "EXACTLY_ONCE");
      Method delivery = ProducerConfig.Builder.class.getMethod("delivery", modeType);
      delivery.invoke(b, exactlyOnce);
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      throw new UnsupportedOperationException("this client has no exactly-once producer yet "
          + "(ProducerConfig.Builder.delivery(DeliveryMode.EXACTLY_ONCE)): " + e, e);
    }
  }
}
