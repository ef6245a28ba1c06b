package io.ratislog.server.rpc;

import io.grpc.stub.StreamObserver;
import io.ratislog.proto.AddPartitionsToTxnRequest;
import io.ratislog.proto.AddPartitionsToTxnResponse;
import io.ratislog.proto.EndTxnRequest;
import io.ratislog.proto.EndTxnResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ListTransactionsRequest;
import io.ratislog.proto.ListTransactionsResponse;
import io.ratislog.proto.TopicPartitions;
import io.ratislog.proto.TransactionDescription;
import io.ratislog.proto.TransactionServiceGrpc;
import io.ratislog.proto.TxnOffsetCommitRequest;
import io.ratislog.proto.TxnOffsetCommitResponse;
import io.ratislog.server.entries.AddTxnPartitionsCommand;
import io.ratislog.server.entries.EndTxnCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.entries.TransactionRecord;
import io.ratislog.server.entries.TxnPartition;
import io.ratislog.server.entries.TxnState;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.txn.TransactionTable;
import java.io.Closeable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing transaction coordinator: AddPartitionsToTxn and EndTxn become metadata-group commands;
 * TxnOffsetCommit goes to the input partition's group (see {@link GroupServiceImpl}). EndTxn answers once the
 * decision's markers are in every participant (the metadata replica of this node shows the transaction
 * complete), so that a committed transaction is visible to read_committed readers when commitTransaction returns.
 */
