package io.ratislog.server.rpc;

import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.TopicRecord;
import io.ratislog.server.entries.TransactionRecord;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.txn.TransactionTable;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Lets a transactional batch or offset commit into a partition only while the producer's transaction is open at
 * its epoch and holds that partition, as the coordinator (the metadata group) says. The local metadata replica
 * answers when it agrees; when it does not (it may lag the AddPartitionsToTxn a moment ago) the metadata leader
 * is asked. This keeps a partition from opening a transaction the coordinator will never end; a transaction that
 * ends between this check and the entry's apply is covered by the partition's epoch fencing (the markers carry
 * the bumped epoch).
 */
final class TransactionGate {
  private final MetadataState metadata;
  private final MetadataClient metadataClient;

  TransactionGate(MetadataState metadata, MetadataClient metadataClient) {
    this.metadata = metadata;
    this.metadataClient = metadataClient;
  }

  /** Completes with null when the write may go ahead, else with the error to answer. */
  CompletableFuture<Error> check(String transactionalId, long producerId, int epoch, String topic, int partition) {
    String idProblem = TransactionTable.idProblem(transactionalId);
    if (idProblem != null) {
      return CompletableFuture.completedFuture(Errors.of(ErrorCode.INVALID_REQUEST, idProblem));
    }
    Optional<TopicRecord> t = metadata.topic(topic);
    if (t.isEmpty()) {
      return CompletableFuture.completedFuture(Errors.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic '" + topic + "'"));
    }
    long topicId = t.get().getTopicId();
    if (problem(metadata.transaction(transactionalId).orElse(null), transactionalId, producerId, epoch, topicId, partition) == null) {
      return CompletableFuture.completedFuture(null);
    }
    return metadataClient.queryTransactions(transactionalId).handle((r, err) -> {
      if (err != null) {
        return Errors.metadataUnavailable(err);
      }
      TransactionRecord rec = r.getTransactionsCount() == 0 ? null : r.getTransactions(0);
      return problem(rec, transactionalId, producerId, epoch, topicId, partition);
    });
  }

  private static Error problem(TransactionRecord rec, String id, long producerId, int epoch, long topicId, int partition) {
    MetadataResult m = TransactionTable.participantProblem(rec, id, producerId, epoch, topicId, partition);
    return m == null ? null : Errors.fromNumber(m.getErrorCode(), m.getErrorMessage());
  }
}
