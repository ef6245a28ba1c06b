package io.ratislog.server.metadata;

import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataQuery;
import io.ratislog.server.entries.MetadataQueryResult;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.raft.RenewingRaftClient;
import io.ratislog.server.raft.ShadedBytes;
import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;

/**
 * Proposes commands to the metadata group and makes linearizable reads of it, from any node: the Ratis client
 * finds the metadata leader and follows leader changes.
 */
public final class MetadataClient implements Closeable {
  private final RenewingRaftClient client;
  private final long timeoutMs;

  public MetadataClient(RaftGroup metadataGroup, RaftProperties serverProperties, org.apache.ratis.conf.Parameters parameters,
                        long timeoutMs) {
    RaftProperties p = new RaftProperties(serverProperties);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    this.client = new RenewingRaftClient("metadata client", () -> RaftClient.newBuilder()
        .setRaftGroup(metadataGroup)
        .setProperties(p)
        .setParameters(parameters)
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            (int) Math.max(1, timeoutMs / 100), TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build());
    this.timeoutMs = timeoutMs;
  }

  /** Proposes a command; completes with its result once it is committed and applied on the leader. */
  public CompletableFuture<MetadataResult> submit(MetadataCommand command) {
    return client.call(c -> c.async().send(ShadedBytes.toMessage(command)))
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .thenApply(reply -> parse(reply, MetadataResult.parser()));
  }

  /** Reads through the leader (linearizable). An empty topic name reads every topic. */
  public CompletableFuture<MetadataQueryResult> query(String topic) {
    return read(MetadataQuery.newBuilder().setTopic(topic).build());
  }

  /** Reads consumer groups through the leader (linearizable). An empty name reads every group. */
  public CompletableFuture<MetadataQueryResult> queryGroups(String group) {
    return read(MetadataQuery.newBuilder().setGroups(true).setGroup(group).build());
  }

  /** Reads transaction coordinator records through the leader (linearizable). An empty id reads every one. */
  public CompletableFuture<MetadataQueryResult> queryTransactions(String transactionalId) {
    return read(MetadataQuery.newBuilder().setTransactions(true).setTransactionalId(transactionalId).build());
  }

  /** Reads the node registry through the leader (linearizable). */
  public CompletableFuture<MetadataQueryResult> queryNodes() {
    return read(MetadataQuery.newBuilder().setNodes(true).build());
  }

  /** Reads the ACL bindings through the leader (linearizable). */
  public CompletableFuture<MetadataQueryResult> queryAcls() {
    return read(MetadataQuery.newBuilder().setAcls(true).build());
  }

  private CompletableFuture<MetadataQueryResult> read(MetadataQuery q) {
    return client.call(c -> c.async().sendReadOnly(ShadedBytes.toMessage(q)))
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .thenApply(reply -> parse(reply, MetadataQueryResult.parser()));
  }

  private static <T> T parse(RaftClientReply reply, com.google.protobuf.Parser<T> parser) {
    if (!reply.isSuccess()) {
      throw new IllegalStateException("metadata group: " + reply.getException());
    }
    try {
      return ShadedBytes.parse(parser, reply.getMessage().getContent());
    } catch (IOException e) {
      throw new IllegalStateException("metadata reply does not decode: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