public final class TransactionServiceImpl extends TransactionServiceGrpc.TransactionServiceImplBase implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(TransactionServiceImpl.class);
  private static final long COMPLETION_POLL_MS = 10;

  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final GroupServiceImpl groups;
  private final TransactionGate gate;
  private final long endTimeoutMs;
  private final ScheduledExecutorService waiter;

  public TransactionServiceImpl(MetadataState metadata, MetadataClient metadataClient, GroupServiceImpl groups,
                                long endTimeoutMs) {
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.groups = groups;
    this.gate = new TransactionGate(metadata, metadataClient);
    this.endTimeoutMs = endTimeoutMs;
    this.waiter = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "txn-end-waiter");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void addPartitionsToTxn(AddPartitionsToTxnRequest request, StreamObserver<AddPartitionsToTxnResponse> out) {
    AddPartitionsToTxnResponse.Builder b = AddPartitionsToTxnResponse.newBuilder();
    String problem = TransactionTable.idProblem(request.getTransactionalId());
    if (problem != null || request.getProducerId() < 0 || request.getPartitionsCount() == 0) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, problem != null ? problem
          : "producer_id and at least one partition are required")).build());
      return;
    }
    AddTxnPartitionsCommand.Builder c = AddTxnPartitionsCommand.newBuilder()
        .setTransactionalId(request.getTransactionalId()).setProducerId(request.getProducerId())
        .setProducerEpoch(request.getProducerEpoch()).setNowMs(System.currentTimeMillis());
    for (TopicPartitions tps : request.getPartitionsList()) {
      Optional<TopicRecord> t = metadata.topic(tps.getTopic());
      if (t.isEmpty()) {
        reply(out, b.setError(Errors.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic '" + tps.getTopic() + "'")).build());
        return;
      }
      for (int p : tps.getPartitionsList()) {
        if (p < 0 || p >= t.get().getPartitionsCount()) {
          reply(out, b.setError(Errors.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + tps.getTopic() + "' has "
              + t.get().getPartitionsCount() + " partitions, no partition " + p)).build());
          return;
        }
        c.addPartitions(TxnPartition.newBuilder().setTopic(tps.getTopic()).setTopicId(t.get().getTopicId()).setPartition(p));
      }
    }
    metadataClient.submit(MetadataCommand.newBuilder().setAddTxnPartitions(c).build())
        .whenComplete((r, t) -> reply(out, b.setError(Errors.metadataOutcome(r, t)).build()));
  }

  @Override
  public void txnOffsetCommit(TxnOffsetCommitRequest request, StreamObserver<TxnOffsetCommitResponse> out) {
    groups.txnOffsetCommit(request, gate, out);
  }

  @Override
  public void endTxn(EndTxnRequest request, StreamObserver<EndTxnResponse> out) {
    EndTxnResponse.Builder b = EndTxnResponse.newBuilder();
    String problem = TransactionTable.idProblem(request.getTransactionalId());
    if (problem != null || request.getProducerId() < 0) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, problem != null ? problem : "producer_id is required")).build());
      return;
    }
    EndTxnCommand c = EndTxnCommand.newBuilder().setTransactionalId(request.getTransactionalId())
        .setProducerId(request.getProducerId()).setProducerEpoch(request.getProducerEpoch())
        .setCommit(request.getCommit()).setNowMs(System.currentTimeMillis()).build();
    metadataClient.submit(MetadataCommand.newBuilder().setEndTxn(c).build()).whenComplete((r, t) -> {
      b.setError(Errors.metadataOutcome(r, t));
      if (r != null && r.hasTransaction()) {
        b.setProducerEpoch(r.getTransaction().getProducerEpoch());
      }
      if (b.getError().getCode() != ErrorCode.NONE) {
        reply(out, b.build());
        return;
      }
      TransactionRecord rec = r.getTransaction();
      awaitComplete(rec.getTransactionalId(), rec.getProducerId(), rec.getProducerEpoch(),
          System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(endTimeoutMs), b, out);
    });
  }

  /**
   * Answers once this node's metadata replica shows the transaction decided at {@code epoch} complete (or moved on
   * past it), or at the deadline.
   */
  private void awaitComplete(String id, long producerId, int epoch, long deadlineNanos, EndTxnResponse.Builder b,
                             StreamObserver<EndTxnResponse> out) {
    // This replica may not have applied the decision yet (it is not always the metadata leader): until it shows
    // the decided epoch, it knows nothing.
    Optional<TransactionRecord> cur = metadata.transaction(id);
    boolean applied = cur.isPresent() && (cur.get().getProducerId() != producerId || cur.get().getProducerEpoch() >= epoch);
    boolean done = applied && (cur.get().getProducerId() != producerId || cur.get().getProducerEpoch() > epoch
        || (cur.get().getState() != TxnState.TXN_PREPARE_COMMIT && cur.get().getState() != TxnState.TXN_PREPARE_ABORT));
    if (done) {
      reply(out, b.build());
      return;
    }
    if (System.nanoTime() - deadlineNanos >= 0) {
      reply(out, b.setError(Errors.of(ErrorCode.TIMEOUT, "the decision is recorded but not every participant has"
          + " its marker yet; the coordinator keeps writing them (retrying EndTxn is safe)")).build());
      return;
    }
    try {
      waiter.schedule(() -> awaitComplete(id, producerId, epoch, deadlineNanos, b, out), COMPLETION_POLL_MS,
          TimeUnit.MILLISECONDS);
    } catch (RuntimeException rejected) {
      reply(out, b.setError(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "node is shutting down")).build());
    }
  }

  @Override
  public void listTransactions(ListTransactionsRequest request, StreamObserver<ListTransactionsResponse> out) {
    metadataClient.queryTransactions(request.getTransactionalId()).whenComplete((r, t) -> {
      ListTransactionsResponse.Builder b = ListTransactionsResponse.newBuilder();
      if (t != null) {
        reply(out, b.setError(Errors.metadataUnavailable(t)).build());
        return;
      }
      for (TransactionRecord rec : r.getTransactionsList()) {
        b.addTransactions(describe(rec));
      }
      reply(out, b.setError(Errors.NONE).build());
    });
  }

  private static TransactionDescription describe(TransactionRecord rec) {
    Map<String, TopicPartitions.Builder> byTopic = new LinkedHashMap<>();
    for (TxnPartition p : rec.getPartitionsList()) {
      byTopic.computeIfAbsent(p.getTopic(), x -> TopicPartitions.newBuilder().setTopic(x)).addPartitions(p.getPartition());
    }
    TransactionDescription.Builder d = TransactionDescription.newBuilder().setTransactionalId(rec.getTransactionalId())
        .setProducerId(rec.getProducerId()).setProducerEpoch(rec.getProducerEpoch())
        .setState(rec.getState().name().substring("TXN_".length())).setTimeoutMs(rec.getTimeoutMs())
        .setStartTimeMs(rec.getStartMs());
    byTopic.values().forEach(d::addPartitions);
    return d.build();
  }

  private static <T> void reply(StreamObserver<T> out, T response) {
    try {
      out.onNext(response);
      out.onCompleted();
    } catch (RuntimeException e) {
      LOG.debug("reply failed (client gone?): {}", e.toString());
    }
  }

  @Override
  public void close() {
    waiter.shutdownNow();
  }
}
