package io.ratislog.server.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.ratislog.proto.SubscribeRequest;
import io.ratislog.proto.SubscribeResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.FetchResponse;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.InitProducerRequest;
import io.ratislog.proto.InitProducerResponse;
import io.ratislog.proto.IsolationLevel;
import io.ratislog.server.entries.InitTxnCommand;
import io.ratislog.server.txn.TransactionTable;
import io.ratislog.server.entries.AllocateProducerIdCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.proto.ListOffsetsRequest;
import io.ratislog.proto.ListOffsetsResponse;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.OffsetSpec;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.entries.AppendEntry;
import io.ratislog.server.entries.AppendResult;
import io.ratislog.server.entries.PartitionEntry;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.ShadedBytes;
import io.ratislog.server.storage.StoredBatch;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing data path: Produce proposes a batch to the partition's Raft group on its leader and answers
 * once the entry is committed (quorum-persisted) and applied; Fetch and ListOffsets read the leader's applied,
 * hence committed, records.
 */
public final class LogServiceImpl extends LogServiceGrpc.LogServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(LogServiceImpl.class);
  private static final int DEFAULT_FETCH_BYTES = 1024 * 1024;
  private static final int MAX_FETCH_BYTES = 64 * 1024 * 1024;
  /**
   * How long a pipelined batch waits for its predecessor before it is proposed anyway. A producer's batches travel
   * as concurrent HTTP/2 streams, so a later one can arrive whole well before an earlier one on a loaded node;
   * proposing it then earns a sequence gap and the resend of it and of every batch behind it.
   */
  private static final long SEQUENCE_HOLD_MS = 1_000;
  /** Bounds on the produce requests held while their partition has no usable leader ({@link LeaderWait}). */
  private static final int MAX_HELD_FOR_LEADER = 4_096;
  private static final long MAX_HELD_FOR_LEADER_BYTES = 64L * 1024 * 1024;

  private final NodeConfig config;
  private final RaftServer server;
  private final PartitionRouter router;
  private final RecordBatchValidator validator;
  private final ExecutorService readExecutor;
  private final MetadataClient metadataClient;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final TransactionGate txnGate;
  private final ProposalSequencer sequencer;
  private final LeaderWait leaderWait;

  public LogServiceImpl(NodeConfig config, RaftServer server, MetadataState metadata,
                        MetadataClient metadataClient, ExecutorService readExecutor,
                        java.util.concurrent.ScheduledExecutorService sequencerTimer) {
    this.metadataClient = metadataClient;
    this.config = config;
    this.server = server;
    this.router = new PartitionRouter(config, server, metadata, metadataClient);
    this.validator = new RecordBatchValidator(config.maxBatchBytes(), config.maxRecordBytes());
    this.readExecutor = readExecutor;
    this.txnGate = new TransactionGate(metadata, metadataClient);
    this.sequencer = new ProposalSequencer(SEQUENCE_HOLD_MS, sequencerTimer);
    this.leaderWait = new LeaderWait(sequencerTimer, MAX_HELD_FOR_LEADER, MAX_HELD_FOR_LEADER_BYTES);
  }

  @Override
  public void produce(ProduceRequest request, StreamObserver<ProduceResponse> out) {
    produce(request, out, null);
  }

  /**
   * @param leaderlessSince when this request first found its partition without a usable leader (and was held, see
   *                        {@link LeaderWait}), or null
   */
  private void produce(ProduceRequest request, StreamObserver<ProduceResponse> out, Long leaderlessSince) {
    PartitionRouter.Route route = router.route(request.getTopic(), request.getPartition());
    boolean leaderless = route.ok() ? !route.division().getInfo().isLeaderReady()
        : route.error().getCode() == ErrorCode.LEADER_NOT_AVAILABLE;
    if (leaderless) {
      long since = leaderlessSince != null ? leaderlessSince : System.nanoTime();
      if (leaderWait.retryLater(since, timeoutMs(request) / 2, request.getRecords().size(),
          () -> produce(request, out, since))) {
        return;
      }
    }
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route).thenAccept(error -> {
        ProduceResponse.Builder b = ProduceResponse.newBuilder().setError(error);
        if (route.leader() != null) {
          b.setLeader(route.leader());
        }
        reply(out, b.build());
      });
      return;
    }
    io.ratislog.proto.Error invalid = validator.check(request);
    if (invalid != null) {
      reply(out, ProduceResponse.newBuilder().setError(invalid).build());
      return;
    }
    if (request.getTransactional()) {
      if (request.getProducerId() < 0) {
        reply(out, ProduceResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST,
            "a transactional batch needs a producer id and a transactional id")).build());
        return;
      }
      txnGate.check(request.getTransactionalId(), request.getProducerId(), request.getProducerEpoch(),
          request.getTopic(), request.getPartition()).whenComplete((refused, t) -> {
            if (t != null || refused != null) {
              reply(out, ProduceResponse.newBuilder().setError(t != null ? Errors.metadataUnavailable(t) : refused).build());
            } else {
              proposeInOrder(route, request, out);
            }
          });
      return;
    }
    proposeInOrder(route, request, out);
  }

  /** Proposes an idempotent producer's batches in sequence order (see {@link ProposalSequencer}). */
  private void proposeInOrder(PartitionRouter.Route route, ProduceRequest request, StreamObserver<ProduceResponse> out) {
    boolean dropProducer = config.unsafeDisableDedup() && !request.getTransactional();
    if (request.getProducerId() < 0 || dropProducer) {
      propose(route, request, out);
      return;
    }
    sequencer.submit(route.groupId(), request.getProducerId(), request.getProducerEpoch(), request.getBaseSequence(),
        request.getRecordCount(), route.stateMachine().expectedSequence(request.getProducerId(), request.getProducerEpoch()),
        () -> propose(route, request, out));
  }

  private void propose(PartitionRouter.Route route, ProduceRequest request, StreamObserver<ProduceResponse> out) {
    boolean dropProducer = config.unsafeDisableDedup() && !request.getTransactional();
    PartitionEntry entry = PartitionEntry.newBuilder().setAppend(AppendEntry.newBuilder()
        .setRecords(request.getRecords())
        .setCrc32C(request.getCrc32C())
        .setRecordCount(request.getRecordCount())
        .setAppendTimeMs(System.currentTimeMillis())
        .setProducerId(dropProducer ? -1 : request.getProducerId())
        .setProducerEpoch(request.getProducerEpoch())
        .setBaseSequence(request.getBaseSequence())
        .setProducerExpiryMs(config.producerExpiryMs())
        .setTransactional(request.getTransactional()))
        .build();
    RaftClientRequest raftRequest = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server.getId())
        .setGroupId(route.groupId())
        .setCallId(callIds.incrementAndGet())
        .setMessage(ShadedBytes.toMessage(entry))
        .setType(RaftClientRequest.writeRequestType())
        .build();
    int timeoutMs = timeoutMs(request);
    CompletableFuture<RaftClientReply> submitted;
    try {
      submitted = server.submitClientRequestAsync(raftRequest);
    } catch (IOException e) {
      reply(out, ProduceResponse.newBuilder().setError(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, e.toString())).build());
      return;
    }
    submitted.orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .whenComplete((r, t) -> reply(out, toProduceResponse(r, t, timeoutMs)));
  }

  private int timeoutMs(ProduceRequest request) {
    return request.getTimeoutMs() > 0 ? request.getTimeoutMs() : config.produceTimeoutMs();
  }

  private ProduceResponse toProduceResponse(RaftClientReply r, Throwable t, int timeoutMs) {
    ProduceResponse.Builder b = ProduceResponse.newBuilder();
    if (t != null) {
      Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
      if (cause instanceof TimeoutException) {
        return b.setError(Errors.of(ErrorCode.TIMEOUT,
            "not committed within " + timeoutMs + " ms; the batch may or may not be written")).build();
      }
      return b.setError(Errors.of(ErrorCode.INTERNAL_ERROR, "raft: " + cause)).build();
    }
    if (r.isSuccess()) {
      try {
        AppendResult result = ShadedBytes.parse(AppendResult.parser(), r.getMessage().getContent());
        if (result.getErrorCode() != 0) {
          return b.setError(Errors.fromNumber(result.getErrorCode(), result.getErrorMessage())).build();
        }
        return b.setError(Errors.NONE).setBaseOffset(result.getBaseOffset())
            .setLogAppendTimeMs(result.getAppendTimeMs()).setDuplicate(result.getDuplicate()).build();
      } catch (IOException e) {
        return b.setError(Errors.of(ErrorCode.INTERNAL_ERROR, "unreadable append result: " + e.getMessage())).build();
      }
    }
    NotLeaderException nle = r.getNotLeaderException();
    if (nle != null) {
      // The router checked leadership just before: this is a leader that stepped down with the entry pending,
      // and a later leader may still commit it. So the outcome is unknown, not "certainly not written".
      b.setError(Errors.of(ErrorCode.TIMEOUT, "leadership moved while the batch was being committed;"
          + " it may or may not be written"));
      if (nle.getSuggestedLeader() != null) {
        io.ratislog.proto.Node hint = router.node(Integer.parseInt(nle.getSuggestedLeader().getId().toString()));
        if (hint != null) {
          b.setLeader(hint);
        }
      }
      return b.build();
    }
    RaftException e = r.getException();
    if (e instanceof LeaderNotReadyException) {
      return b.setError(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "the new leader is not ready yet")).build();
    }
    return b.setError(Errors.of(ErrorCode.INTERNAL_ERROR, "raft: " + e)).build();
  }

  @Override
  public void fetch(FetchRequest request, StreamObserver<FetchResponse> out) {
    if (request.getOffset() < 0) {
      reply(out, FetchResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST,
          "offset must be >= 0, got " + request.getOffset())).build());
      return;
    }
    if (request.getMaxBytes() < 0 || request.getMaxWaitMs() < 0) {
      reply(out, FetchResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST,
          "max_bytes and max_wait_ms must be >= 0")).build());
      return;
    }
    PartitionRouter.Route route = router.route(request.getTopic(), request.getPartition());
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route).thenAccept(error -> {
        FetchResponse.Builder b = FetchResponse.newBuilder().setError(error);
        if (route.leader() != null) {
          b.setLeader(route.leader());
        }
        reply(out, b.build());
      });
      return;
    }
    PartitionStateMachine sm = route.stateMachine();
    long offset = request.getOffset();
    int maxBytes = request.getMaxBytes() == 0 ? DEFAULT_FETCH_BYTES : Math.min(request.getMaxBytes(), MAX_FETCH_BYTES);
    long waitMs = Math.min(request.getMaxWaitMs(), config.maxFetchWaitMs());
    boolean readCommitted = request.getIsolationLevel() != IsolationLevel.READ_UNCOMMITTED;
    long end = sm.logEndOffset();
    if (offset < sm.logStartOffset() || (offset > end && route.caughtUp())) {
      reply(out, outOfRange(sm, offset));
      return;
    }
    long visibleEnd = readCommitted ? sm.lastStableOffset() : end;
    if (offset >= visibleEnd && waitMs > 0) {
      CompletableFuture<Void> ready = readCommitted ? sm.awaitStableBeyond(offset, waitMs) : sm.awaitBeyond(offset, waitMs);
      ready.thenRunAsync(() -> reply(out, read(route, offset, maxBytes, readCommitted)), readExecutor);
      return;
    }
    readExecutor.execute(() -> reply(out, read(route, offset, maxBytes, readCommitted)));
  }

  private static FetchResponse outOfRange(PartitionStateMachine sm, long offset) {
    long start = sm.logStartOffset();
    long end = sm.logEndOffset();
    return FetchResponse.newBuilder().setError(Errors.of(ErrorCode.OFFSET_OUT_OF_RANGE,
        "offset " + offset + " is outside the log [" + start + ", " + end + "]"))
        .setLogStartOffset(start).setLogEndOffset(end).build();
  }

  private FetchResponse read(PartitionRouter.Route route, long offset, int maxBytes, boolean readCommitted) {
    PartitionStateMachine sm = route.stateMachine();
    FetchResponse.Builder b = FetchResponse.newBuilder();
    try {
      long start = sm.logStartOffset();
      PartitionStateMachine.ReadView view = sm.readView(offset, maxBytes, readCommitted);
      b.setLogStartOffset(start).setLogEndOffset(view.logEndOffset()).setLastStableOffset(view.lastStableOffset())
          .setNextOffset(view.nextOffset());
      for (StoredBatch s : view.batches()) {
        b.addBatches(toFetched(s));
      }
      return b.setError(Errors.NONE).build();
    } catch (io.ratislog.server.storage.OffsetOutOfRangeException e) {
      return outOfRange(sm, offset);
    } catch (IOException | RuntimeException e) {
      LOG.warn("fetch {} at {} failed: {}", route.groupId(), offset, e.toString());
      return FetchResponse.newBuilder().setError(Errors.of(ErrorCode.INTERNAL_ERROR, "read failed: " + e)).build();
    }
  }

  @Override
  public void initProducer(InitProducerRequest request, StreamObserver<InitProducerResponse> out) {
    boolean transactional = !request.getTransactionalId().isEmpty();
    MetadataCommand command;
    if (transactional) {
      int timeoutMs = request.getTransactionTimeoutMs() == 0 ? TransactionTable.DEFAULT_TIMEOUT_MS
          : request.getTransactionTimeoutMs();
      command = MetadataCommand.newBuilder().setInitTxn(InitTxnCommand.newBuilder()
          .setTransactionalId(request.getTransactionalId()).setTimeoutMs(timeoutMs)
          .setInitToken(request.getInitToken()).setNowMs(System.currentTimeMillis())).build();
    } else {
      command = MetadataCommand.newBuilder().setAllocateProducerId(AllocateProducerIdCommand.getDefaultInstance()).build();
    }
    metadataClient.submit(command).whenComplete((result, t) -> {
      InitProducerResponse.Builder b = InitProducerResponse.newBuilder().setError(Errors.metadataOutcome(result, t));
      if (b.getError().getCode() == ErrorCode.NONE) {
        if (transactional) {
          b.setProducerId(result.getTransaction().getProducerId()).setProducerEpoch(result.getTransaction().getProducerEpoch());
        } else {
          b.setProducerId(result.getProducerId()).setProducerEpoch(0);
        }
      }
      reply(out, b.build());
    });
  }

  @Override
  public StreamObserver<SubscribeRequest> subscribe(StreamObserver<SubscribeResponse> out) {
    return new SubscribeSession(router, readExecutor, (ServerCallStreamObserver<SubscribeResponse>) out,
        Math.max(1_000, Math.min(config.maxFetchWaitMs(), 10_000)));
  }

  /** The wire form of a stored batch (the record bytes are shared, not copied). */
  static FetchedBatch toFetched(StoredBatch s) {
    return FetchedBatch.newBuilder()
        .setBaseOffset(s.baseOffset())
        .setRecordCount(s.recordCount())
        .setLogAppendTimeMs(s.appendTimeMs())
        .setCrc32C(s.batchCrc32c())
        .setRecords(com.google.protobuf.UnsafeByteOperations.unsafeWrap(s.records()))
        .build();
  }

  @Override
  public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> out) {
    if (request.getSpec() == OffsetSpec.UNRECOGNIZED) {
      reply(out, ListOffsetsResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST,
          "unknown offset spec " + request.getSpecValue())).build());
      return;
    }
    PartitionRouter.Route route = router.routeCaughtUp(request.getTopic(), request.getPartition());
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route).thenAccept(error -> {
        ListOffsetsResponse.Builder b = ListOffsetsResponse.newBuilder().setError(error);
        if (route.leader() != null) {
          b.setLeader(route.leader());
        }
        reply(out, b.build());
      });
      return;
    }
    PartitionStateMachine sm = route.stateMachine();
    long start = sm.logStartOffset();
    long end = sm.logEndOffset();
    long stable = sm.lastStableOffset();
    long latest = request.getIsolationLevel() == IsolationLevel.READ_UNCOMMITTED ? end : stable;
    reply(out, ListOffsetsResponse.newBuilder().setError(Errors.NONE)
        .setOffset(request.getSpec() == OffsetSpec.EARLIEST ? start : latest)
        .setLogStartOffset(start).setLogEndOffset(end).setLastStableOffset(stable).build());
  }

  private static <T> void reply(StreamObserver<T> out, T response) {
    try {
      out.onNext(response);
      out.onCompleted();
    } catch (RuntimeException e) {
      LOG.debug("reply failed (client gone?): {}", e.toString());
    }
  }
}
