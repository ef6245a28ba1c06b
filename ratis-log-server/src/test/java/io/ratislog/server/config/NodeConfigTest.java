package io.ratislog.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class NodeConfigTest {
  private static Properties valid() {
    Properties p = new Properties();
    p.setProperty("node.id", "2");
    p.setProperty("peers", "1=h1:9191:9091, 2=h2:9191:9091,3=[::1]:9193:9093");
    p.setProperty("data.dir", "/tmp/x");
    return p;
  }

  @Test
  void parsesPeersWithoutAssumingLoopback() {
    NodeConfig c = NodeConfig.of(valid());
    assertEquals(2, c.nodeId());
    assertEquals(3, c.peers().size());
    assertEquals("h2", c.self().host());
    assertEquals("h2", c.bindHost());
    assertEquals("::1", c.peer(3).host());
    assertEquals(9193, c.peer(3).raftPort());
    assertEquals(3, c.metadataVoterCount());
    assertEquals(false, c.unsafeAsyncFlush(), "fsync before ack is the default");
  }

  private static void assertRejected(String key, String value, String expectedKey) {
    Properties p = valid();
    if (value == null) {
      p.remove(key);
    } else {
      p.setProperty(key, value);
    }
    ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.of(p));
    assertEquals(expectedKey, e.key(), e.getMessage());
    assertTrue(e.getMessage().contains(expectedKey));
  }

  @Test
  void brokenConfigNamesTheKey() {
    assertRejected("node.id", null, "node.id");
    assertRejected("node.id", "abc", "node.id");
    assertRejected("node.id", "9", "node.id");
    assertRejected("peers", "1=h1:9191", "peers");
    assertRejected("peers", "1=h1:9191:9091,1=h2:9191:9091", "peers");
    assertRejected("peers", "1=h1:70000:9091,2=h2:1:2", "peers");
    assertRejected("data.dir", "", "data.dir");
    assertRejected("max.batch.bytes", "-1", "max.batch.bytes");
    assertRejected("raft.log.retain.bytes", "-1", "raft.log.retain.bytes");
    assertRejected("unsafe.async.flush", "maybe", "unsafe.async.flush");
    assertRejected("segmnet.bytes", "100", "segmnet.bytes");
  }
}
