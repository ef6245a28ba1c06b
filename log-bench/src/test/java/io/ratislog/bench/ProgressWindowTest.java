package io.ratislog.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressWindowTest {
  private static final long MS = 1_000_000L;

  @Test
  void aWindowClosesAtTheFirstAckAfterTheIntervalInKafkasFormat() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    ProgressWindow w = new ProgressWindow(1000, 100, out, 0);
    w.record(2_000, 400 * MS);
    w.record(4_000, 999 * MS);
    assertEquals("", bytes.toString(StandardCharsets.UTF_8), "no window before the interval has passed");
    w.record(6_000, 2000 * MS);
    w.record(1_000, 2500 * MS);
    w.record(3_000, 3000 * MS);

    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertEquals(2, lines.length);
    // 3 records in 2 s; 300 B / 2 s in MiB/s; latencies 2, 4, 6 ms.
    assertEquals("3 records sent, 1.5 records/sec (0.00 MB/sec), 4.0 ms avg latency, 6.0 ms max latency.", lines[0]);
    // The next window starts at the ack that closed the previous one: 2 records in 1 s.
    assertEquals("2 records sent, 2.0 records/sec (0.00 MB/sec), 2.0 ms avg latency, 3.0 ms max latency.", lines[1]);
  }

  @Test
  void intervalZeroPrintsNothing() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressWindow w = new ProgressWindow(0, 100, new PrintStream(bytes, true, StandardCharsets.UTF_8), 0);
    for (int i = 1; i <= 10; i++) {
      w.record(1_000, i * 1000 * MS);
    }
    assertEquals("", bytes.toString(StandardCharsets.UTF_8));
  }
}
