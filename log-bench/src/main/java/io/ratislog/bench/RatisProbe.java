package io.ratislog.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The floor under ratislog's one-in-flight latency: a bare Ratis group (its servers in this JVM, on 127.0.0.1, a
 * state machine that does nothing, Ratis' own blocking client) timing one write at a time. Compare its p50 with
 * {@code latency}'s produce-to-ack on the same machine to see what ratislog adds.
 */
@Command(name = "ratis-probe", description = "One-in-flight write latency of a bare Ratis group (servers in this JVM).")
final class RatisProbe implements Callable<Integer> {
  @Option(names = "--servers", defaultValue = "3") int servers;
  @Option(names = "--warmup", defaultValue = "12000", description = "unmeasured writes first (JIT warm-up)") int warmup;
  @Option(names = "--records", defaultValue = "3000") int records;
  @Option(names = "--record-size", defaultValue = "100") int size;
  @Option(names = "--base-port", defaultValue = "9800") int basePort;
  @Option(names = "--dir", description = "storage (default: a new temporary directory, deleted afterwards)") Path dir;
  @Option(names = "--timers", description = "print Ratis' own timers after the run") boolean timers;
  @Option(names = "--set", description = "a Ratis setting for every server, key=value (repeatable)")
  Map<String, String> settings = Map.of();

  /** Applies every write without doing anything: what is timed is Ratis' own path. */
  static final class NoOpStateMachine extends BaseStateMachine {
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }

  @Override
  public Integer call() throws Exception {
    Path storage = dir != null ? dir : Files.createTempDirectory("ratis-probe");
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 0; i < servers; i++) {
      peers.add(RaftPeer.newBuilder().setId("p" + i).setAddress("127.0.0.1:" + (basePort + i)).build());
    }
    RaftGroup group = RaftGroup.valueOf(RaftGroupId.valueOf(UUID.randomUUID()), peers);
    List<RaftServer> started = new ArrayList<>();
    try {
      for (int i = 0; i < servers; i++) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(new File(storage.toFile(), "p" + i)));
        GrpcConfigKeys.Server.setPort(p, basePort + i);
        settings.forEach(p::set);
        RaftServer s = RaftServer.newBuilder().setServerId(peers.get(i).getId()).setGroup(group).setProperties(p)
            .setStateMachine(new NoOpStateMachine()).setOption(RaftStorage.StartupOption.FORMAT).build();
        s.start();
        started.add(s);
      }
      Histogram h = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);
      try (RaftClient client = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group).build()) {
        Message message = Message.valueOf(ByteString.copyFrom(LogBench.payload(size, 0)));
        for (int i = -warmup; i < records; i++) {
          long t0 = System.nanoTime();
          client.io().send(message);
          if (i >= 0) {
            h.recordValue((System.nanoTime() - t0) / 1000);
          }
        }
      }
      System.out.printf(Locale.ROOT, "RESULT kind=ratis-probe servers=%d warmup=%d records=%d settings=%s %s%n",
          servers, warmup, records, settings, LogBench.pct(h));
      if (timers) {
        printRatisTimers();
      }
      return 0;
    } finally {
      for (RaftServer s : started) {
        s.close();
      }
      if (dir == null) {
        deleteTree(storage);
      }
    }
  }

  /**
   * Ratis' own timers (median and p99 in microseconds, over the recent writes), one line each: where a write's time
   * goes inside Ratis (client write, appender round trip to each follower, the follower's handling, log worker).
   */
  private static void printRatisTimers() {
    for (RatisMetricRegistry r : MetricRegistries.global().getMetricRegistries()) {
      if (r instanceof RatisMetricRegistryImpl impl) {
        impl.getDropWizardMetricRegistry().getTimers().forEach((name, t) -> {
          Snapshot s = t.getSnapshot();
          if (t.getCount() > 0) {
            System.out.printf(Locale.ROOT, "TIMER %s count=%d p50_us=%.0f p99_us=%.0f%n", name, t.getCount(),
                s.getMedian() / 1000, s.get99thPercentile() / 1000);
          }
        });
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
