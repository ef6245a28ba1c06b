package io.ratislog.server.raft;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a follower's SUCCESS answer to an append promise no more than its Raft log holds, forced to disk.
 *
 * <p>Ratis 3.3.0 composes a follower's appends ({@code raft.server.log.append-entries.compose.enabled}, on by
 * default): while one append is being written, a second one that starts at the same index is taken for a duplicate
 * and answered, once the first is written, SUCCESS up to its own last entry, even when it carries more entries than
 * the first. Those are never appended. A leader resends from the same index after an error or an INCONSISTENCY
 * reply, by which time it often has more to send, so this happens while a restarted follower catches up. The
 * leader then records a match index past the follower's log, which it never lowers within a term (the follower
 * stalls: {@link GuardedLogAppender}), and counts the follower towards the quorum of entries it does not hold: an
 * entry could be committed with a single copy.
 *
 * <p>Such an answer becomes INCONSISTENCY with the follower's real next index, the answer Ratis gives when a
 * request's previous entry is missing; the leader then sends the missing entries again. The same holds for an
 * entry the log holds but has not forced yet (not seen with composing on; without it, Ratis answers a request
 * whose entries all arrived before, still being written, at once). Heartbeats and other answers pass unchanged.
 */
final class AppendReplyVerifier implements InvocationHandler {
  private static final Logger LOG = LoggerFactory.getLogger(AppendReplyVerifier.class);
  private static final Method APPEND_ENTRIES_ASYNC;

  static {
    try {
      APPEND_ENTRIES_ASYNC = RaftServer.class.getMethod("appendEntriesAsync", AppendEntriesRequestProto.class);
    } catch (NoSuchMethodException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final RaftServer server;

  private AppendReplyVerifier(RaftServer server) {
    this.server = server;
  }

  /** The server, answering appends only with what its logs hold; every other call goes to it unchanged. */
  static RaftServer wrap(RaftServer server) {
    return (RaftServer) Proxy.newProxyInstance(RaftServer.class.getClassLoader(), new Class<?>[] {RaftServer.class},
        new AppendReplyVerifier(server));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.equals(APPEND_ENTRIES_ASYNC)) {
      AppendEntriesRequestProto request = (AppendEntriesRequestProto) args[0];
      return server.appendEntriesAsync(request).thenApply(reply -> verified(request, reply));
    }
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> proxy == args[0];
        case "hashCode" -> System.identityHashCode(proxy);
        default -> "verified " + server;
      };
    }
    try {
      return method.invoke(server, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private AppendEntriesReplyProto verified(AppendEntriesRequestProto request, AppendEntriesReplyProto reply) {
    if (reply.getResult() != AppendResult.SUCCESS || request.getEntriesCount() == 0) {
      return reply;
    }
    RaftGroupId group = ProtoUtils.toRaftGroupId(request.getServerRequest().getRaftGroupId());
    RaftLog log;
    try {
      log = server.getDivision(group).getRaftLog();
    } catch (IOException | RuntimeException e) {
      return reply; // the group is gone: the leader learns that from the next request
    }
    AppendEntriesReplyProto checked = verify(request, reply, log);
    if (checked != reply) {
      LOG.warn("{}@{}: answering INCONSISTENCY (next index {}) instead of SUCCESS up to {}: the log holds entries "
              + "{} to {} forced up to {} (request {} entries from {})", server.getId(), group, checked.getNextIndex(),
          reply.getMatchIndex(), log.getStartIndex(), log.getNextIndex() - 1, log.getFlushIndex(),
          request.getEntriesCount(), request.getEntries(0).getIndex());
    }
    return checked;
  }

  /**
   * The reply, or, when its last acknowledged entry is neither in the log and forced nor before the log's start
   * (purged after a snapshot, hence committed), an INCONSISTENCY reply naming the first index the log does not
   * hold forced: its next index, or the first entry written but not forced yet.
   */
  static AppendEntriesReplyProto verify(AppendEntriesRequestProto request, AppendEntriesReplyProto reply, RaftLog log) {
    LogEntryProto last = request.getEntries(request.getEntriesCount() - 1);
    long index = last.getIndex();
    if (index < log.getStartIndex() || index <= log.getSnapshotIndex()) {
      return reply;
    }
    var held = log.getTermIndex(index);
    if (held != null && held.getTerm() == last.getTerm() && log.getFlushIndex() >= index) {
      return reply;
    }
    return reply.toBuilder()
        .setResult(AppendResult.INCONSISTENCY)
        .setNextIndex(Math.min(log.getNextIndex(), log.getFlushIndex() + 1))
        .setMatchIndex(RaftLog.INVALID_LOG_INDEX)
        .build();
  }
}
