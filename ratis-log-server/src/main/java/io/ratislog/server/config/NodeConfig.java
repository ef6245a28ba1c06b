package io.ratislog.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * A node's configuration, read from {@code logd.properties}.
 *
 * <pre>
 * node.id=1
 * peers=1=10.0.0.1:9191:9091,2=10.0.0.2:9191:9091,3=10.0.0.3:9191:9091
 * data.dir=/var/lib/ratislog
 * </pre>
 *
 * <p>Optional keys and their defaults are the {@code DEFAULT_*} constants. Every problem is reported as a
 * {@link ConfigException} that names the key.
 */
public final class NodeConfig {
  public static final int DEFAULT_METADATA_VOTERS = 5;
  public static final int DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
  public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
  public static final long DEFAULT_SNAPSHOT_THRESHOLD = 20_000;
  /**
   * A partition replica also snapshots once the entries applied since its last snapshot reach this size, so its
   * Raft log tail (what a restart replays) stays this small whatever the batch size. Small on purpose: Ratis keeps
   * every replayed entry of that tail in heap until the group's next Raft log segment rolls (its cache may evict
   * only up to the last snapshot or rolled segment), so a node restarted after kill -9 holds the tails of all its
   * partitions at once; with 256 MiB, one holding a dozen busy partitions ran out of a 1 GiB heap on restart.
   * A lagging follower catches up from the Raft log kept for it ({@link #raftLogRetainBytes()}), not by snapshot.
   */
  public static final long DEFAULT_SNAPSHOT_THRESHOLD_BYTES = 16L * 1024 * 1024;
  /** Raft log a replica keeps for replicas that are down or behind, before purging it past them. */
  public static final long DEFAULT_RAFT_LOG_RETAIN_BYTES = 1024L * 1024 * 1024;
  public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
  public static final long DEFAULT_RAFT_SEGMENT_BYTES = 8L * 1024 * 1024;
  public static final int DEFAULT_PRODUCE_TIMEOUT_MS = 10_000;
  public static final long DEFAULT_PRODUCER_EXPIRY_MS = 24L * 60 * 60 * 1000;
  public static final int DEFAULT_MAX_FETCH_WAIT_MS = 30_000;
  /**
   * Raft election timeouts: a follower that heard nothing from its leader for a random time in this range stands
   * for election, so failover takes about one to two of them when the leader's host dies, hangs or is cut off (a
   * leader whose process died on a live host is replaced at once, see {@link #electionOnPeerDeath()}). The default suits small or shared machines, whose
   * stalls (CPU starvation, GC pauses of several hundred milliseconds) must not depose healthy leaders; on
   * dedicated hosts 300-600 ms fails over in about a second (the failover benchmark: p50 1.14 s, p99 1.33 s, against
   * 2.98 / 4.03 s at 1-2 s). At 300-600 ms on a loaded 2-core machine running three nodes, leaders churned and a
   * restarted replica was not caught up after 120 s; Ratis' own 150-300 ms did that even unloaded.
   */
  public static final int DEFAULT_ELECTION_TIMEOUT_MIN_MS = 1000;
  public static final int DEFAULT_ELECTION_TIMEOUT_MAX_MS = 2000;
  public static final long DEFAULT_RETENTION_CHECK_INTERVAL_MS = 5 * 60 * 1000;

  private static final Set<String> KNOWN_KEYS = Set.of(
      "node.id", "peers", "data.dir", "bind.host", "metadata.voters", "max.batch.bytes",
      "max.record.bytes", "max.partitions.per.node", "snapshot.threshold.entries", "snapshot.threshold.bytes", "raft.log.retain.bytes", "segment.bytes", "produce.timeout.ms",
      "max.fetch.wait.ms", "raft.segment.bytes", "producer.expiry.ms", "election.timeout.min.ms", "election.timeout.max.ms", "election.on.peer.death", "metrics.port", "retention.check.interval.ms", "unsafe.async.flush", "unsafe.test.disable.dedup",
      "unsafe.test.lose.every.nth.produce.response");

