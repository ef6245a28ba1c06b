package io.ratislog.chaos.workload;

import java.time.Duration;

/**
 * Settings of the append workload.
 *
 * @param topic              the topic (created by the run)
 * @param partitions         its partition count
 * @param producers          producer threads, each with its own {@code Producer}
 * @param readers            reader threads, each with its own {@code Consumer}
 * @param mode               the delivery mode asked of the producers
 * @param sendsPerSecond     target send rate of each producer
 * @param maxSendsPerProducer upper bound on each producer's sends
 * @param window             sends a producer may have outstanding per partition
 * @param requestTimeout     produce RPC timeout
 * @param deliveryTimeout    bound from send to its completion, retries included
 */
public record WorkloadConfig(String topic, int partitions, int producers, int readers, DeliveryMode mode,
    int sendsPerSecond, int maxSendsPerProducer, int window, Duration requestTimeout,
    Duration deliveryTimeout) {

  /**
   * Defaults sized for a 2-core machine running 3-5 nodes.
   *
   * @param topic the topic
   * @param mode  the delivery mode
   * @return the config
   */
  public static WorkloadConfig defaults(String topic, DeliveryMode mode) {
    return new WorkloadConfig(topic, 4, 3, 2, mode, 60, 200_000, 16, Duration.ofSeconds(5),
        Duration.ofSeconds(20));
  }
}
