package io.ratislog.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.dropwizard.DropwizardExports;
import io.prometheus.client.exporter.common.TextFormat;
import io.ratislog.server.metadata.MetadataState;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP endpoint (JDK {@code com.sun.net.httpserver}, one thread):
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text format 0.0.4, from the node's Dropwizard registry through
 *       Prometheus' Dropwizard bridge ({@link DropwizardExports} with {@link LabelledSampleBuilder}), plus
 *       Ratis' own metrics ({@link RatisMetricsCollector}).</li>
 *   <li>{@code GET /health}: readiness, 200 when the node's Raft server runs and knows a metadata leader, else
 *       503; the body is a small JSON object either way (see {@link Health}).</li>
 * </ul>
 */
public final class MetricsHttpServer implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsHttpServer.class);

  /** What {@code /health} reports. */
  public record Health(int nodeId, String raftState, int metadataLeader, boolean ready) {
    String toJson() {
      return "{\"node\":" + nodeId + ",\"status\":\"" + (ready ? "ok" : "unavailable") + "\",\"raft\":\""
          + raftState + "\",\"metadata_leader\":" + metadataLeader + "}";
    }
  }

  private final HttpServer http;
  private final ExecutorService executor;
  private final CollectorRegistry prometheus = new CollectorRegistry();
  private final ReplicaGauges replicaGauges;
  private final Supplier<Health> health;

  /** Binds {@code host:port} and serves until {@link #close()}. */
  public MetricsHttpServer(String host, int port, NodeMetrics metrics, RaftServer raftServer, MetadataState metadata,
                           Supplier<Health> health) throws IOException {
    this.health = health;
    this.replicaGauges = new ReplicaGauges(metrics.registry(), raftServer, metadata);
    prometheus.register(new DropwizardExports(metrics.registry(), new LabelledSampleBuilder()));
    prometheus.register(new RatisMetricsCollector(raftServer.getId().toString()));
    http = HttpServer.create(new InetSocketAddress(host, port), 16);
    executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-http-" + port);
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(executor);
    http.createContext("/metrics", this::metrics);
    http.createContext("/health", this::health);
    http.start();
  }

  /** The bound port. */
  public int port() {
    return http.getAddress().getPort();
  }

  private void metrics(HttpExchange ex) throws IOException {
    try (ex) {
      if (!"GET".equals(ex.getRequestMethod())) {
        send(ex, 405, "text/plain", "GET only\n");
        return;
      }
      StringWriter body = new StringWriter();
      replicaGauges.refresh();
      TextFormat.write004(body, prometheus.metricFamilySamples());
      send(ex, 200, TextFormat.CONTENT_TYPE_004, body.toString());
    } catch (RuntimeException e) {
      LOG.warn("/metrics failed: {}", e.toString());
    }
  }

  private void health(HttpExchange ex) throws IOException {
    try (ex) {
      Health h = health.get();
      send(ex, h.ready() ? 200 : 503, "application/json", h.toJson() + "\n");
    } catch (RuntimeException e) {
      LOG.warn("/health failed: {}", e.toString());
    }
  }

  private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }
}
