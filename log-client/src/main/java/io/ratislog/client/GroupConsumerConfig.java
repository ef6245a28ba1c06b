package io.ratislog.client;

import io.ratislog.proto.Assignor;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link GroupConsumer} joins and how it commits.
 *
 * @param consumer            fetch settings (bootstrap, long-poll, auto-offset-reset for partitions without a
 *                            committed offset, ...)
 * @param group               the group name ([A-Za-z0-9._-])
 * @param topics              the subscribed topics
 * @param delivery            AT_MOST_ONCE, AT_LEAST_ONCE, or EXACTLY_ONCE (offsets committed only through a
 *                            transactional producer's {@code sendOffsetsToTransaction})
 * @param sessionTimeoutMs    the member is expired when no heartbeat reached the metadata leader for this long
 * @param heartbeatIntervalMs how often the background thread heartbeats (less than the session timeout)
 * @param assignor            how the group spreads partitions (the first member's choice holds)
 * @param clientId            a readable prefix of the member id
 */
public record GroupConsumerConfig(ConsumerConfig consumer, String group, List<String> topics, DeliveryMode delivery,
    int sessionTimeoutMs, int heartbeatIntervalMs, Assignor assignor, String clientId, int pushWindow) {

  /**
   * Validates the settings.
   *
   * @param consumer            not null
   * @param group               not empty
   * @param topics              not empty
   * @param delivery            the delivery mode
   * @param sessionTimeoutMs    1000..300000
   * @param heartbeatIntervalMs &gt; 0 and below the session timeout
   * @param assignor            not null
   * @param clientId            not null
   */
  public GroupConsumerConfig {
    Objects.requireNonNull(consumer, "consumer");
    Objects.requireNonNull(assignor, "assignor");
    Objects.requireNonNull(clientId, "clientId");
    topics = List.copyOf(topics);
    if (group == null || group.isEmpty() || topics.isEmpty()) {
      throw new IllegalArgumentException("a group consumer needs a group name and at least one topic");
    }
    if (delivery == DeliveryMode.EXACTLY_ONCE && consumer.isolationLevel() != io.ratislog.proto.IsolationLevel.READ_COMMITTED) {
      throw new IllegalArgumentException("EXACTLY_ONCE consumption reads READ_COMMITTED");
    }
    Objects.requireNonNull(delivery, "delivery");
    if (pushWindow != 0 && pushWindow < 2) {
      throw new IllegalArgumentException("pushWindow must be 0 (pull) or >= 2, got " + pushWindow);
    }
    if (heartbeatIntervalMs <= 0 || heartbeatIntervalMs >= sessionTimeoutMs) {
      throw new IllegalArgumentException("heartbeatIntervalMs must be > 0 and below sessionTimeoutMs");
    }
  }

  /**
   * Defaults: a 10 s session, a heartbeat every 3 s, the RANGE assignor, client id "consumer".
   *
   * @param consumer fetch settings
   * @param group    the group
   * @param topics   the subscribed topics
   * @param delivery AT_MOST_ONCE or AT_LEAST_ONCE
   * @return the config
   */
  public static GroupConsumerConfig of(ConsumerConfig consumer, String group, List<String> topics,
                                       DeliveryMode delivery) {
    return new GroupConsumerConfig(consumer, group, topics, delivery, 10_000, 3_000, Assignor.RANGE, "consumer", 0);
  }

  /**
   * The same settings with another session timeout and heartbeat interval.
   *
   * @param sessionMs   the session timeout
   * @param heartbeatMs the heartbeat interval
   * @return the config
   */
  public GroupConsumerConfig withSession(int sessionMs, int heartbeatMs) {
    return new GroupConsumerConfig(consumer, group, topics, delivery, sessionMs, heartbeatMs, assignor, clientId,
        pushWindow);
  }

  /**
   * The same settings, consuming by push: the leaders of the assigned partitions stream their records
   * ({@link Subscription}, up to {@code window} records ahead of the application per partition) instead of
   * being polled. Heartbeats, rebalances and commits work the same.
   *
   * @param window records the server may push ahead of the application, per partition (&gt;= 2)
   * @return the new settings
   */
  public GroupConsumerConfig withPush(int window) {
    return new GroupConsumerConfig(consumer, group, topics, delivery, sessionTimeoutMs, heartbeatIntervalMs, assignor,
        clientId, window);
  }
}
