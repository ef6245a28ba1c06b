package io.ratislog.server.raft;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Tells, from a leader's appender's INCONSISTENCY replies, when its record of a follower's match index is of no
 * use: the follower keeps answering a next index at or below it. Ratis' follower answers the lower of its own next
 * index and the request's previous index, so it either has a log that ends before the match index, or lacks the
 * leader's entry at that index (another term's entry there, or one purged from its log). A true match index is in
 * the follower's log unless purged (a follower truncates only entries that conflict with the leader's, and matched
 * ones do not); either way the leader must find the common prefix afresh, which restarting the appender does.
 *
 * <p>One such reply is not proof: an answer to a request sent before the match index moved on can name an earlier
 * index (Ratis answers "already committed" with the follower's commit index + 1). So the detector fires only on a
 * streak: at least {@code minReplies} such replies at one unchanged match index, spanning at least {@code minSpan},
 * none more than {@code maxGap} after the one before. A healthy follower breaks a streak at once (its replies
 * succeed, its match index moves); a follower the leader has wrong answers every heartbeat, for ever.
 *
 * <p>Not thread-safe: one appender's replies are handled one at a time.
 */
final class WrongMatchIndexDetector {
  private final int minReplies;
  private final long minSpanNanos;
  private final long maxGapNanos;
  private final LongSupplier nanoClock;

  private long streakMatchIndex = Long.MIN_VALUE;
  private int streakReplies;
  private long streakStart;
  private long lastReply;

  WrongMatchIndexDetector(int minReplies, long minSpanMs, long maxGapMs, LongSupplier nanoClock) {
    this.minReplies = minReplies;
    this.minSpanNanos = TimeUnit.MILLISECONDS.toNanos(minSpanMs);
    this.maxGapNanos = TimeUnit.MILLISECONDS.toNanos(maxGapMs);
    this.nanoClock = nanoClock;
  }

  /** The thresholds an appender uses: 5 replies over at least 3 s, at most 5 s apart (heartbeats come every 0.5 s). */
  static WrongMatchIndexDetector standard() {
    return new WrongMatchIndexDetector(5, 3_000, 5_000, System::nanoTime);
  }

  /**
   * Records one INCONSISTENCY reply.
   *
   * @param matchIndex the leader's match index for the follower when the reply arrived
   * @param replyNextIndex the next index the follower asked for
   * @return true once the streak proves the match index wrong (and again for every later reply of the streak)
   */
  boolean onInconsistency(long matchIndex, long replyNextIndex) {
    long now = nanoClock.getAsLong();
    boolean contradicts = matchIndex >= 0 && replyNextIndex <= matchIndex;
    if (!contradicts) {
      streakReplies = 0;
      return false;
    }
    if (streakReplies == 0 || matchIndex != streakMatchIndex || now - lastReply > maxGapNanos) {
      streakMatchIndex = matchIndex;
      streakReplies = 0;
      streakStart = now;
    }
    streakReplies++;
    lastReply = now;
    return streakReplies >= minReplies && now - streakStart >= minSpanNanos;
  }
}
