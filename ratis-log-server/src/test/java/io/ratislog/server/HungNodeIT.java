package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.ratislog.client.Admin;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that accepts connections but never answers (a paused process, a half-dead host) must not hold up
 * clients that can be served by the others: metadata reads give each node a short deadline.
 */
class HungNodeIT {
  @TempDir Path dir;

  /** Swallows every admin call while {@code hung} is set: no answer, no error, until the deadline. */
  private static ServerInterceptor blackHole(AtomicBoolean hung) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (hung.get() && call.getMethodDescriptor().getServiceName().equals("ratislog.v1.AdminService")) {
          call.request(1);
          return new ServerCall.Listener<>() {
          };
        }
        return next.startCall(call, headers);
      }
    };
  }

  @Test
  void metadataComesFromAHealthyNodeWhenTheFirstOneHangs() throws Exception {
    AtomicBoolean hung = new AtomicBoolean(false);
    MiniCluster c = new MiniCluster(dir, 3, new Properties());
    c.intercept(1, blackHole(hung));
    try (MiniCluster cluster = c.startAll(); Admin admin = admin(cluster)) {
      admin.createTopic("t", 3, 3);
      hung.set(true);
      String hungFirst = "127.0.0.1:" + cluster.clientPort(1) + "," + "127.0.0.1:" + cluster.clientPort(2)
          + ",127.0.0.1:" + cluster.clientPort(3);
      long requestTimeoutMs = 10_000;
      try (Producer p = new Producer(ProducerConfig.builder(hungFirst).requestTimeoutMs(requestTimeoutMs).build())) {
        long start = System.nanoTime();
        RecordMetadata m = p.send(new ProducerRecord("t", 1, null, "x".getBytes(StandardCharsets.UTF_8)))
            .get(60, TimeUnit.SECONDS);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(1, m.partition());
        assertTrue(tookMs < requestTimeoutMs / 2, "served in " + tookMs + " ms despite the hung first node");
      }
    }
  }
}
