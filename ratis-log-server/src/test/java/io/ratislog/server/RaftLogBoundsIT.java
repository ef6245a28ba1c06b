package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a partition's Raft log takes is bounded by configuration, not by what was written.
 * <ul>
 *   <li>Heap: Ratis keeps the entries of closed Raft log segments in memory (its defaults: up to 6 segments and
 *   200 MB per group) until the cache is full. With records in the entries, every partition written to held tens
 *   of MiB of heap, and a node with a 512 MiB heap and twenty busy partitions ran out of it (found by a run of the
 *   benchmark's produce cases).</li>
 *   <li>Disk: Ratis purges its log only up to a snapshot and snapshots every {@code snapshot.threshold.entries}
 *   entries; with large batches that was gigabytes per partition. {@code snapshot.threshold.bytes} bounds it.</li>
 * </ul>
 */
class RaftLogBoundsIT {
  private static final int SEGMENT_BYTES = 1024 * 1024;
  private static final Pattern CLOSED_CACHED =
      Pattern.compile("(?m)^ratis_log_worker_closedSegmentsNum\\{group=\"([^\"]+)\",} (\\S+)$");

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void closedRaftLogSegmentsDoNotStayInHeapOnceAppliedEverywhere() throws Exception {
    Properties extra = smallBatches(SEGMENT_BYTES);
    try (MiniCluster c = new MiniCluster(dir, 3, extra).startAll();
         io.ratislog.client.Admin admin = admin(c)) {
      admin.createTopic("heavy", 1, 3);
      await("leader of heavy-0", 30_000, () -> leaderOf(c, "heavy", 0) > 0);
      int records = 3000; // ~12 MiB: a dozen Raft segments
      produceLarge(c, "heavy", records);
      // A closed segment stays cached while a follower may still need it; all have it once applied everywhere.
      for (int id : c.ids()) {
        int port = c.metricsPort(id);
        long cached = pollFor30s(() -> mostCachedClosedSegments(port), v -> v >= 0 && v <= 2);
        assertTrue(cached >= 0 && cached <= 2,
            "node " + id + " still caches " + cached + " closed Raft log segments of one group after 30 s");
      }
      assertEquals(records, readAll(c, "heavy", 1, records).size());
    }
  }

  @Test
  void theRaftLogOnDiskStaysNearTheSnapshotSizeThreshold() throws Exception {
    Properties extra = smallBatches(256 * 1024);
    extra.setProperty("snapshot.threshold.bytes", String.valueOf(SEGMENT_BYTES));
    try (MiniCluster c = new MiniCluster(dir, 3, extra).startAll();
         io.ratislog.client.Admin admin = admin(c)) {
      admin.createTopic("tail", 1, 3);
      await("leader of tail-0", 30_000, () -> leaderOf(c, "tail", 0) > 0);
      int records = 3000; // ~12 MiB in ~200 batches: far below the 20,000-entry snapshot threshold
      produceLarge(c, "tail", records);
      for (int id : c.ids()) {
        Path nodeDir = c.dataDir(id);
        long largest = pollFor30s(() -> largestRaftLog(nodeDir), v -> v <= 3L * SEGMENT_BYTES);
        assertTrue(largest <= 3L * SEGMENT_BYTES, "node " + id + " keeps " + largest + " bytes of Raft log for one group");
      }
      int follower = c.ids().stream().filter(id -> id != leaderOf(c, "tail", 0)).findFirst().orElseThrow();
      c.stop(follower);
      produceLarge(c, "tail", 500);
      c.start(follower);
      assertEquals(records + 500, readAll(c, "tail", 1, records + 500).size());
    }
  }

  /** Samples {@code value} every 100 ms until {@code done} holds or 30 s passed; returns the last sample. */
  private static long pollFor30s(LongSupplier value, LongPredicate done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long v = value.getAsLong();
    while (!done.test(v) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      v = value.getAsLong();
    }
    return v;
  }

  /** 128 KiB batches at most, so that small Raft segments are allowed. */
  private static Properties smallBatches(int raftSegmentBytes) {
    Properties p = new Properties();
    p.setProperty("max.batch.bytes", String.valueOf(128 * 1024));
    p.setProperty("raft.segment.bytes", String.valueOf(raftSegmentBytes));
    return p;
  }

  private static void produceLarge(MiniCluster c, String topic, int records) throws Exception {
    ProducerConfig cfg = ProducerConfig.builder(c.bootstrap()).batchSizeBytes(64 * 1024).lingerMs(2)
        .deliveryTimeoutMs(60_000).build();
    byte[] value = new byte[4000];
    try (Producer p = new Producer(cfg)) {
      List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>();
      for (int i = 0; i < records; i++) {
        acks.add(p.send(new ProducerRecord(topic, 0, null, value)));
      }
      for (CompletableFuture<RecordMetadata> a : acks) {
        a.get(90, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The most bytes of Raft log segment files ({@code log_*}) any group of the node has on disk. A file Ratis
   * renames or purges while it is being listed counts as empty.
   */
  private static long largestRaftLog(Path nodeDir) {
    long largest = 0;
    Path raft = nodeDir.resolve("raft");
    if (!Files.isDirectory(raft)) {
      return 0;
    }
    try (Stream<Path> groups = Files.list(raft)) {
      for (Path g : groups.toList()) {
        Path current = g.resolve("current");
        if (!Files.isDirectory(current)) {
          continue;
        }
        long sum = 0;
        try (Stream<Path> files = Files.list(current)) {
          for (Path f : files.filter(f -> f.getFileName().toString().startsWith("log_")).toList()) {
            try {
              sum += Files.size(f);
            } catch (NoSuchFileException gone) {
              // rolled (renamed) or purged since the listing
            }
          }
        }
        largest = Math.max(largest, sum);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return largest;
  }

  /** The most closed Raft log segments any group on the node keeps in its cache, or -1 when it reports none. */
  private long mostCachedClosedSegments(int metricsPort) {
    String body;
    try {
      body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
    long worst = -1;
    Matcher m = CLOSED_CACHED.matcher(body);
    while (m.find()) {
      worst = Math.max(worst, (long) Double.parseDouble(m.group(2)));
    }
    return worst;
  }
}
