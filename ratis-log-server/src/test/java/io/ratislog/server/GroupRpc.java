package io.ratislog.server;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.GroupServiceGrpc;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Raw GroupService calls to chosen nodes of a MiniCluster, for tests that act below the client library. */
final class GroupRpc implements AutoCloseable {
  private final MiniCluster cluster;
  private final Map<Integer, ManagedChannel> channels = new HashMap<>();

  GroupRpc(MiniCluster cluster) {
    this.cluster = cluster;
  }

  GroupServiceGrpc.GroupServiceBlockingStub node(int id) {
    ManagedChannel ch = channels.computeIfAbsent(id, k ->
        NettyChannelBuilder.forAddress("127.0.0.1", cluster.clientPort(k)).usePlaintext().build());
    return GroupServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /**
   * Calls every running node in turn until one answers with a code other than NOT_LEADER, LEADER_NOT_AVAILABLE
   * and TIMEOUT (at most 20 s), and returns that answer.
   */
  <T> T anyNode(Function<GroupServiceGrpc.GroupServiceBlockingStub, T> call, Function<T, ErrorCode> codeOf)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    T last = null;
    while (System.nanoTime() < deadline) {
      for (int id : cluster.ids()) {
        if (!cluster.isRunning(id)) {
          continue;
        }
        try {
          last = call.apply(node(id));
        } catch (io.grpc.StatusRuntimeException e) {
          continue;
        }
        ErrorCode c = codeOf.apply(last);
        if (c != ErrorCode.NOT_LEADER && c != ErrorCode.LEADER_NOT_AVAILABLE && c != ErrorCode.TIMEOUT) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    return last;
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}
