package io.ratislog.server;

import io.ratislog.server.config.NodeConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;

/**
 * A real N-node ratislog cluster inside the test JVM, on 127.0.0.1 with free ports, data under a temp dir.
 * Nodes can be stopped and restarted (same ports, same data) to test crash recovery.
 */
public final class MiniCluster implements AutoCloseable {
  private final Path root;
  private final Map<Integer, Properties> configs = new HashMap<>();
  private final Map<Integer, LogNode> nodes = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<Integer> ids = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Map<Integer, List<io.grpc.ServerInterceptor>> interceptors = new HashMap<>();
  private final Properties extra;
  private final int initialSize;
  private String peers;

  public MiniCluster(Path root, int size, Properties extra) throws IOException {
    this.root = root;
    this.extra = extra;
    this.initialSize = size;
    StringJoiner peers = new StringJoiner(",");
    // All ports in one call, every socket held until all are chosen: no port is handed out twice.
    int[] ports = freePorts(3 * size);
    for (int id = 1; id <= size; id++) {
      peers.add(id + "=127.0.0.1:" + ports[2 * (id - 1)] + ":" + ports[2 * (id - 1) + 1]);
      ids.add(id);
    }
    for (int id : ids) {
      Properties p = new Properties();
      p.setProperty("node.id", String.valueOf(id));
      p.setProperty("peers", peers.toString());
      p.setProperty("data.dir", root.resolve("n" + id).toString());
      p.setProperty("metrics.port", String.valueOf(ports[2 * size + id - 1]));
      p.putAll(extra);
      configs.put(id, p);
    }
    this.peers = peers.toString();
  }

  /**
   * Prepares one more node (not started, not registered): its configuration lists the existing peers plus
   * itself and the cluster's metadata voter count, as an operator would write it. The existing nodes'
   * configurations do not change.
   *
   * @return the new node's id
   */
  public synchronized int prepareNode() throws IOException {
    int id = ids.stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
    int[] ports = freePorts(2);
    peers = peers + "," + id + "=127.0.0.1:" + ports[0] + ":" + ports[1];
    Properties p = new Properties();
    p.setProperty("node.id", String.valueOf(id));
    p.setProperty("peers", peers);
    p.setProperty("data.dir", root.resolve("n" + id).toString());
    p.setProperty("metadata.voters", String.valueOf(Math.min(NodeConfig.DEFAULT_METADATA_VOTERS, initialSize)));
    p.putAll(extra);
    configs.put(id, p);
    ids.add(id);
    return id;
  }

  /** The raft port of a node. */
  public int raftPort(int id) {
    return NodeConfig.of(configs.get(id)).self().raftPort();
  }

  /** Deletes a stopped node's data directory (a disk replaced, or a node wiped). */
  public void wipe(int id) throws IOException {
    if (isRunning(id)) {
      throw new IllegalStateException("node " + id + " is running");
    }
    Path dir = dataDir(id);
    if (java.nio.file.Files.exists(dir)) {
      try (var walk = java.nio.file.Files.walk(dir)) {
        for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.delete(f);
        }
      }
    }
  }

  public MiniCluster startAll() throws IOException {
    for (int id : ids) {
      start(id);
    }
    return this;
  }

  /** Sets one config key of node {@code id} (e.g. its own TLS certificate), effective from its next start. */
  public MiniCluster configure(int id, String key, String value) {
    configs.get(id).setProperty(key, value);
    return this;
  }

  /** Puts interceptors in front of node {@code id}'s client services from its next start on. */
  public void intercept(int id, io.grpc.ServerInterceptor... list) {
    interceptors.put(id, List.of(list));
  }

  public void start(int id) throws IOException {
    LogNode node = new LogNode(NodeConfig.of(configs.get(id)), interceptors.getOrDefault(id, List.of()));
    node.start();
    nodes.put(id, node);
  }

  /** Stops a node abruptly as far as the cluster is concerned (its data stays for a restart). */
  public void stop(int id) throws IOException {
    LogNode node = nodes.remove(id);
    if (node != null) {
      node.close();
    }
  }

  public LogNode node(int id) {
    return nodes.get(id);
  }

  public List<Integer> ids() {
    return List.copyOf(ids);
  }

  public boolean isRunning(int id) {
    return nodes.containsKey(id);
  }

  public Path dataDir(int id) {
    return root.resolve("n" + id);
  }

  /** {@code host:port,...} of every node's client port. */
  public String bootstrap() {
    StringJoiner j = new StringJoiner(",");
    for (int id : ids) {
      j.add("127.0.0.1:" + clientPort(id));
    }
    return j.toString();
  }

  /** Port of node {@code id}'s HTTP endpoint ({@code /metrics}, {@code /health}). */
  public int metricsPort(int id) {
    return NodeConfig.of(configs.get(id)).metricsPort();
  }

  public int clientPort(int id) {
    return NodeConfig.of(configs.get(id)).self().clientPort();
  }

  @Override
  public void close() throws IOException {
    for (int id : new ArrayList<>(nodes.keySet())) {
      stop(id);
    }
  }

  private static int[] freePorts(int n) throws IOException {
    int[] ports = new int[n];
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0);
        s.setReuseAddress(true);
        sockets.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
    return ports;
  }
}
