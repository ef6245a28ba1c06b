package io.ratislog.chaos.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private, isolated test network made of Linux network namespaces, for a {@link ProcessCluster}
 * whose nodes must be partitioned for real. Needs root, {@code ip} (iproute2) and {@code iptables}.
 *
 * <h2>Topology</h2>
 * Every name starts with {@value #PREFIX} and a random 4-hex-digit tag per run ({@code T} below):
 * <pre>
 *   root namespace (the test JVM: clients)      namespace rlchTbr (nothing runs in it)
 *     rlchTh  10.X.Y.254/24  ── veth ──  rlchThp ─┐
 *                                                  ├─ bridge rlchTb (no address)
 *   namespace rlchTn1: lo, rlchTv1 10.X.Y.1/24 ─ veth ─ rlchTp1 ─┤
 *   namespace rlchTn2: lo, rlchTv2 10.X.Y.2/24 ─ veth ─ rlchTp2 ─┤
 *   ...                                                           ┘
 * </pre>
 * The bridge lives in a namespace of its own, so nothing of the host's firewall (e.g. a
 * {@code br_netfilter} FORWARD policy) applies to it and the root namespace only gains one veth end.
 * The subnet {@code 10.X.Y.0/24} is chosen per run among those that overlap no route or address of
 * the root namespace. There is no default route in any node namespace, no NAT and no forwarding: a
 * node can only reach the other nodes and the test JVM, and the test JVM reaches the subnet only
 * through its connected {@code /24} route.
 *
 * <h2>Faults</h2>
 * {@link #cut} installs {@code iptables -A RLCHAOS -s <peer> -j DROP} rules in the chain
 * {@value #CHAIN} of each node namespace (jumped to from {@code INPUT}; both ends drop what they get
 * from the other, as Jepsen does), so a cut is silent packet loss in both directions. Nothing ever
 * matches the test JVM's address: the clients keep reaching every node. {@link #heal} flushes the
 * chain, removing exactly the rules this object added (the namespaces are this run's own).
 *
 * <h2>Cleanup</h2>
 * {@link #close()} deletes the bridge namespace (which destroys every veth pair, their node ends
 * included), the node namespaces and the root-side veth; it is idempotent and also runs from a JVM
 * shutdown hook. {@link #create} first removes leftovers of earlier runs that died without cleaning
 * up: only names matching {@code rlch[0-9a-f]{4}...} whose owner JVM (recorded in
 * {@code /run/rlch<tag>.owner}) is gone.
 */
public final class NetnsNetwork implements NetworkControl, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NetnsNetwork.class);
  /** Prefix of every namespace and interface this class creates. */
  public static final String PREFIX = "rlch";
  /** The iptables chain holding the cuts, in each node namespace. */
  public static final String CHAIN = "RLCHAOS";
  /** The last octet of the test JVM's address. */
  public static final int HOST_OCTET = 254;
  /** System property: {@code off} makes namespaces unavailable (to exercise the skip path). */
  public static final String DISABLE_PROPERTY = "ratislog.chaos.netns";
  private static final Pattern OWN_NETNS = Pattern.compile("^(" + PREFIX + "[0-9a-f]{4})(br|n[0-9])$");
  private static final Pattern OWN_LINK = Pattern.compile("^\\d+:\\s+(" + PREFIX + "[0-9a-f]{4})(h)[@:]");
  private static final Path RUN = Path.of("/run");
  private static volatile Optional<String> unavailable;

  private final String tag;
  private final String subnet; // "10.X.Y"
  private final int nodes;
  private final String ip;
  private final String iptablesRestore;
  private final Thread hook;
  private boolean closed;
  private final Map<Integer, Set<Integer>> current = new TreeMap<>();

  private NetnsNetwork(String tag, String subnet, int nodes) {
    this.tag = tag;
    this.subnet = subnet;
    this.nodes = nodes;
    this.ip = tool("ip").orElseThrow();
    this.iptablesRestore = tool("iptables-restore").orElseThrow();
    this.hook = new Thread(this::closeQuietly, "netns-cleanup-" + tag);
  }

  /**
   * Why namespaces cannot be used here, checked once per JVM: not Linux, not root, {@code ip} or
   * {@code iptables} missing, creating a probe namespace with an iptables chain failed, or the
   * system property {@value #DISABLE_PROPERTY} is {@code off}.
   *
   * @return the reason, or empty when network faults are available
   */
  public static synchronized Optional<String> unavailableReason() {
    if (unavailable == null) {
      unavailable = probe();
    }
    return unavailable;
  }

  private static Optional<String> probe() {
    if ("off".equalsIgnoreCase(System.getProperty(DISABLE_PROPERTY, ""))) {
      return Optional.of("disabled with -D" + DISABLE_PROPERTY + "=off");
    }
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return Optional.of("network namespaces need Linux (os.name=" + System.getProperty("os.name") + ")");
    }
    try {
      String status = Files.readString(Path.of("/proc/self/status"));
      Matcher m = Pattern.compile("(?m)^Uid:\\s+(\\d+)\\s+(\\d+)").matcher(status);
      String euid = m.find() ? m.group(2) : "?";
      if (!"0".equals(euid)) {
        return Optional.of("network namespaces and iptables need root (effective uid is " + euid + ")");
      }
    } catch (IOException e) {
      return Optional.of("cannot read /proc/self/status: " + e);
    }
    for (String t : List.of("ip", "iptables", "iptables-restore")) {
      if (tool(t).isEmpty()) {
        return Optional.of("'" + t + "' is not installed (apt-get install -y iproute2 iptables)");
      }
    }
    String ns = PREFIX + "prb" + ProcessHandle.current().pid() % 10;
    String ip = tool("ip").orElseThrow();
    String ipt = tool("iptables").orElseThrow();
    try {
      run(List.of(ip, "netns", "add", ns), null);
      try {
        run(List.of(ip, "netns", "exec", ns, ipt, "-w", "-N", CHAIN), null);
        run(List.of(ip, "netns", "exec", ns, ipt, "-w", "-A", "INPUT", "-j", CHAIN), null);
      } finally {
        run(List.of(ip, "netns", "del", ns), null);
      }
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of("cannot create a network namespace with an iptables chain: " + e.getMessage());
    }
  }

  /**
   * Removes leftovers, then builds a fresh network for {@code nodes} nodes (ids 1..nodes).
   *
   * @param nodes node count, 1..9
   * @return the network, up
   * @throws IllegalStateException when namespaces are unavailable or building failed (whatever was
   *                               built is removed again)
   */
  public static NetnsNetwork create(int nodes) {
    if (nodes < 1 || nodes > 9) {
      throw new IllegalArgumentException("nodes must be 1..9: " + nodes);
    }
    unavailableReason().ifPresent(r -> {
      throw new IllegalStateException("network namespaces unavailable: " + r);
    });
    cleanupLeftovers();
    SecureRandom rnd = new SecureRandom();
    String tag;
    do {
      tag = PREFIX + String.format("%04x", rnd.nextInt(1 << 16));
    } while (Files.exists(RUN.resolve("netns").resolve(tag + "br")));
    String subnet = freeSubnet(rnd);
    NetnsNetwork net = new NetnsNetwork(tag, subnet, nodes);
    Runtime.getRuntime().addShutdownHook(net.hook);
    try {
      net.build();
      return net;
    } catch (RuntimeException e) {
      net.close();
      throw new IllegalStateException("cannot build the test network " + tag + ": " + e.getMessage(), e);
    }
  }

  private void build() {
    writeOwner();
    String br = tag + "br";
    String bridge = tag + "b";
    sh(ip, "netns", "add", br);
    sh(ip, "-n", br, "link", "set", "lo", "up");
    sh(ip, "-n", br, "link", "add", bridge, "type", "bridge");
    sh(ip, "-n", br, "link", "set", bridge, "up");
    String ipt = tool("iptables").orElseThrow();
    for (int id = 1; id <= nodes; id++) {
      String ns = namespace(id);
      String v = tag + "v" + id;
      String p = tag + "p" + id;
      sh(ip, "netns", "add", ns);
      sh(ip, "-n", ns, "link", "set", "lo", "up");
      sh(ip, "link", "add", v, "netns", ns, "type", "veth", "peer", "name", p, "netns", br);
      sh(ip, "-n", ns, "addr", "add", nodeAddress(id) + "/24", "dev", v);
      sh(ip, "-n", ns, "link", "set", v, "up");
      sh(ip, "-n", br, "link", "set", p, "master", bridge);
      sh(ip, "-n", br, "link", "set", p, "up");
      sh(ip, "netns", "exec", ns, ipt, "-w", "-N", CHAIN);
      sh(ip, "netns", "exec", ns, ipt, "-w", "-A", "INPUT", "-j", CHAIN);
    }
    String h = tag + "h";
    sh(ip, "link", "add", h, "type", "veth", "peer", "name", h + "p", "netns", br);
    sh(ip, "-n", br, "link", "set", h + "p", "master", bridge);
    sh(ip, "-n", br, "link", "set", h + "p", "up");
    sh(ip, "addr", "add", hostAddress() + "/24", "dev", h);
    sh(ip, "link", "set", h, "up");
    LOG.info("test network {} up: nodes {}.1-{} in namespaces {}n1..n{}, clients at {} on {}", tag, subnet,
        nodes, tag, nodes, hostAddress(), h);
  }

  /**
   * This run's tag, e.g. {@code rlch3fa0}.
   *
   * @return the tag
   */
  public String tag() {
    return tag;
  }

  /**
   * The namespace of a node.
   *
   * @param id node id
   * @return e.g. {@code rlch3fa0n1}
   */
  public String namespace(int id) {
    check(id);
    return tag + "n" + id;
  }

  /**
   * The address of a node.
   *
   * @param id node id
   * @return e.g. {@code 10.213.7.1}
   */
  public String nodeAddress(int id) {
    check(id);
    return subnet + "." + id;
  }

  /**
   * The test JVM's address on the bridge.
   *
   * @return {@code 10.X.Y.254}
   */
  public String hostAddress() {
    return subnet + "." + HOST_OCTET;
  }

  /**
   * The words to put before a command so that it runs in a node's namespace ({@code ip netns exec}
   * execs the command, so the started process is the command itself).
   *
   * @param id node id
   * @return {@code [ip, netns, exec, <ns>]}
   */
  public List<String> execPrefix(int id) {
    return List.of(ip, "netns", "exec", namespace(id));
  }

  /**
   * Whether a process lives in a node's namespace (compares {@code /proc/PID/ns/net} with the
   * namespace's bind mount).
   *
   * @param pid the process
   * @param id  node id
   * @return true when it does
   */
  public boolean inNamespace(long pid, int id) {
    try {
      String link = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString();
      Object ino = Files.getAttribute(RUN.resolve("netns").resolve(namespace(id)), "unix:ino");
      return link.equals("net:[" + ino + "]");
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  @Override
  public synchronized void cut(Map<Integer, Set<Integer>> cuts) {
    Map<Integer, Set<Integer>> sym = new TreeMap<>();
    for (int id = 1; id <= nodes; id++) {
      sym.put(id, new TreeSet<>());
    }
    cuts.forEach((a, bs) -> {
      for (int b : bs) {
        check(a);
        check(b);
        if (a != b) {
          sym.get(a).add(b);
          sym.get(b).add(a);
        }
      }
    });
    Map<Integer, Runnable> actions = new TreeMap<>();
    for (int id = 1; id <= nodes; id++) {
      Set<Integer> drop = sym.get(id);
      if (drop.isEmpty() && current.getOrDefault(id, Set.of()).isEmpty()) {
        continue;
      }
      StringBuilder rules = new StringBuilder("*filter\n-F ").append(CHAIN).append('\n');
      for (int peer : drop) {
        rules.append("-A ").append(CHAIN).append(" -s ").append(nodeAddress(peer)).append("/32 -j DROP\n");
      }
      rules.append("COMMIT\n");
      int node = id;
      actions.put(id, () -> {
        run(List.of(ip, "netns", "exec", namespace(node), iptablesRestore, "-w", "--noflush"), rules.toString());
        synchronized (current) {
          current.put(node, drop);
        }
      });
    }
    long t0 = System.nanoTime();
    inParallel(actions);
    LOG.info("network {}: cuts {} ({} ms)", tag, sym, (System.nanoTime() - t0) / 1_000_000);
  }

  @Override
  public synchronized void lossy(int node, double probability) {
    check(node);
    if (!(probability > 0 && probability < 1)) {
      throw new IllegalArgumentException("probability must be in (0, 1): " + probability);
    }
    String rules = "*filter\n-A " + CHAIN + " -m statistic --mode random --probability " + probability
        + " -j DROP\nCOMMIT\n";
    run(List.of(ip, "netns", "exec", namespace(node), iptablesRestore, "-w", "--noflush"), rules);
    synchronized (current) {
      current.computeIfAbsent(node, k -> new TreeSet<>());
    }
    LOG.info("network {}: node {} drops {}% of its incoming packets", tag, node, Math.round(probability * 100));
  }

  @Override
  public synchronized void heal() {
    if (closed) {
      return;
    }
    String ipt = tool("iptables").orElseThrow();
    Map<Integer, Runnable> actions = new TreeMap<>();
    for (int id = 1; id <= nodes; id++) {
      int node = id;
      actions.put(id, () -> {
        sh(ip, "netns", "exec", namespace(node), ipt, "-w", "-F", CHAIN);
        synchronized (current) {
          current.remove(node);
        }
      });
    }
    long t0 = System.nanoTime();
    inParallel(actions);
    LOG.info("network {}: healed ({} ms)", tag, (System.nanoTime() - t0) / 1_000_000);
  }

  /**
   * Runs one action per namespace, all at once (each is a short {@code ip netns exec iptables...}
   * process; one after the other they take seconds on a loaded host, which would blur the fault's
   * start), and waits for all; rethrows the first failure after every action finished.
   */
  private static void inParallel(Map<Integer, Runnable> actions) {
    List<Thread> threads = new ArrayList<>();
    List<RuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    actions.forEach((id, action) -> {
      Thread t = new Thread(() -> {
        try {
          action.run();
        } catch (RuntimeException e) {
          failures.add(e);
        }
      }, "netns-" + id);
      threads.add(t);
      t.start();
    });
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while changing the network", e);
      }
    }
    if (!failures.isEmpty()) {
      throw failures.get(0);
    }
  }

  /**
   * The DROP rules now in every node's chain, as iptables lists them (for tests and debugging).
   *
   * @return node id to {@code iptables -S RLCHAOS} output
   */
  public synchronized Map<Integer, String> rules() {
    String ipt = tool("iptables").orElseThrow();
    Map<Integer, String> out = new TreeMap<>();
    for (int id = 1; id <= nodes; id++) {
      out.put(id, run(List.of(ip, "netns", "exec", namespace(id), ipt, "-w", "-S", CHAIN), null).trim());
    }
    return out;
  }

  /** Deletes every namespace and interface of this network. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    removeTag(ip, tag);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // shutting down: this may be the hook itself
    }
    LOG.info("test network {} removed", tag);
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("netns cleanup of " + tag + " failed: " + e);
    }
  }

  /**
   * Removes namespaces and links of earlier runs whose owner JVM is gone (by name: only
   * {@code rlch<4 hex>br}, {@code rlch<4 hex>n<digit>} and {@code rlch<4 hex>h}).
   *
   * @return the tags removed
   */
  public static synchronized Set<String> cleanupLeftovers() {
    Optional<String> ipTool = tool("ip");
    if (ipTool.isEmpty()) {
      return Set.of();
    }
    String ip = ipTool.get();
    Set<String> tags = new TreeSet<>();
    for (String line : run(List.of(ip, "netns", "list"), null).split("\n")) {
      String name = line.trim().split("\\s+")[0];
      Matcher m = OWN_NETNS.matcher(name);
      if (m.matches()) {
        tags.add(m.group(1));
      }
    }
    for (String line : run(List.of(ip, "-o", "link", "show"), null).split("\n")) {
      Matcher m = OWN_LINK.matcher(line.trim());
      if (m.find()) {
        tags.add(m.group(1));
      }
    }
    Set<String> removed = new HashSet<>();
    for (String t : tags) {
      Optional<Long> owner = readOwner(t);
      if (owner.isPresent() && ProcessHandle.of(owner.get()).map(ProcessHandle::isAlive).orElse(false)) {
        LOG.info("test network {} belongs to live pid {}: left alone", t, owner.get());
        continue;
      }
      LOG.warn("removing leftover test network {} (owner pid {} gone)", t, owner.map(String::valueOf).orElse("?"));
      removeTag(ip, t);
      removed.add(t);
    }
    return removed;
  }

  private static void removeTag(String ip, String t) {
    // Any java left in a node namespace of this tag is one of ours (the namespace name is ours).
    List<String> ns = new ArrayList<>();
    for (String line : run(List.of(ip, "netns", "list"), null).split("\n")) {
      String name = line.trim().split("\\s+")[0];
      Matcher m = OWN_NETNS.matcher(name);
      if (m.matches() && m.group(1).equals(t)) {
        ns.add(name);
      }
    }
    for (String n : ns) {
      if (n.endsWith("br")) {
        continue;
      }
      for (String pid : quiet(List.of(ip, "netns", "pids", n)).split("\\s+")) {
        if (pid.matches("\\d+")) {
          ProcessHandle.of(Long.parseLong(pid)).ifPresent(p -> {
            LOG.warn("killing pid {} ({}) left in namespace {}", p.pid(), p.info().command().orElse("?"), n);
            p.destroyForcibly();
          });
        }
      }
    }
    // The bridge namespace first: deleting it destroys every veth pair, node and root ends included.
    ns.sort((a, b) -> Boolean.compare(!a.endsWith("br"), !b.endsWith("br")));
    for (String n : ns) {
      quiet(List.of(ip, "netns", "del", n));
    }
    if (quiet(List.of(ip, "-o", "link", "show", "dev", t + "h")).contains(t + "h")) {
      quiet(List.of(ip, "link", "del", t + "h"));
    }
    try {
      Files.deleteIfExists(RUN.resolve(t + ".owner"));
    } catch (IOException e) {
      LOG.debug("cannot delete owner file of {}: {}", t, e.toString());
    }
  }

  private void writeOwner() {
    try {
      Files.writeString(RUN.resolve(tag + ".owner"), ProcessHandle.current().pid() + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + RUN.resolve(tag + ".owner"), e);
    }
  }

  private static Optional<Long> readOwner(String t) {
    try {
      return Optional.of(Long.parseLong(Files.readString(RUN.resolve(t + ".owner")).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** A {@code 10.X.Y} (X in 100..254) whose /24 overlaps no IPv4 route or address of this host. */
  private static String freeSubnet(SecureRandom rnd) {
    String ip = tool("ip").orElseThrow();
    List<long[]> used = new ArrayList<>();
    String text = run(List.of(ip, "-4", "route", "show", "table", "all"), null) + "\n"
        + run(List.of(ip, "-4", "-o", "addr", "show"), null);
    Matcher m = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)(?:/(\\d+))?").matcher(text);
    while (m.find()) {
      long a = (Long.parseLong(m.group(1)) << 24) | (Long.parseLong(m.group(2)) << 16)
          | (Long.parseLong(m.group(3)) << 8) | Long.parseLong(m.group(4));
      int len = m.group(5) == null ? 32 : Integer.parseInt(m.group(5));
      if (len == 0) {
        continue; // the default route covers everything but is no conflict
      }
      long mask = len == 32 ? 0xffffffffL : (0xffffffffL << (32 - len)) & 0xffffffffL;
      used.add(new long[] {a & mask, mask});
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
      int x = 100 + rnd.nextInt(155);
      int y = rnd.nextInt(256);
      long net = (10L << 24) | ((long) x << 16) | ((long) y << 8);
      boolean clash = false;
      for (long[] u : used) {
        long mask = Math.min(u[1], 0xffffff00L); // the shorter of the two prefixes
        if ((net & mask) == (u[0] & mask)) {
          clash = true;
          break;
        }
      }
      if (!clash) {
        return "10." + x + "." + y;
      }
    }
    throw new IllegalStateException("no free 10.X.Y.0/24 subnet on this host");
  }

  private void check(int id) {
    if (id < 1 || id > nodes) {
      throw new IllegalArgumentException("no node " + id + " in network " + tag);
    }
  }

  private static Optional<String> tool(String name) {
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  private static void sh(String... cmd) {
    run(List.of(cmd), null);
  }

  private static String quiet(List<String> cmd) {
    try {
      return run(cmd, null);
    } catch (RuntimeException e) {
      LOG.debug("{}: {}", cmd, e.getMessage());
      return "";
    }
  }

  /** Runs a command, feeding it {@code stdin}; returns its output; throws on failure. */
  private static String run(List<String> cmd, String stdin) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + ": timed out");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + text.trim());
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(String.join(" ", cmd), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
    }
  }
}
