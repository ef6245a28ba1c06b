package io.ratislog.server.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.ratislog.proto.ErrorCode;
import org.junit.jupiter.api.Test;

class ProducerStateTableTest {
  private static final long EXPIRY = 60_000;

  private static ProducerStateTable.Decision write(ProducerStateTable t, long pid, int epoch, int seq, int count, long offset, long now) {
    ProducerStateTable.Decision d = t.check(pid, epoch, seq, count, now, EXPIRY);
    if (d instanceof ProducerStateTable.Append) {
      t.recordAppend(pid, epoch, seq, count, offset, now, EXPIRY);
    }
    return d;
  }

  private static ErrorCode rejected(ProducerStateTable.Decision d) {
    return assertInstanceOf(ProducerStateTable.Reject.class, d).code();
  }

  @Test
  void retriesAreAnsweredWithTheOriginalOffsets() {
    ProducerStateTable t = new ProducerStateTable();
    assertInstanceOf(ProducerStateTable.Append.class, write(t, 7, 0, 0, 3, 100, 1));
    assertInstanceOf(ProducerStateTable.Append.class, write(t, 7, 0, 3, 2, 103, 2));
    ProducerStateTable.Duplicate dup = assertInstanceOf(ProducerStateTable.Duplicate.class, write(t, 7, 0, 0, 3, 999, 3));
    assertEquals(100, dup.baseOffset());
    assertEquals(103, assertInstanceOf(ProducerStateTable.Duplicate.class, write(t, 7, 0, 3, 2, 999, 3)).baseOffset());
  }

  @Test
  void gapsOldSequencesAndOldEpochsAreRefused() {
    ProducerStateTable t = new ProducerStateTable();
    assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE, rejected(write(t, 1, 0, 5, 1, 0, 1)), "unknown producer must start at 0");
    write(t, 1, 0, 0, 1, 0, 1);
    assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE, rejected(write(t, 1, 0, 2, 1, 1, 2)), "gap");
    for (int s = 1; s <= 6; s++) {
      write(t, 1, 0, s, 1, s, 2);
    }
    assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE, rejected(write(t, 1, 0, 0, 1, 9, 3)), "older than the dedup window");
    assertInstanceOf(ProducerStateTable.Append.class, write(t, 1, 1, 0, 1, 7, 4), "a new epoch starts at 0");
    assertEquals(ErrorCode.PRODUCER_FENCED, rejected(write(t, 1, 0, 7, 1, 8, 5)));
    assertEquals(ErrorCode.INVALID_REQUEST, rejected(write(t, 1, 1, -1, 1, 8, 5)));
    assertEquals(ErrorCode.INVALID_REQUEST, rejected(write(t, 1, 1, Integer.MAX_VALUE, 2, 8, 5)));
  }

  @Test
  void idleProducersExpireByEntryTimeWhetherOrNotPurged() {
    ProducerStateTable purged = new ProducerStateTable();
    ProducerStateTable kept = new ProducerStateTable();
    for (ProducerStateTable t : new ProducerStateTable[] {purged, kept}) {
      write(t, 3, 0, 0, 1, 0, 1_000);
    }
    purged.purgeExpired(1_000 + EXPIRY + 1, EXPIRY);
    assertEquals(0, purged.size());
    assertEquals(1, kept.size());
    for (ProducerStateTable t : new ProducerStateTable[] {purged, kept}) {
      assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE, rejected(t.check(3, 0, 1, 1, 1_000 + EXPIRY + 1, EXPIRY)));
      assertInstanceOf(ProducerStateTable.Append.class, t.check(3, 0, 0, 1, 1_000 + EXPIRY + 1, EXPIRY));
    }
  }

  @Test
  void snapshotRoundTrip() {
    ProducerStateTable t = new ProducerStateTable();
    write(t, 2, 0, 0, 4, 10, 5);
    write(t, 9, 3, 0, 1, 14, 6);
    ProducerStateTable restored = ProducerStateTable.fromRecords(t.toRecords());
    assertEquals(t.toRecords(), restored.toRecords());
    assertEquals(10, assertInstanceOf(ProducerStateTable.Duplicate.class, restored.check(2, 0, 0, 4, 7, EXPIRY)).baseOffset());
  }
}
