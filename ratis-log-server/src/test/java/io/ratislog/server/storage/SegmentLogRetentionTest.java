package io.ratislog.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SegmentLog#advanceStartTo}: the log start retention moves, with whole segments deleted below it. */
class SegmentLogRetentionTest {
  @TempDir Path dir;

  private static SegmentLog filled(Path dir, int batches) throws Exception {
    SegmentLog log = SegmentLog.open(dir, new SegmentLogConfig(1024, 100));
    for (int i = 0; i < batches; i++) {
      log.append(i * 2L, 2, 1000 + i, 0, new byte[300]);
    }
    return log;
  }

  @Test
  void advancingToASegmentBaseDeletesTheSegmentsBelow() throws Exception {
    try (SegmentLog log = filled(dir, 12)) {
      List<SegmentLog.SegmentSummary> before = log.segmentSummaries();
      long secondBase = before.get(1).baseOffset();
      log.advanceStartTo(secondBase);
      assertEquals(secondBase, log.logStartOffset());
      assertEquals(before.size() - 1, log.segmentFiles().size());
      assertThrows(OffsetOutOfRangeException.class, () -> log.read(secondBase - 1, 100));
      assertEquals(secondBase, log.read(secondBase, 100).get(0).baseOffset());
    }
  }

  @Test
  void advancingInsideASegmentKeepsItButRefusesReadsBelow() throws Exception {
    try (SegmentLog log = filled(dir, 12)) {
      long secondBase = log.segmentSummaries().get(1).baseOffset();
      int segments = log.segmentFiles().size();
      log.advanceStartTo(secondBase + 2);
      assertEquals(secondBase + 2, log.logStartOffset());
      assertEquals(segments - 1, log.segmentFiles().size(), "the straddling segment stays");
      assertThrows(OffsetOutOfRangeException.class, () -> log.read(secondBase, 100));
      assertEquals(secondBase + 2, log.read(secondBase + 2, 100).get(0).baseOffset());
      log.advanceStartTo(1);
      assertEquals(secondBase + 2, log.logStartOffset(), "never moves back");
    }
  }

  @Test
  void advancingToTheEndLeavesOneEmptySegment() throws Exception {
    try (SegmentLog log = filled(dir, 12)) {
      log.advanceStartTo(24);
      assertEquals(24, log.logStartOffset());
      assertEquals(List.of(new SegmentLog.SegmentSummary(24, 24, 0)), log.segmentSummaries());
      assertThrows(IllegalArgumentException.class, () -> log.advanceStartTo(25));
      log.append(24, 1, 5000, 0, new byte[10]);
      assertEquals(24, log.read(24, 100).get(0).baseOffset());
    }
  }
}
