package io.ratislog.server.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Node;
import io.ratislog.proto.SubscribeRequest;
import io.ratislog.proto.SubscribeResponse;
import io.ratislog.proto.SubscribeStart;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.storage.StoredBatch;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One push subscription: streams a partition's committed batches from an offset while the client's credits
 * (records) last, waits for new records when it reached the end, and ends the stream with an error the
 * client acts on (NOT_LEADER with the new leader, OFFSET_OUT_OF_RANGE, ...).
 *
 * <p>Flow control is two-fold: credits bound what the application has not consumed yet, and the transport's
 * readiness ({@code isReady}) bounds what the network has not delivered yet. Reads run on the read executor,
 * one step at a time ({@code pumping}); every call on the response stream is made holding {@code lock}.
 */
final class SubscribeSession implements StreamObserver<SubscribeRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(SubscribeSession.class);
  private static final int MAX_BYTES_PER_MESSAGE = 1024 * 1024;

  private final PartitionRouter router;
  private final ExecutorService readExecutor;
  private final ServerCallStreamObserver<SubscribeResponse> out;
  private final long waitMs;
  private final Object lock = new Object();
  private PartitionRouter.Route route;
  private long offset;
  private long credits;
  /** READ_COMMITTED: only records below the last stable offset, never an aborted transaction's. */
  private boolean readCommitted;
  private boolean pumping;
  private boolean done;

  SubscribeSession(PartitionRouter router, ExecutorService readExecutor,
                   ServerCallStreamObserver<SubscribeResponse> out, long waitMs) {
    this.router = router;
    this.readExecutor = readExecutor;
    this.out = out;
    this.waitMs = waitMs;
    out.setOnReadyHandler(this::pump);
    out.setOnCancelHandler(() -> {
      synchronized (lock) {
        done = true;
      }
    });
  }

  @Override
  public void onNext(SubscribeRequest request) {
    switch (request.getKindCase()) {
      case START -> start(request.getStart());
      case CREDITS -> grant(request.getCredits());
      case KIND_NOT_SET -> finish(Errors.of(ErrorCode.INVALID_REQUEST, "empty subscribe request"), null);
    }
  }

  private void start(SubscribeStart s) {
    synchronized (lock) {
      if (route != null) {
        finishLocked(Errors.of(ErrorCode.INVALID_REQUEST, "the subscription was already started"), null);
        return;
      }
    }
    if (s.getOffset() < 0 || s.getCredits() <= 0) {
      finish(Errors.of(ErrorCode.INVALID_REQUEST, "offset must be >= 0 and credits > 0 (offset "
          + s.getOffset() + ", credits " + s.getCredits() + ")"), null);
      return;
    }
    PartitionRouter.Route r = router.route(s.getTopic(), s.getPartition());
    if (!r.ok()) {
      router.confirmedError(s.getTopic(), s.getPartition(), r).thenAccept(error -> finish(error, r.leader()));
      return;
    }
    synchronized (lock) {
      route = r;
      offset = s.getOffset();
      credits = s.getCredits();
      readCommitted = s.getIsolationLevel() != io.ratislog.proto.IsolationLevel.READ_UNCOMMITTED;
    }
    pump();
  }

  private void grant(int more) {
    synchronized (lock) {
      if (route == null || more <= 0) {
        finishLocked(Errors.of(ErrorCode.INVALID_REQUEST, route == null ? "credits before start"
            : "credits must be > 0, got " + more), null);
        return;
      }
      credits += more;
    }
    pump();
  }

  /** Schedules a step unless one is running, nothing may be sent, or the transport is not ready. */
  private void pump() {
    synchronized (lock) {
      if (done || pumping || route == null || credits <= 0 || !out.isReady()) {
        return;
      }
      pumping = true;
    }
    try {
      readExecutor.execute(this::step);
    } catch (RuntimeException rejected) {
      finish(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "node is shutting down"), null);
    }
  }

  private void step() {
    PartitionRouter.Route r;
    long from;
    synchronized (lock) {
      r = route;
      from = offset;
    }
    try {
      if (!r.stillLeader()) {
        endStep(Errors.of(ErrorCode.NOT_LEADER, "leadership of the partition moved"), router.leaderHint(r.division()));
        return;
      }
      PartitionStateMachine sm = r.stateMachine();
      if (!sm.isServing()) {
        endStep(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "the partition is loading"), null);
        return;
      }
      long end = sm.logEndOffset();
      if (from < sm.logStartOffset() || (from > end && r.caughtUp())) {
        endStep(Errors.of(ErrorCode.OFFSET_OUT_OF_RANGE, "offset " + from + " is outside the log ["
            + sm.logStartOffset() + ", " + end + "]"), null);
        return;
      }
      long visibleEnd = readCommitted ? sm.lastStableOffset() : end;
      if (from >= visibleEnd) {
        (readCommitted ? sm.awaitStableBeyond(from, waitMs) : sm.awaitBeyond(from, waitMs))
            .thenRunAsync(this::stepDone, readExecutor);
        return;
      }
      PartitionStateMachine.ReadView view = sm.readView(from, MAX_BYTES_PER_MESSAGE, readCommitted);
      SubscribeResponse.Builder b = SubscribeResponse.newBuilder().setError(Errors.NONE).setLogEndOffset(end)
          .setLastStableOffset(view.lastStableOffset());
      long next = from;
      long delivered = 0;
      boolean all = true;
      for (StoredBatch s : view.batches()) {
        b.addBatches(LogServiceImpl.toFetched(s));
        delivered += s.nextOffset() - Math.max(s.baseOffset(), from);
        next = s.nextOffset();
        synchronized (lock) {
          if (credits - delivered <= 0) {
            all = false;
            break;
          }
        }
      }
      if (all && view.nextOffset() > next) {
        next = view.nextOffset(); // past aborted batches the view skipped
        b.setNextOffset(next);
      }
      synchronized (lock) {
        if (done) {
          return;
        }
        if (b.getBatchesCount() > 0) {
          out.onNext(b.build());
        }
        offset = next;
        credits -= delivered;
      }
      stepDone();
    } catch (IOException | RuntimeException e) {
      LOG.debug("subscription step failed: {}", e.toString());
      endStep(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "read failed: " + e.getMessage()), null);
    }
  }

  private void stepDone() {
    synchronized (lock) {
      pumping = false;
    }
    pump();
  }

  private void endStep(Error error, Node leader) {
    synchronized (lock) {
      pumping = false;
      finishLocked(error, leader);
    }
  }

  private void finish(Error error, Node leader) {
    synchronized (lock) {
      finishLocked(error, leader);
    }
  }

  /** Sends the final error and ends the stream, once. */
  private void finishLocked(Error error, Node leader) {
    if (done) {
      return;
    }
    done = true;
    try {
      SubscribeResponse.Builder b = SubscribeResponse.newBuilder().setError(error);
      if (leader != null) {
        b.setLeader(leader);
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (RuntimeException e) {
      LOG.debug("subscription end failed (client gone?): {}", e.toString());
    }
  }

  @Override
  public void onError(Throwable t) {
    synchronized (lock) {
      done = true;
    }
  }

  @Override
  public void onCompleted() {
    synchronized (lock) {
      if (!done) {
        done = true;
        try {
          out.onCompleted();
        } catch (RuntimeException e) {
          LOG.debug("subscription close failed: {}", e.toString());
        }
      }
    }
  }
}
