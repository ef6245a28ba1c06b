package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RaftLogRetentionTest {
  @TempDir Path dir;

  @Test
  void countsOnlyRatisLogSegmentFiles() throws Exception {
    Files.write(dir.resolve("log_0-99"), new byte[1000]);
    Files.write(dir.resolve("log_inprogress_100"), new byte[300]);
    Files.write(dir.resolve("raft-meta"), new byte[50]);
    Files.write(dir.resolve("raft-meta.conf"), new byte[70]);
    assertEquals(1300, RaftLogRetention.logBytes(dir));
  }

  @Test
  void exceededAboveTheBoundAndAlwaysWhenTheBoundIsZero() throws Exception {
    Files.write(dir.resolve("log_0-99"), new byte[1000]);
    assertFalse(new RaftLogRetention(1000).exceeded(dir));
    assertTrue(new RaftLogRetention(999).exceeded(dir));
    assertTrue(new RaftLogRetention(0).exceeded(dir));
  }
}
