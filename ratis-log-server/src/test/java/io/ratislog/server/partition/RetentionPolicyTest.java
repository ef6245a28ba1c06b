package io.ratislog.server.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ratislog.server.partition.RetentionPolicy.SegmentInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetentionPolicyTest {
  // Three sealed segments of 100 bytes appended at t=1000, 2000, 3000 and an active one (50 bytes, t=4000).
  private static final List<SegmentInfo> LOG = List.of(
      new SegmentInfo(0, 10, 100, 1000),
      new SegmentInfo(10, 20, 100, 2000),
      new SegmentInfo(20, 30, 100, 3000),
      new SegmentInfo(30, 35, 50, 4000));

  @Test
  void unlimitedKeepsEverything() {
    assertEquals(0, RetentionPolicy.newLogStart(LOG, 1_000_000, -1, -1));
  }

  @Test
  void timeDeletesTheOldSegmentsUpToTheFirstYoungOne() {
    assertEquals(0, RetentionPolicy.newLogStart(LOG, 2000, 1000, -1), "exactly retention.ms old is kept");
    assertEquals(10, RetentionPolicy.newLogStart(LOG, 2001, 1000, -1));
    assertEquals(30, RetentionPolicy.newLogStart(LOG, 4000, 500, -1));
    assertEquals(35, RetentionPolicy.newLogStart(LOG, 10_000, 500, -1), "an expired active segment goes too");
  }

  @Test
  void timeStopsAtAYoungerSegmentEvenIfLaterOnesAreOlder() {
    List<SegmentInfo> skewed = List.of(new SegmentInfo(0, 10, 100, 1000), new SegmentInfo(10, 20, 100, 9000),
        new SegmentInfo(20, 30, 100, 1500), new SegmentInfo(30, 30, 0, Long.MIN_VALUE));
    assertEquals(10, RetentionPolicy.newLogStart(skewed, 5000, 1000, -1));
  }

  @Test
  void sizeKeepsAtLeastRetentionBytesAndNeverTheActiveSegment() {
    assertEquals(0, RetentionPolicy.newLogStart(LOG, 0, -1, 350), "350 bytes stored, all kept");
    assertEquals(0, RetentionPolicy.newLogStart(LOG, 0, -1, 251), "dropping 100 would leave 250 < 251");
    assertEquals(10, RetentionPolicy.newLogStart(LOG, 0, -1, 250));
    assertEquals(30, RetentionPolicy.newLogStart(LOG, 0, -1, 0), "the active segment stays");
  }

  @Test
  void theLongerPrefixWins() {
    assertEquals(20, RetentionPolicy.newLogStart(LOG, 2500, 1000, 150), "time drops 1 segment, size 2");
    assertEquals(20, RetentionPolicy.newLogStart(LOG, 3500, 1000, 250), "time drops 2 segments, size 1");
  }

  @Test
  void anEmptyActiveSegmentNeverExpires() {
    List<SegmentInfo> fresh = List.of(new SegmentInfo(40, 40, 0, Long.MIN_VALUE));
    assertEquals(40, RetentionPolicy.newLogStart(fresh, Long.MAX_VALUE, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.newLogStart(List.of(), 0, 0, 0));
  }
}
