package io.ratislog.chaos.cluster;

import io.ratislog.client.Admin;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.TopicDescription;
import io.ratislog.proto.DescribeClusterResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of real {@code logd} JVMs, one per node, with a directory per node under the run
 * directory: {@code n<ID>/logd.properties}, {@code n<ID>/data/}, {@code n<ID>/logd.out} and
 * {@code n<ID>/logd.err} (appended across restarts).
 *
 * <p>Two modes:
 * <ul>
 *   <li>loopback ({@link #ProcessCluster(ClusterSpec, RepoLayout)}): every node on 127.0.0.1 with
 *       free ports; process faults only ({@link #network()} is empty);</li>
 *   <li>namespaces ({@link #inNamespaces(ClusterSpec, RepoLayout)}): every node in its own network
 *       namespace of a {@link NetnsNetwork}, listening on its own address {@code 10.X.Y.<id>} with
 *       the fixed ports {@value #NETNS_RAFT_PORT} (Raft) and {@value #NETNS_CLIENT_PORT} (clients),
 *       started with {@code ip netns exec <ns> java ...} (which execs java, so the started process is
 *       the JVM). {@link #network()} then cuts links for real; the cluster owns the network and
 *       deletes it on {@link #close()}.</li>
 * </ul>
 *
 * <p>Only processes this object started are ever signalled, and only after
 * {@code /proc/PID/cmdline} showed that the PID is still that node's {@code logd} (and, with
 * namespaces, {@code /proc/PID/ns/net} that it runs in the node's namespace). A JVM shutdown hook
 * kills whatever is left (and removes the network) if the caller forgot {@link #close()}.
 * Thread-safe.
 */
public final class ProcessCluster implements ClusterControl, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessCluster.class);
  /** How long {@link #stopAll()} waits after SIGTERM before SIGKILL. */
  private static final Duration TERM_GRACE = Duration.ofSeconds(10);
  /** The Raft port of every node in namespace mode (each namespace has its own ports). */
  public static final int NETNS_RAFT_PORT = 9191;
  /** The client port of every node in namespace mode. */
  public static final int NETNS_CLIENT_PORT = 9091;
  private static final String MAIN_CLASS = "io.ratislog.server.Logd";

  private final ClusterSpec spec;
  private final RepoLayout layout;
  private final Map<Integer, Node> nodes = new TreeMap<>();
  private final String bootstrap;
  private final Thread shutdownHook;
  private final NetnsNetwork net;
  private volatile Admin admin;

  /** One node: its ports, directory and current process. */
  private static final class Node {
    final int id;
    final String host;
    final int raftPort;
    final int clientPort;
    final Path dir;
    Process process;
    boolean paused;

    Node(int id, String host, int raftPort, int clientPort, Path dir) {
      this.id = id;
      this.host = host;
      this.raftPort = raftPort;
      this.clientPort = clientPort;
      this.dir = dir;
    }

    boolean alive() {
      return process != null && process.isAlive();
    }
  }

  /**
   * Writes every node's configuration; starts nothing yet (see {@link #startAll()}).
   *
   * @param spec   how to run the nodes
   * @param layout where the server is built
   */
  public ProcessCluster(ClusterSpec spec, RepoLayout layout) {
    this(spec, layout, null);
  }

  /**
   * Builds a fresh {@link NetnsNetwork} (removing leftovers of dead runs first) and writes every
   * node's configuration for it; starts nothing yet. The cluster owns the network.
   *
   * @param spec   how to run the nodes
   * @param layout where the server is built
   * @return the cluster
   * @throws IllegalStateException when namespaces are unavailable
   *                               ({@link NetnsNetwork#unavailableReason()}) or cannot be built
   */
  public static ProcessCluster inNamespaces(ClusterSpec spec, RepoLayout layout) {
    NetnsNetwork net = NetnsNetwork.create(spec.nodes());
    try {
      return new ProcessCluster(spec, layout, net);
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
  }

  private ProcessCluster(ClusterSpec spec, RepoLayout layout, NetnsNetwork net) {
    this.spec = spec;
    this.layout = layout;
    this.net = net;
    List<Integer> ports = net == null ? PortAllocator.freePorts(2 * spec.nodes()) : null;
    StringJoiner peers = new StringJoiner(",");
    StringJoiner boot = new StringJoiner(",");
    for (int id = 1; id <= spec.nodes(); id++) {
      Path dir = spec.runDir().resolve("n" + id).toAbsolutePath();
      Node n = net == null
          ? new Node(id, "127.0.0.1", ports.get(2 * (id - 1)), ports.get(2 * (id - 1) + 1), dir)
          : new Node(id, net.nodeAddress(id), NETNS_RAFT_PORT, NETNS_CLIENT_PORT, dir);
      nodes.put(id, n);
      peers.add(id + "=" + n.host + ":" + n.raftPort + ":" + n.clientPort);
      boot.add(n.host + ":" + n.clientPort);
    }
    this.bootstrap = boot.toString();
    try {
      for (Node n : nodes.values()) {
        Files.createDirectories(n.dir.resolve("data"));
        StringBuilder props = new StringBuilder("# written by ProcessCluster\n")
            .append("node.id=").append(n.id).append('\n')
            .append("peers=").append(peers).append('\n')
            .append("data.dir=").append(n.dir.resolve("data")).append('\n');
        new TreeMap<>(spec.serverProps()).forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
        Files.writeString(n.dir.resolve("logd.properties"), props.toString(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + spec.runDir(), e);
    }
    this.shutdownHook = new Thread(this::reap, "process-cluster-reaper");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * The client bootstrap list.
   *
   * @return {@code host:port,...}
   */
  public String bootstrap() {
    return bootstrap;
  }

  /**
   * The client address of one node.
   *
   * @param id node id
   * @return {@code host:port}
   */
  public String clientAddress(int id) {
    Node n = node(id);
    return n.host + ":" + n.clientPort;
  }

  /**
   * The real network faults of this cluster: present in namespace mode only.
   *
   * @return the network control
   */
  @Override
  public Optional<NetworkControl> network() {
    return Optional.ofNullable(net);
  }

  /**
   * The namespace network, in namespace mode.
   *
   * @return the network, or empty on loopback
   */
  public Optional<NetnsNetwork> netns() {
    return Optional.ofNullable(net);
  }

  /**
   * The directory of one node.
   *
   * @param id node id
   * @return {@code runDir/n<ID>}
   */
  public Path nodeDir(int id) {
    return node(id).dir;
  }

  /**
   * The PID of a running node.
   *
   * @param id node id
   * @return the PID, or -1 when not running
   */
  public synchronized long pid(int id) {
    Node n = node(id);
    return n.alive() ? n.process.pid() : -1;
  }

  @Override
  public List<Integer> nodeIds() {
    return List.copyOf(nodes.keySet());
  }

  @Override
  public synchronized boolean isRunning(int id) {
    return node(id).alive();
  }

  @Override
  public synchronized boolean isPaused(int id) {
    Node n = node(id);
    return n.alive() && n.paused;
  }

  /** Starts every node that is not running. */
  public void startAll() {
    for (int id : nodeIds()) {
      start(id);
    }
  }

  @Override
  public synchronized void start(int id) {
    Node n = node(id);
    if (n.alive()) {
      return;
    }
    List<String> cmd = new ArrayList<>();
    if (net != null) {
      cmd.addAll(net.execPrefix(id));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xms" + spec.heap());
    cmd.add("-Xmx" + spec.heap());
    cmd.add("-XX:+ExitOnOutOfMemoryError"); // as bin/logd: a node out of heap dies instead of limping on
    cmd.addAll(spec.jvmOptions());
    cmd.add("-cp");
    cmd.add(layout.serverClasspath());
    cmd.add(MAIN_CLASS);
    cmd.add("--config");
    cmd.add(n.dir.resolve("logd.properties").toString());
    try {
      Path out = n.dir.resolve("logd.out");
      Path err = n.dir.resolve("logd.err");
      String banner = "=== " + Instant.now() + " ProcessCluster starts node " + id + "\n";
      Files.writeString(out, banner, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(cmd);
      if (spec.fakeTimeLib() != null) {
        Path rc = n.dir.resolve("faketime.rc");
        if (!Files.exists(rc)) {
          Files.writeString(rc, "+0\n");
        }
        pb.environment().put("LD_PRELOAD", spec.fakeTimeLib().toString());
        pb.environment().put("FAKETIME_TIMESTAMP_FILE", rc.toString());
        pb.environment().put("FAKETIME_CACHE_DURATION", "1");
        pb.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        // Without this, libfaketime 0.9.10 makes the JVM's timed waits return at once: a node then needs
        // a minute to start instead of seconds.
        pb.environment().put("FAKETIME_FORCE_MONOTONIC_FIX", "0");
      }
      n.process = pb.directory(layout.root().toFile())
          .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
          .redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      n.paused = false;
      awaitExec(n);
      LOG.info("node {} started: pid {}, client address {}:{}{}", id, n.process.pid(), n.host, n.clientPort,
          net == null ? "" : " in namespace " + net.namespace(id));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + id, e);
    }
  }

  @Override
  public synchronized void kill9(int id) {
    Node n = node(id);
    if (!n.alive()) {
      return;
    }
    long pid = n.process.pid();
    verifyOwn(n);
    n.process.destroyForcibly(); // SIGKILL; works on a stopped process too
    awaitExit(n.process, Duration.ofSeconds(10));
    n.paused = false;
    LOG.info("node {} killed (pid {})", id, pid);
  }

  @Override
  public synchronized void pause(int id) {
    Node n = node(id);
    if (!n.alive() || n.paused) {
      return;
    }
    signal(n, "STOP");
    n.paused = true;
    LOG.info("node {} paused (pid {})", id, n.process.pid());
  }

  @Override
  public synchronized void resume(int id) {
    Node n = node(id);
    if (!n.alive() || !n.paused) {
      return;
    }
    signal(n, "CONT");
    n.paused = false;
    LOG.info("node {} resumed (pid {})", id, n.process.pid());
  }

  @Override
  public synchronized void wipeData(int id, java.util.Set<Path> keep) {
    Node n = node(id);
    if (n.alive()) {
      throw new IllegalStateException("node " + id + " is running: stop it before wiping its data");
    }
    Path data = n.dir.resolve("data");
    List<Path> kept = keep.stream().map(data::resolve).toList();
    try (var walk = Files.walk(data)) {
      for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        boolean protect = f.equals(data) || kept.stream().anyMatch(k -> f.startsWith(k) || k.startsWith(f));
        if (!protect) {
          Files.delete(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot wipe the data of node " + id, e);
    }
    LOG.info("node {}: data wiped (kept {})", id, keep);
  }

  /** Kills every node with SIGKILL. */
  public void killAll() {
    for (int id : nodeIds()) {
      kill9(id);
    }
  }

  /** Kills every node with SIGKILL, then starts them all again with their data. */
  public void restartAll() {
    killAll();
    startAll();
  }

  /**
   * Stops every node: SIGCONT if paused, SIGTERM, then SIGKILL for those still alive after a bound.
   */
  public synchronized void stopAll() {
    for (Node n : nodes.values()) {
      if (n.alive()) {
        if (n.paused) {
          signal(n, "CONT");
          n.paused = false;
        }
        verifyOwn(n);
        n.process.destroy(); // SIGTERM
      }
    }
    long deadline = System.nanoTime() + TERM_GRACE.toNanos();
    for (Node n : nodes.values()) {
      if (n.process == null) {
        continue;
      }
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        if (!n.process.waitFor(left, TimeUnit.NANOSECONDS)) {
          LOG.warn("node {} ignored SIGTERM for {}; killing it", n.id, TERM_GRACE);
          n.process.destroyForcibly();
          awaitExit(n.process, Duration.ofSeconds(10));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        n.process.destroyForcibly();
      }
    }
  }

  /**
   * Waits until the metadata group has a leader and every running node answers.
   *
   * @param timeout the bound
   * @throws IllegalStateException when the cluster is not ready in time
   */
  public void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() - deadline < 0) {
      try {
        DescribeClusterResponse r = admin().describeCluster();
        long up = r.getNodesList().stream().filter(x -> x.getUp()).count();
        long running = nodeIds().stream().filter(this::isRunning).count();
        if (r.getMetadataLeader() >= 0 && up >= running) {
          return;
        }
        last = "metadata leader " + r.getMetadataLeader() + ", up " + up + "/" + running;
      } catch (RuntimeException e) {
        last = e.toString();
      }
      sleep(250);
    }
    throw new IllegalStateException("cluster not ready after " + timeout + ": " + last + " (logs in "
        + spec.runDir() + ")");
  }

  /**
   * Waits until every partition of a topic has a leader.
   *
   * @param topic   the topic
   * @param timeout the bound
   * @return true when they all have one in time
   */
  public boolean awaitLeaders(String topic, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      try {
        if (partitions(topic, -1).stream().allMatch(PartitionInfo::hasLeader)) {
          return true;
        }
      } catch (RuntimeException e) {
        // not yet
      }
      sleep(200);
    }
    return false;
  }

  /**
   * The partitions of a topic with their leaders as the cluster knows them. A node reports the
   * leader only of the partitions it holds a replica of (-1 for the others), and the admin client
   * asks the nodes in turn, so with more nodes than the replication factor one answer is not enough:
   * this asks up to once per node and keeps, per partition, the first leader reported.
   *
   * @param topic  the topic
   * @param wanted the partition whose leader is needed, or -1 for all
   * @return the partitions, leaders merged
   */
  private List<PartitionInfo> partitions(String topic, int wanted) {
    List<PartitionInfo> merged = null;
    RuntimeException last = null;
    for (int i = 0; i < nodes.size(); i++) {
      TopicDescription t;
      try {
        t = admin().describeTopic(topic);
      } catch (RuntimeException e) {
        last = e;
        continue;
      }
      if (merged == null || merged.size() != t.partitionCount()) {
        merged = new ArrayList<>(t.partitions());
      } else {
        for (int p = 0; p < merged.size(); p++) {
          if (!merged.get(p).hasLeader() && t.partitions().get(p).hasLeader()) {
            merged.set(p, t.partitions().get(p));
          }
        }
      }
      boolean done = wanted >= 0 ? wanted >= merged.size() || merged.get(wanted).hasLeader()
          : merged.stream().allMatch(PartitionInfo::hasLeader);
      if (done) {
        break;
      }
    }
    if (merged == null) {
      throw last != null ? last : new IllegalStateException("no node described " + topic);
    }
    return merged;
  }

  @Override
  public List<Integer> replicasOf(String topic, int partition) {
    try {
      TopicDescription t = admin().describeTopic(topic);
      return partition < t.partitionCount() ? t.partitions().get(partition).replicas() : List.of();
    } catch (RuntimeException e) {
      LOG.debug("replicasOf({}, {}) failed: {}", topic, partition, e.toString());
      return List.of();
    }
  }

  @Override
  public int leaderOf(String topic, int partition) {
    try {
      List<PartitionInfo> ps = partitions(topic, partition);
      return partition < ps.size() ? ps.get(partition).leader() : -1;
    } catch (RuntimeException e) {
      LOG.debug("leaderOf({}, {}) failed: {}", topic, partition, e.toString());
      return -1;
    }
  }

  /**
   * Moves a node's wall clock (needs {@link ClusterSpec#withFakeTime}): libfaketime in the node re-reads the
   * spec within a second. Monotonic time is not touched (the JVM's timers and Ratis' election timeouts stay
   * real), only what {@code System.currentTimeMillis} and {@code Instant.now} return.
   *
   * @param id   node id
   * @param spec a libfaketime offset, e.g. {@code +5m}, {@code -90s}, {@code +0 x1.5} (drift), {@code +0}
   */
  @Override
  public void setClock(int id, String spec) {
    if (this.spec.fakeTimeLib() == null) {
      throw new IllegalStateException("this cluster runs without libfaketime");
    }
    try {
      Path rc = node(id).dir.resolve("faketime.rc");
      Path tmp = rc.resolveSibling("faketime.rc.tmp");
      Files.writeString(tmp, spec + "\n");
      Files.move(tmp, rc, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      LOG.info("node {} clock set to {}", id, spec);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public boolean hasClockControl() {
    return spec.fakeTimeLib() != null;
  }

  @Override
  public int metadataLeader() {
    try {
      return admin().describeCluster().getMetadataLeader();
    } catch (RuntimeException e) {
      LOG.debug("metadataLeader() failed: {}", e.toString());
      return -1;
    }
  }

  @Override
  public Optional<Path> dataDir(int id) {
    return Optional.of(nodeDir(id).resolve("data"));
  }

  /**
   * An admin client of this cluster with a short timeout (shared; closed with the cluster).
   *
   * @return the admin client
   */
  public Admin admin() {
    Admin a = admin;
    if (a == null) {
      synchronized (this) {
        if (admin == null) {
          admin = Admin.create(bootstrap, Duration.ofSeconds(5));
        }
        a = admin;
      }
    }
    return a;
  }

  /** Stops every node, closes the admin client and, in namespace mode, deletes the network. */
  @Override
  public void close() {
    try {
      stopAll();
    } finally {
      Admin a = admin;
      if (a != null) {
        a.close();
      }
      if (net != null) {
        killAllQuietly(); // after a failed stopAll: nothing may outlive its namespace
        net.close();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException ignored) {
        // shutting down already
      }
    }
  }

  private void killAllQuietly() {
    for (Node n : nodes.values()) {
      Process p = n.process;
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
    }
    for (Node n : nodes.values()) {
      Process p = n.process;
      if (p != null) {
        try {
          p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
  }

  private void reap() {
    killAllQuietly();
    if (net != null) {
      net.close();
    }
  }

  /**
   * Waits until the started PID runs java (with {@code ip netns exec} it is {@code ip} for a moment,
   * until it execs).
   */
  private void awaitExec(Node n) {
    if (!Files.isDirectory(Path.of("/proc/self"))) {
      return; // no procfs: nothing to check
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (n.process.isAlive() && System.nanoTime() - deadline < 0) {
      if (cmdline(n.process.pid()).contains(MAIN_CLASS)) {
        return;
      }
      sleep(10);
    }
    if (n.process.isAlive()) {
      throw new IllegalStateException("pid " + n.process.pid() + " of node " + n.id + " is not logd after 10 s: "
          + cmdline(n.process.pid()));
    }
  }

  /**
   * Refuses to signal a PID that is not this node's {@code logd} (in its namespace, if any).
   */
  private void verifyOwn(Node n) {
    long pid = n.process.pid();
    if (!n.process.isAlive() || !Files.isDirectory(Path.of("/proc/self"))) {
      return;
    }
    String cmd = cmdline(pid);
    String config = n.dir.resolve("logd.properties").toString();
    if (!cmd.contains(MAIN_CLASS) || !cmd.contains(config)) {
      throw new IllegalStateException("refusing to signal pid " + pid + ": not node " + n.id + "'s logd ("
          + cmd + ")");
    }
    if (net != null && !net.inNamespace(pid, n.id)) {
      throw new IllegalStateException("refusing to signal pid " + pid + ": not in namespace " + net.namespace(n.id));
    }
  }

  private static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
          StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  private Node node(int id) {
    Node n = nodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("no node " + id + " (nodes " + nodes.keySet() + ")");
    }
    return n;
  }

  private void signal(Node n, String sig) {
    verifyOwn(n);
    try {
      Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(n.process.pid()))
          .redirectErrorStream(true).start();
      if (!k.waitFor(5, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + sig + " " + n.process.pid() + " failed: "
            + new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling node " + n.id, e);
    }
  }

  private static void awaitExit(Process p, Duration bound) {
    try {
      if (!p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("pid " + p.pid() + " still alive after SIGKILL and " + bound);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
