package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ChannelFactory;
import io.ratislog.client.GroupAdmin;
import io.ratislog.client.Producer;
import io.ratislog.proto.ResetTarget;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP endpoint of real nodes: after producing, {@code /metrics} (Prometheus text) shows the produce
 * counters, the partition's log end offset, a group's committed offset and lag, Raft and Ratis' own metrics and
 * JVM metrics; {@code /health} answers 200 with JSON while the node is up and has a metadata leader.
 */
class MetricsIT {
  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the sample whose name and labels are exactly {@code series}, or -1 when absent. */
  private static double sample(String body, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  void metricsAndHealthOfARunningCluster() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll();
         Admin admin = admin(c)) {
      for (int id : c.ids()) {
        int port = c.metricsPort(id);
        await("node " + id + " healthy", 30_000, () -> {
          try {
            return get(port, "/health").statusCode() == 200;
          } catch (IOException | InterruptedException e) {
            return false;
          }
        });
        HttpResponse<String> h = get(port, "/health");
        assertTrue(h.body().contains("\"status\":\"ok\"") && h.body().contains("\"node\":" + id), h.body());
      }
      admin.createTopic("metered", 1, 3);
      await("leader of metered-0", 30_000, () -> leaderOf(c, "metered", 0) > 0);
      try (Producer p = producer(c)) {
        produceAll(p, "metered", "m", 50);
      }
      try (GroupAdmin groups = new GroupAdmin(c.bootstrap(), 30_000, ChannelFactory.plaintext())) {
        groups.resetOffsets("billing", "metered", ResetTarget.TO_OFFSET, 10);
      }
      int leader = leaderOf(c, "metered", 0);
      String body = get(c.metricsPort(leader), "/metrics").body();

      double produced = 0;
      for (int id : c.ids()) {
        double v = sample(get(c.metricsPort(id), "/metrics").body(), "ratislog_produce_records_total{topic=\"metered\",}");
        produced += Math.max(0, v);
      }
      assertEquals(50, produced, "records produced, summed over the nodes that took the requests");
      assertEquals(50, sample(body, "ratislog_partition_log_end_offset{topic=\"metered\",partition=\"0\",}"), body);
      assertEquals(1, sample(body, "ratislog_partition_leader{topic=\"metered\",partition=\"0\",}"));
      assertEquals(10, sample(body, "ratislog_group_committed_offset{group=\"billing\",topic=\"metered\",partition=\"0\",}"));
      assertEquals(40, sample(body, "ratislog_group_lag{group=\"billing\",topic=\"metered\",partition=\"0\",}"));
      assertTrue(sample(body, "ratislog_rpc_latency_count{method=\"ResetOffsets\",}") >= 1, "rpc latency summary");
      assertTrue(body.contains("ratislog_raft_apply_count{group_kind=\"partition\",}"), "apply timer");
      assertTrue(sample(body, "ratislog_raft_became_leader_total{group_kind=\"partition\",}") >= 1, "leader changes");
      assertTrue(body.contains("jvm_memory_heap_used "), "JVM metrics");
      assertEquals(1, sample(body, "ratislog_node_partition_replicas"), "the replica of metered-0");
      assertTrue(sample(body, "ratislog_node_max_partition_replicas") >= 1, "the node's replica limit");
      assertTrue(Pattern.compile("(?m)^ratis_\\w+\\{group=\"group-").matcher(body).find(), "Ratis' own metrics");
      // Followers see the same log end once they applied the entries.
      for (int id : c.ids()) {
        int port = c.metricsPort(id);
        await("log end on node " + id, 30_000, () -> {
          try {
            return sample(get(port, "/metrics").body(), "ratislog_partition_log_end_offset{topic=\"metered\",partition=\"0\",}") == 50;
          } catch (IOException | InterruptedException e) {
            return false;
          }
        });
      }
    }
  }
}
