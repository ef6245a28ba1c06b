package io.ratislog.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcStatTest {
  @Test
  void readsUtimePlusStimeAfterTheCommandName() {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    String line = "4242 (grpc (x) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 30 0 999 0";
    assertEquals(1290, ProcStat.cpuTicks(line));
    assertEquals("grpc (x) 1", ProcStat.name(line));
  }

  @Test
  void ownProcessUsesSomeCpu() throws Exception {
    long pid = ProcessHandle.current().pid();
    assertTrue(ProcStat.processTicks(pid) >= 0);
    assertTrue(ProcStat.threadTicks(pid).keySet().stream().anyMatch(n -> n.startsWith("java (")
        || n.startsWith("main (")), "threads: " + ProcStat.threadTicks(pid).keySet());
  }

  @Test
  void rejectsGarbage() {
    assertThrows(IllegalArgumentException.class, () -> ProcStat.cpuTicks("no parenthesis here"));
  }

  @Test
  void threadGroupsFoldDigits() {
    assertEquals("grpc-default-executor-#", Scale.group("grpc-default-executor-12 (3456)"));
  }
}
