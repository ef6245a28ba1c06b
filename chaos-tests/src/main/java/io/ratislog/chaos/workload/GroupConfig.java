package io.ratislog.chaos.workload;

import java.time.Duration;

/**
 * Settings of the consumer-group workload (c).
 *
 * @param group            the consumer group's name
 * @param members          member threads, each with its own {@code GroupConsumer}
 * @param sessionTimeout   the members' session timeout: an abandoned member's partitions move after it
 * @param heartbeat        the members' heartbeat interval
 * @param crashMin         shortest time between two member crashes (0: no crashes)
 * @param crashMax         longest time between two member crashes
 * @param observeEvery     how often the observer reads the group's committed offsets (0: never during the run)
 * @param requestTimeout   RPC timeout of the members
 */
public record GroupConfig(String group, int members, Duration sessionTimeout, Duration heartbeat,
    Duration crashMin, Duration crashMax, Duration observeEvery, Duration requestTimeout) {

  /**
   * Validates.
   *
   * @param group          group
   * @param members        members
   * @param sessionTimeout session timeout
   * @param heartbeat      heartbeat
   * @param crashMin       crash min
   * @param crashMax       crash max
   * @param observeEvery   observation period
   * @param requestTimeout RPC timeout
   */
  public GroupConfig {
    if (members < 1) {
      throw new IllegalArgumentException("a group workload needs at least one member");
    }
    if (crashMax.compareTo(crashMin) < 0) {
      throw new IllegalArgumentException("crashMax < crashMin");
    }
  }

  /**
   * Defaults: group {@code chaos-group}, 3 members, 6 s sessions with 1 s heartbeats, a member crash
   * every 6-12 s, committed offsets observed every 2 s.
   *
   * @return the config
   */
  public static GroupConfig defaults() {
    return new GroupConfig("chaos-group", 3, Duration.ofSeconds(6), Duration.ofSeconds(1), Duration.ofSeconds(6),
        Duration.ofSeconds(12), Duration.ofSeconds(2), Duration.ofSeconds(5));
  }
}
