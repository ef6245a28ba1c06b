package io.ratislog.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TimelineTest {
  private static final long MS = 1_000_000L;

  @Test
  void windowsCountAcksLatencyFailuresAndEvents(@TempDir Path dir) throws Exception {
    Timeline t = new Timeline(0, 100);
    t.ack(0, 10 * MS);        // window 0, 10 ms
    t.ack(5 * MS, 50 * MS);   // window 0, 45 ms
    t.failure(250 * MS);      // window 2
    t.event(320 * MS, "kill-n2");
    t.ack(300 * MS, 330 * MS); // window 3
    List<Timeline.Window> w = t.windows();
    assertEquals(4, w.size());
    assertEquals(20.0, w.get(0).ackedPerS(), 1e-9);
    assertEquals(45.0, w.get(0).maxMs(), 0.5);
    assertEquals(0.0, w.get(1).ackedPerS(), 1e-9);
    assertTrue(Double.isNaN(w.get(1).p99Ms()));
    assertEquals(1, w.get(2).failed());
    assertEquals("kill-n2", w.get(3).events());

    Path csv = dir.resolve("t.csv");
    t.writeCsv(csv);
    List<String> lines = Files.readAllLines(csv);
    assertEquals("t_s,acked_per_s,p50_ms,p99_ms,max_ms,failed,events", lines.get(0));
    assertEquals("0.100,0,,,,0,", lines.get(2));
    assertTrue(lines.get(4).endsWith(",0,kill-n2"), lines.get(4));

    Path png = dir.resolve("t.png");
    TimelineChart.write(t, "test", png);
    byte[] head = Files.readAllBytes(png);
    assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G');
  }

  @Test
  void nearestRankPercentiles() {
    double[] tenKills = {100, 200, 300, 400, 500, 600, 700, 800, 900, 1000};
    assertEquals(500, Failover.nearestRank(tenKills, 50));
    assertEquals(1000, Failover.nearestRank(tenKills, 99));
    assertTrue(Double.isNaN(Failover.nearestRank(new double[0], 50)));
  }
}