  private final int nodeId;
  private final List<PeerInfo> peers;
  private final Path dataDir;
  private final String bindHost;
  private final int metadataVoters;
  private final int maxBatchBytes;
  private final int maxRecordBytes;
  private final int maxPartitionsPerNode;
  private final long snapshotThresholdEntries;
  private final long snapshotThresholdBytes;
  private final long raftLogRetainBytes;
  private final long segmentBytes;
  private final long raftSegmentBytes;
  private final int produceTimeoutMs;
  private final long producerExpiryMs;
  private final int maxFetchWaitMs;
  private final int electionTimeoutMinMs;
  private final int electionTimeoutMaxMs;
  private final int metricsPort;
  private final long retentionCheckIntervalMs;
  private final boolean unsafeAsyncFlush;
  private final boolean electionOnPeerDeath;
  private final boolean unsafeDisableDedup;
  private final long unsafeLoseEveryNthProduceResponse;
  private final SecurityConfig security;

  private NodeConfig(Properties p) {
    for (String key : p.stringPropertyNames()) {
      if (!KNOWN_KEYS.contains(key) && !SecurityConfig.isKey(key)) {
        throw new ConfigException(key, "unknown key (known: " + String.join(", ", knownKeys()) + ")");
      }
    }
    this.nodeId = PeerInfo.parsePositiveInt("node.id", required(p, "node.id"), "node.id");
    this.peers = parsePeers(required(p, "peers"));
    if (peers.stream().noneMatch(peer -> peer.id() == nodeId)) {
      throw new ConfigException("node.id", "node " + nodeId + " is not in peers " + required(p, "peers"));
    }
    this.dataDir = Path.of(required(p, "data.dir")).toAbsolutePath();
    this.bindHost = p.getProperty("bind.host", self().host()).trim();
    this.metadataVoters = intKey(p, "metadata.voters", DEFAULT_METADATA_VOTERS, 1, 1_000);
    this.maxBatchBytes = intKey(p, "max.batch.bytes", DEFAULT_MAX_BATCH_BYTES, 1024, 64 * 1024 * 1024);
    this.maxRecordBytes = intKey(p, "max.record.bytes", DEFAULT_MAX_RECORD_BYTES, 16, maxBatchBytes);
    this.maxPartitionsPerNode = intKey(p, "max.partitions.per.node", 0, 0, 1_000_000);
    this.snapshotThresholdEntries = longKey(p, "snapshot.threshold.entries", DEFAULT_SNAPSHOT_THRESHOLD, 16, Long.MAX_VALUE);
    this.snapshotThresholdBytes = longKey(p, "snapshot.threshold.bytes", DEFAULT_SNAPSHOT_THRESHOLD_BYTES, 64 * 1024, Long.MAX_VALUE);
    this.raftLogRetainBytes = longKey(p, "raft.log.retain.bytes", DEFAULT_RAFT_LOG_RETAIN_BYTES, 0, Long.MAX_VALUE);
    this.segmentBytes = longKey(p, "segment.bytes", DEFAULT_SEGMENT_BYTES, 64 * 1024, 1L << 31);
    this.raftSegmentBytes = longKey(p, "raft.segment.bytes", DEFAULT_RAFT_SEGMENT_BYTES, 64 * 1024, 1L << 31);
    this.produceTimeoutMs = intKey(p, "produce.timeout.ms", DEFAULT_PRODUCE_TIMEOUT_MS, 100, 600_000);
    this.producerExpiryMs = longKey(p, "producer.expiry.ms", DEFAULT_PRODUCER_EXPIRY_MS, 1_000, Long.MAX_VALUE);
    this.maxFetchWaitMs = intKey(p, "max.fetch.wait.ms", DEFAULT_MAX_FETCH_WAIT_MS, 0, 600_000);
    this.electionTimeoutMinMs = intKey(p, "election.timeout.min.ms", DEFAULT_ELECTION_TIMEOUT_MIN_MS, 50, 60_000);
    this.electionTimeoutMaxMs = intKey(p, "election.timeout.max.ms", Math.max(DEFAULT_ELECTION_TIMEOUT_MAX_MS, electionTimeoutMinMs + 50), electionTimeoutMinMs + 1, 120_000);
    this.metricsPort = intKey(p, "metrics.port", 0, 0, 65_535);
    this.retentionCheckIntervalMs = longKey(p, "retention.check.interval.ms", DEFAULT_RETENTION_CHECK_INTERVAL_MS, 100, 24L * 3600 * 1000);
    this.unsafeAsyncFlush = boolKey(p, "unsafe.async.flush", false);
    this.electionOnPeerDeath = boolKey(p, "election.on.peer.death", true);
    this.unsafeDisableDedup = boolKey(p, "unsafe.test.disable.dedup", false);
    this.unsafeLoseEveryNthProduceResponse = longKey(p, "unsafe.test.lose.every.nth.produce.response", 0, 0, Long.MAX_VALUE);
    this.security = new SecurityConfig(p);
  }

