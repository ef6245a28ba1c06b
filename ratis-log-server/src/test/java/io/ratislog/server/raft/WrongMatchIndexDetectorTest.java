package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WrongMatchIndexDetectorTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final WrongMatchIndexDetector detector = new WrongMatchIndexDetector(5, 3_000, 5_000, now::get);

  private boolean replyAfter(long ms, long matchIndex, long replyNextIndex) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    return detector.onInconsistency(matchIndex, replyNextIndex);
  }

  @Test
  void aFollowerThatKeepsRefusingTheMatchedIndexProvesItWrong() {
    for (int i = 0; i < 6; i++) {
      assertFalse(replyAfter(500, 700, 633), "reply " + i + " comes before 3 s of them");
    }
    assertTrue(replyAfter(500, 700, 633), "seven heartbeats' refusals over 3 s");
    assertTrue(replyAfter(500, 700, 700), "a follower whose log ends just before the matched index");
  }

  @Test
  void aBurstOfStaleRepliesIsNotProof() {
    for (int i = 0; i < 50; i++) {
      assertFalse(replyAfter(1, 700, 650), "answers to requests sent before the match index moved on");
    }
  }

  @Test
  void repliesAtOrPastTheMatchIndexPlusOneAgreeWithIt() {
    for (int i = 0; i < 20; i++) {
      assertFalse(replyAfter(500, 700, 701));
      assertFalse(replyAfter(500, -1, 0), "no match index recorded yet");
    }
  }

  @Test
  void aMovedMatchIndexOrAnAgreeingReplyStartsOver() {
    for (int i = 0; i < 6; i++) {
      replyAfter(500, 700, 633);
    }
    assertFalse(replyAfter(500, 800, 633), "the match index moved: a new streak");
    for (int i = 0; i < 6; i++) {
      replyAfter(500, 800, 633);
    }
    assertFalse(replyAfter(500, 800, 801), "an agreeing reply ends the streak");
    assertFalse(replyAfter(500, 800, 633));
  }

  @Test
  void refusalsFarApartAreSeparateBursts() {
    for (int i = 0; i < 20; i++) {
      assertFalse(replyAfter(6_000, 700, 633), "one stale answer every 6 s is not a streak");
    }
  }
}
