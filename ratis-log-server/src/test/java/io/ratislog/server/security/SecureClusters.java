package io.ratislog.server.security;

import io.ratislog.client.ChannelFactory;
import io.ratislog.client.ClientSecurity;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.TopicPartition;
import io.ratislog.server.MiniCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test certificates (made by scripts/make-certs.sh) and secured MiniClusters. */
public final class SecureClusters {
  private SecureClusters() {
  }

  /** Runs scripts/make-certs.sh into {@code dir}: ca, node-1..nodes, and the given clients. */
  public static Path makeCerts(Path dir, int nodes, String... clients) throws IOException, InterruptedException {
    Path script = Path.of("..", "scripts", "make-certs.sh").toAbsolutePath().normalize();
    if (!Files.isRegularFile(script)) {
      throw new IOException("no " + script + " (tests run from the module directory)");
    }
    Process p = new ProcessBuilder("bash", script.toString(), dir.toString(), "--nodes", String.valueOf(nodes),
        "--clients", String.join(",", clients)).redirectErrorStream(true).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("make-certs.sh did not finish in 60 s");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("make-certs.sh failed: " + out);
    }
    return dir;
  }

  /** Gives every node of {@code c} its certificate, the CA and the client-auth mode (before startAll). */
  public static MiniCluster withTls(MiniCluster c, Path certs, String clientAuth) {
    for (int id : c.ids()) {
      c.configure(id, "tls.cert", certs.resolve("node-" + id + ".crt").toString());
      c.configure(id, "tls.key", certs.resolve("node-" + id + ".key").toString());
      c.configure(id, "tls.ca", certs.resolve("ca.crt").toString());
      c.configure(id, "tls.client.auth", clientAuth);
    }
    return c;
  }

  /** Waits (at most 60 s) until every running node knows the metadata group's leader. */
  public static void awaitMetadataLeader(MiniCluster c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (int id : c.ids()) {
        try {
          all &= c.node(id).raftServer().getDivision(io.ratislog.server.raft.GroupIds.metadata()).getInfo().getLeaderId() != null;
        } catch (IOException | RuntimeException e) {
          all = false;
        }
      }
      if (all) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no metadata leader within 60 s");
  }

  /**
   * Creates a topic, retrying (up to 90 s) when the answer was lost to a deadline on a loaded machine; a topic that
   * exists afterwards counts as created.
   */
  public static void createTopic(io.ratislog.client.Admin admin, String name, int partitions, int rf)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      try {
        admin.createTopic(name, partitions, rf);
        return;
      } catch (io.ratislog.client.RatislogException e) {
        if (e.code() == io.ratislog.proto.ErrorCode.TOPIC_ALREADY_EXISTS) {
          return;
        }
        if (System.nanoTime() > deadline || (e.code() != io.ratislog.proto.ErrorCode.TIMEOUT
            && !e.getMessage().contains("DEADLINE_EXCEEDED") && !e.getMessage().contains("UNAVAILABLE"))) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  /** Mutual TLS as client {@code name}. */
  public static ChannelFactory mtls(Path certs, String name) {
    return ChannelFactory.secure(ClientSecurity.mutualTls(certs.resolve("ca.crt"), certs.resolve(name + ".crt"),
        certs.resolve(name + ".key")));
  }

  /** Reads partition 0..partitions-1 of a topic from the beginning until {@code expected} records (at most 30 s). */
  public static List<ConsumerRecord> readAll(String bootstrap, ChannelFactory channels, String topic, int partitions,
                                             int expected) {
    try (Consumer consumer = new Consumer(ConsumerConfig.builder(bootstrap).maxWaitMs(200).channelFactory(channels).build())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      List<ConsumerRecord> out = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (out.size() < expected && System.nanoTime() < deadline) {
        out.addAll(consumer.poll(Duration.ofMillis(200)));
      }
      return out;
    }
  }
}