  private static java.util.TreeSet<String> knownKeys() {
    java.util.TreeSet<String> all = new java.util.TreeSet<>(KNOWN_KEYS);
    all.addAll(SecurityConfig.KEYS);
    all.add(SecurityConfig.QUOTA_PRINCIPAL_PREFIX + "<principal>.<quota>");
    return all;
  }

  /** Reads and validates a properties file. */
  public static NodeConfig load(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    return of(p);
  }

  /** Validates properties already in memory. */
  public static NodeConfig of(Properties p) {
    return new NodeConfig(p);
  }

  private static String required(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new ConfigException(key, "is required");
    }
    return v.trim();
  }

  private static int intKey(Properties p, String key, int def, int min, int max) {
    long v = longKey(p, key, def, min, max);
    return (int) v;
  }

  static long longKey(Properties p, String key, long def, long min, long max) {
    String s = p.getProperty(key);
    if (s == null || s.isBlank()) {
      return def;
    }
    try {
      long v = Long.parseLong(s.trim());
      if (v < min || v > max) {
        throw new ConfigException(key, "must be in " + min + ".." + max + ", got " + v);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, "is not a number: '" + s.trim() + "'");
    }
  }

  static boolean boolKey(Properties p, String key, boolean def) {
    String s = p.getProperty(key);
    if (s == null || s.isBlank()) {
      return def;
    }
    return switch (s.trim().toLowerCase()) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(key, "must be true or false, got '" + s.trim() + "'");
    };
  }

  private static List<PeerInfo> parsePeers(String value) {
    List<PeerInfo> list = new ArrayList<>();
    Set<Integer> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (String entry : value.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      PeerInfo peer = PeerInfo.parse(entry);
      if (!ids.add(peer.id())) {
        throw new ConfigException("peers", "node id " + peer.id() + " appears twice");
      }
      if (!addresses.add(peer.raftAddress()) || !addresses.add(peer.clientAddress())) {
        throw new ConfigException("peers", "address of node " + peer.id() + " is used twice");
      }
      list.add(peer);
    }
    if (list.isEmpty()) {
      throw new ConfigException("peers", "lists no node");
    }
    list.sort(Comparator.comparingInt(PeerInfo::id));
    return Collections.unmodifiableList(list);
  }

  public int nodeId() {
    return nodeId;
  }

  /** Every node, sorted by id. */
  public List<PeerInfo> peers() {
    return peers;
  }

  public PeerInfo self() {
    return peer(nodeId);
  }

  /** The node with this id, or null. */
  public PeerInfo peer(int id) {
    for (PeerInfo p : peers) {
      if (p.id() == id) {
        return p;
      }
    }
    return null;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** The address both servers listen on (default: this node's host from peers). */
  public String bindHost() {
    return bindHost;
  }

  /** How many of the first nodes (by id) vote in the metadata group; the rest follow it as listeners. */
  public int metadataVoterCount() {
    return Math.min(metadataVoters, peers.size());
  }

  public int maxBatchBytes() {
    return maxBatchBytes;
  }

  /**
   * Partition replicas this node takes ({@code max.partitions.per.node}); 0, the default, lets
   * {@link io.ratislog.server.membership.ReplicaCapacity} size it from the node's cores and direct memory.
   */
  public int maxPartitionsPerNode() {
    return maxPartitionsPerNode;
  }

  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  public long snapshotThresholdEntries() {
    return snapshotThresholdEntries;
  }

  /** See {@link #DEFAULT_SNAPSHOT_THRESHOLD_BYTES}. */
  public long snapshotThresholdBytes() {
    return snapshotThresholdBytes;
  }

  /**
   * Raft log (bytes on disk) a replica of any group keeps after a snapshot for replicas that have not yet committed up
   * to it ({@code raft.log.retain.bytes}, default 1 GiB): a replica that was down or cut off for a while then catches
   * up from the log. Past this size the log is purged up to the snapshot, and such a replica is sent the snapshot
   * (for a partition, every retained segment) instead. 0 purges up to every snapshot at once.
   */
  public long raftLogRetainBytes() {
    return raftLogRetainBytes;
  }

  public long segmentBytes() {
    return segmentBytes;
  }

  /** Size of a Raft log segment; the Raft log is purged a whole closed segment at a time. */
  public long raftSegmentBytes() {
    return raftSegmentBytes;
  }

  public int produceTimeoutMs() {
    return produceTimeoutMs;
  }

  /**
   * How long a partition remembers an idle idempotent producer. The leader stamps it into every entry, so a
   * cluster whose nodes disagree on it still decides alike on every replica.
   */
  public long producerExpiryMs() {
    return producerExpiryMs;
  }

  public int maxFetchWaitMs() {
    return maxFetchWaitMs;
  }

  public int electionTimeoutMinMs() {
    return electionTimeoutMinMs;
  }

  public int electionTimeoutMaxMs() {
    return electionTimeoutMaxMs;
  }

  /** How often a partition leader checks its topic's retention.ms / retention.bytes (default 5 minutes). */
  public long retentionCheckIntervalMs() {
    return retentionCheckIntervalMs;
  }

  /** Port of the HTTP endpoint serving {@code /metrics} and {@code /health} on {@link #bindHost()}; 0 = off (the default). */
  public int metricsPort() {
    return metricsPort;
  }

  /**
   * Off by default. When on, the Raft log is flushed asynchronously, so an acknowledged record can be lost
   * when a majority loses power: a weaker guarantee, named as such.
   */
  /**
   * Whether this node stands for election at once in the groups whose leader's process died (its Raft port refuses
   * connections), instead of after the election timeout. See {@code PeerDeathWatch}.
   */
  public boolean electionOnPeerDeath() {
    return electionOnPeerDeath;
  }

  public boolean unsafeAsyncFlush() {
    return unsafeAsyncFlush;
  }

  /**
   * TEST ONLY, off by default: this node, as a partition leader, proposes batches without their producer
   * session, so retried batches are written again. It exists to prove that the chaos suite's checker reports
   * the duplicates an exactly-once producer would then see.
   */
  public boolean unsafeDisableDedup() {
    return unsafeDisableDedup;
  }

  /** TLS, authentication, authorization and quotas (all off by default). */
  public SecurityConfig security() {
    return security;
  }

  /** TEST ONLY, 0 (off) by default: lose every n-th successful Produce answer (see ProduceResponseLoss). */
  public long unsafeLoseEveryNthProduceResponse() {
    return unsafeLoseEveryNthProduceResponse;
  }
}
