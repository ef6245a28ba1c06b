package io.ratislog.server.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.server.config.NodeConfig;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ReplicaCapacityTest {
  private static final long MIB = 1L << 20;

  @Test
  void theSmallerOfTheCoreAndDirectMemoryBounds() {
    // 2 cores: 200 by CPU; 1 GiB direct less a 256 MiB reserve holds 186 groups of 4 MiB + 128 KiB, one of them
    // the metadata group's.
    ReplicaCapacity memoryBound = ReplicaCapacity.derive(2, 1024 * MIB, 4 * MIB + 128 * 1024);
    assertEquals(185, memoryBound.maxReplicas());
    assertTrue(memoryBound.reason().contains("direct memory"), memoryBound.reason());
    ReplicaCapacity cpuBound = ReplicaCapacity.derive(2, 2048 * MIB, MIB + 128 * 1024);
    assertEquals(200, cpuBound.maxReplicas());
    assertTrue(cpuBound.reason().contains("per core"), cpuBound.reason());
    assertEquals(1, ReplicaCapacity.derive(1, 80 * MIB, 64 * MIB).maxReplicas(), "never below one");
  }

  @Test
  void aConfiguredLimitWins() {
    Properties p = new Properties();
    p.setProperty("node.id", "1");
    p.setProperty("peers", "1=127.0.0.1:9000:9100");
    p.setProperty("data.dir", Path.of("target", "capacity-test").toString());
    p.setProperty("max.partitions.per.node", "5000");
    ReplicaCapacity c = ReplicaCapacity.of(NodeConfig.of(p));
    assertEquals(5000, c.maxReplicas());
    assertEquals("max.partitions.per.node", c.reason());
  }
}
