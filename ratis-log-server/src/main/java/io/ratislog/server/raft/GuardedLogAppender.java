package io.ratislog.server.raft;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' gRPC log appender, restarted when its record of the follower's match index is proven wrong.
 *
 * <p>Ratis 3.3.0 never lowers a follower's match index within a term, and after an INCONSISTENCY reply it keeps the
 * next index at match index + 1 at least. When the recorded match index is past the end of the follower's log, the
 * leader sends that follower only requests it refuses, for as long as it leads: the follower never catches up, and
 * the group runs without a spare replica. The one way there seen (a restarted follower catching up, in the failover
 * benchmark) was the follower acknowledging entries it never appended, which {@link AppendReplyVerifier} now
 * prevents; this guard stays for any other (RATIS-2605 describes one upstream). {@link WrongMatchIndexDetector}
 * recognises the loop; the appender then asks its leader to restart it ({@link LeaderState#restart}, Ratis' own
 * recovery for a failed appender), which starts the follower's record afresh (no match index, next index 0), and
 * the ordinary back-off finds the real common prefix (or, where the leader purged that part of its log, it sends
 * its snapshot). Lowering a match index is always safe: the leader only counts the follower later.
 *
 * <p>It also waits for the next heartbeat, instead of spinning, when its follower is unreachable and it has nothing
 * new to send: see {@link #getWaitTimeMs()}.
 */
final class GuardedLogAppender extends GrpcLogAppender {
  private static final Logger LOG = LoggerFactory.getLogger(GuardedLogAppender.class);

  private final WrongMatchIndexDetector detector = WrongMatchIndexDetector.standard();
  private final AtomicBoolean restartRequested = new AtomicBoolean();

  GuardedLogAppender(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower) {
    super(server, leaderState, follower);
  }

  /**
   * How long the appender's loop waits before looking again: Ratis' answer, except that with nothing to send before
   * the next heartbeat it waits for that heartbeat (a new entry or a triggered heartbeat still wakes it at once).
   *
   * <p>Ratis 3.3.0 counts a follower without an open stream as one to send to at once, and its wait then comes out as
   * the appender's minimum wait, which ratislog sets to zero. After a failed send to a follower that is down (the
   * stream is dropped, and the follower's next index stays past the entries tried), the loop found nothing to send,
   * returned without opening a stream, and went round again without waiting, until the next heartbeat's send failed
   * too. Every group led on a node kept one thread busy that way while a follower was down; when a dead node's dozen
   * groups changed leader at once, those threads took most of the survivors' cores and the first commits under the
   * new leaders took 1.3-1.8 s instead of ~0.2 s ({@code DownFollowerAppenderIT}).
   */
  @Override
  public long getWaitTimeMs() {
    long wait = super.getWaitTimeMs();
    if (wait > 0 || hasAppendEntries()) {
      return wait;
    }
    return Math.max(wait, getHeartbeatWaitTimeMs());
  }

  @Override
  protected long getNextIndexForInconsistency(long requestFirstIndex, long replyNextIndex) {
    FollowerInfo follower = getFollower();
    boolean proven = detector.onInconsistency(follower.getMatchIndex(), replyNextIndex);
    if (proven && restartRequested.compareAndSet(false, true)) {
      // Ratis' follower answers min(its next index, the request's previous index): at or below the match index,
      // either its log ends there or it lacks the leader's entry at that index (another term, or purged).
      LOG.warn("{}: follower {} keeps answering INCONSISTENCY with next index {}, at or below the index {} the leader"
          + " recorded as matched ({}); restarting its appender to find the real common prefix", this,
          follower.getName(), replyNextIndex, follower.getMatchIndex(), follower);
      // Not from this thread: the restart stops this appender, whose reply handler is running here.
      CompletableFuture.runAsync(() -> {
        if (isRunning()) {
          getLeaderState().restart(this);
        }
      });
    }
    return super.getNextIndexForInconsistency(requestFirstIndex, replyNextIndex);
  }
}
