package io.ratislog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The logd processes of a local cluster started by {@code scripts/cluster.sh}, read from its data directory:
 * {@code cluster.size}, and per node {@code n<ID>/logd.pid} and {@code n<ID>/logd.properties}.
 *
 * <p>A PID is only ever signalled after checking that it still runs our {@code Logd} with that node's config
 * (the same check as {@code cluster.sh}), so a recycled PID is never killed.
 */
final class ClusterProcesses {
  private final Path dir;

  ClusterProcesses(Path dir) {
    this.dir = dir;
  }

  /** The node ids 1..N of the cluster. */
  List<Integer> nodeIds() throws IOException {
    int n = Integer.parseInt(Files.readString(dir.resolve("cluster.size")).trim());
    List<Integer> ids = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      ids.add(i);
    }
    return ids;
  }

  Path nodeDir(int id) {
    return dir.resolve("n" + id);
  }

  /** The client address {@code host:clientPort} of a node, from the {@code peers} line of its config. */
  String clientAddress(int id) throws IOException {
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(nodeDir(id).resolve("logd.properties"), StandardCharsets.UTF_8)) {
      p.load(in);
    }
    for (String peer : p.getProperty("peers", "").split(",")) {
      String[] kv = peer.trim().split("=", 2);
      if (kv.length == 2 && kv[0].equals(Integer.toString(id))) {
        String[] parts = kv[1].split(":");
        return parts[0] + ":" + parts[2];
      }
    }
    throw new IOException("node " + id + " is not in the peers of " + nodeDir(id).resolve("logd.properties"));
  }

  /** The running process of a node, if its PID file names a live Logd of this node. */
  Optional<ProcessHandle> process(int id) throws IOException {
    Path pidFile = nodeDir(id).resolve("logd.pid");
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    String text = Files.readString(pidFile).trim();
    if (text.isEmpty()) {
      return Optional.empty();
    }
    long pid = Long.parseLong(text);
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> isOurs(pid, id));
  }

  /** The PID of a running node; fails when the node is not running. */
  long pid(int id) throws IOException {
    return process(id).orElseThrow(() -> new IOException("node " + id + " is not running")).pid();
  }

  private boolean isOurs(long pid, int id) {
    try {
      String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
          StandardCharsets.UTF_8).replace('\0', ' ');
      return cmdline.contains("io.ratislog.server.Logd")
          && cmdline.contains(nodeDir(id).resolve("logd.properties").toString());
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Sends SIGKILL to a node's process and waits (up to 5 s) until it is gone.
   *
   * @return the PID killed
   */
  long kill9(int id) throws IOException, InterruptedException {
    ProcessHandle h = process(id).orElseThrow(() -> new IOException("node " + id + " is not running"));
    h.destroyForcibly();
    try {
      h.onExit().get(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IOException("node " + id + " (pid " + h.pid() + ") did not exit after SIGKILL", e);
    }
    return h.pid();
  }

  /**
   * Runs a shell command with {@code {id}} replaced by the node id (e.g. {@code scripts/cluster.sh restart {id}}),
   * its output going to this process's stderr, and fails unless it exits 0 within the timeout.
   */
  static void run(String template, int id, long timeoutS) throws IOException, InterruptedException {
    String cmd = template.replace("{id}", Integer.toString(id));
    Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("/dev/stderr").toFile())).start();
    if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out after " + timeoutS + " s: " + cmd);
    }
    if (p.exitValue() != 0) {
      throw new IOException("exit " + p.exitValue() + ": " + cmd);
    }
  }
}
