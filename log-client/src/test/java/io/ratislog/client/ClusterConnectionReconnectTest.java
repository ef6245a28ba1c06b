package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.ratislog.proto.AdminServiceGrpc;
import io.ratislog.proto.DescribeClusterRequest;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A node that comes back is reachable at the client's next attempt, not after gRPC's reconnect backoff. */
class ClusterConnectionReconnectTest {
  private static Status.Code describe(ClusterConnection conn, HostPort hp) {
    try {
      AdminServiceGrpc.newBlockingStub(conn.channel(hp)).withDeadlineAfter(2, TimeUnit.SECONDS)
          .describeCluster(DescribeClusterRequest.getDefaultInstance());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void aNodeThatComesBackIsReachedAtOnce() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    HostPort hp = new HostPort("127.0.0.1", port);
    try (ClusterConnection conn = new ClusterConnection(hp.toString())) {
      // Nothing listens for 3.5 s: gRPC's reconnect attempts come at about 0, 1 and 2.6 s, the next at about 5 s.
      long failUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_500);
      while (System.nanoTime() - failUntil < 0) {
        assertEquals(Status.Code.UNAVAILABLE, describe(conn, hp));
        Thread.sleep(100);
      }
      // A server with no services: a call that reaches it is answered UNIMPLEMENTED. The client's retries come
      // every 20-100 ms while a leader moves; one of them within half a second must get through.
      Server server = Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create()).build().start();
      try {
        Status.Code last = null;
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() - until < 0 && (last = describe(conn, hp)) != Status.Code.UNIMPLEMENTED) {
          Thread.sleep(20);
        }
        assertEquals(Status.Code.UNIMPLEMENTED, last,
            "a call within 500 ms after the node came back must reach it, not fail on gRPC's reconnect backoff");
      } finally {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
