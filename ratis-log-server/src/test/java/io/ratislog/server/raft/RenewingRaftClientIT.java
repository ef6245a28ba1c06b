package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Ratis client whose call ran out of retries while its group was down is useless afterwards (every call fails
 * at once with AlreadyClosedException, even once the group is back); the renewing client recovers. The
 * transaction coordinator kept such a client and retried a commit for minutes (TransactionalChaosIT, lost=820).
 */
class RenewingRaftClientIT {
  @TempDir Path dir;

  static final class NoOp extends BaseStateMachine {
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.valueOf("ok"));
    }
  }

  @Test
  void aClientBrokenByAnOutageIsReplacedAndTheNextCallsSucceedOnceTheGroupIsBack() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    RaftPeer peer = RaftPeer.newBuilder().setId("1").setAddress("127.0.0.1:" + port).build();
    RaftGroup group = RaftGroup.valueOf(RaftGroupId.valueOf(UUID.randomUUID()), List.of(peer));
    RaftProperties clientProperties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(clientProperties, TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));
    Supplier<RaftClient> factory = () -> RaftClient.newBuilder().setRaftGroup(group).setProperties(clientProperties)
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(3,
            TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build();

    try (RaftClient plain = factory.get(); RenewingRaftClient renewing = new RenewingRaftClient("test", factory)) {
      // The group is down: both run out of retries.
      assertFails(plain.async().send(Message.valueOf("a")));
      assertFails(renewing.call(c -> c.async().send(Message.valueOf("a"))));

      RaftServer server = startServer(group, port);
      try {
        // Ratis' own client stays broken however long the group has been back.
        Throwable stale = assertFails(plain.async().send(Message.valueOf("b")));
        assertTrue(RenewingRaftClient.breaksTheClient(stale), stale.toString());
        assertInstanceOf(AlreadyClosedException.class, firstOf(stale, AlreadyClosedException.class), stale.toString());

        // The renewing one gets through once the server has elected itself (bounded: 30 s).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        RaftClientReply reply = null;
        while (reply == null && System.nanoTime() < deadline) {
          try {
            reply = renewing.call(c -> c.async().send(Message.valueOf("c"))).get(10, TimeUnit.SECONDS);
          } catch (ExecutionException e) {
            Thread.sleep(100);
          }
        }
        assertTrue(reply != null && reply.isSuccess(), "the renewing client never got through: " + reply);
      } finally {
        server.close();
      }
    }
  }

  private RaftServer startServer(RaftGroup group, int port) throws Exception {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(new File(dir.toFile(), "s1")));
    GrpcConfigKeys.Server.setPort(p, port);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(150, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
    RaftServer server = RaftServer.newBuilder().setServerId(group.getPeers().iterator().next().getId()).setGroup(group)
        .setProperties(p).setStateMachine(new NoOp()).setOption(RaftStorage.StartupOption.FORMAT).build();
    server.start();
    return server;
  }

  private static Throwable assertFails(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  private static Throwable firstOf(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) {
        return c;
      }
    }
    return t;
  }
}
