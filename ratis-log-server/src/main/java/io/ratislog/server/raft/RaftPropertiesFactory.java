package io.ratislog.server.raft;

import io.ratislog.server.config.NodeConfig;
import java.io.File;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ratis settings for a ratislog node, derived from its {@link NodeConfig}. */
public final class RaftPropertiesFactory {
  private static final Logger LOG = LoggerFactory.getLogger(RaftPropertiesFactory.class);

  private RaftPropertiesFactory() {
  }

  /** How far ahead of its data the Raft log preallocates (with zeros) each segment file. */
  static final long RAFT_LOG_PREALLOCATION_BYTES = 64 * 1024;

  public static RaftProperties create(NodeConfig config) {
    RaftProperties p = new RaftProperties();
    // Ratis' gRPC, with a log appender that recovers when its record of a follower's progress is wrong.
    RaftConfigKeys.Rpc.setType(p, new GuardedGrpcRpcType());
    RaftServerConfigKeys.setStorageDir(p, List.of(new File(config.dataDir().toFile(), "raft")));
    GrpcConfigKeys.Server.setHost(p, config.bindHost());
    GrpcConfigKeys.Server.setPort(p, config.self().raftPort());

    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(config.electionTimeoutMinMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(config.electionTimeoutMaxMs(), TimeUnit.MILLISECONDS));

    // A batch is one entry: every buffer on its way must hold the largest one, with room for framing (the entry's
    // own fields and Ratis' envelope take well under a KiB). The log write buffer is a direct buffer of every group
    // on the node, so this bounds direct memory: about groups x (max.batch.bytes + 128 KiB) per node.
    SizeInBytes entryRoom = SizeInBytes.valueOf(entryRoomBytes(config));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, entryRoom);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(writeBufferBytes(config)));
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(entryRoom.getSize() * 2 + 1024 * 1024));
    RaftServerConfigKeys.Write.setByteLimit(p, SizeInBytes.valueOf(256L * 1024 * 1024));
    // HTTP/2 flow control between peers: with the default 1 MiB window, a follower stream is not ready again after
    // each large batch until the window update comes back, and Ratis' appender polls for readiness in 1 ms sleeps.
    GrpcConfigKeys.setFlowControlWindow(p, SizeInBytes.valueOf(Math.max(8L * 1024 * 1024, 4 * entryRoom.getSize())));

    // No log-metadata entries: by default Ratis appends (and every replica forces) an extra entry recording the new
    // commit index after each commit, which the next write queues behind. A restarted replica then learns its commit
    // index from a leader instead of from its own log; nothing here relies on it (PartitionReconciler uses a read
    // barrier). And the appender sends as soon as an entry is appended, instead of up to 1 ms after its last send.
    // Measured with `scripts/bench.sh` in alternating rounds (docs/BENCHMARKS-notes.md, 2026-12-03, eighth session).
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);

    // Preallocate the Raft log 64 KiB ahead of the data (Ratis' default: 4 MiB). Ratis preallocates by writing zeros,
    // and every fsync then also writes the zeros past the entry to disk, which the next entries overwrite and write
    // again: with 4 MiB chunks the disk received 8.8 times the records' bytes across three replicas (1 KiB records)
    // and 10.4 times (100 B), with 64 KiB 6.4 and 7.0 times. 100 B records were faster in four of four alternating
    // pairs on fresh clusters (medians +17.5 %), 1 KiB records level (docs/BENCHMARKS-notes.md, 2026-12-04,
    // fifteenth session). An entry larger than this still gets the room it needs.
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(RAFT_LOG_PREALLOCATION_BYTES));

    // The acknowledgement is a promise: the Raft log is forced before an entry counts towards the quorum.
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, config.unsafeAsyncFlush());
    RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, config.unsafeAsyncFlush());
    // A crash in the middle of an append leaves the open Raft log segment with a torn or garbled last entry
    // (its write never completed, so it was never acknowledged by this replica). Ratis' default policy
    // (EXCEPTION) then refuses to load the group and the node cannot start; WARN_AND_RETURN keeps the entries
    // before the damage, truncates the rest, and the leader sends it again. (Found by the chaos suite's
    // corrupt-raft-log nemesis.)
    RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.WARN_AND_RETURN);

    // Read-only requests (metadata queries, the committed-offset read barrier) are linearizable: the leader
    // confirms it still leads (ReadIndex) and its state machine has applied up to that point before answering.
    // Ratis' default answers from whatever node thinks it leads, so a leader cut off from its quorum (it steps
    // down only after an election timeout) or one just elected (it has not yet learned the last commit) could
    // answer with older state than a client had already seen. The lease answers on the leader without a
    // heartbeat round while a majority acknowledged it within 0.9 election timeouts.
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);

    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotThresholdEntries());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    // After a snapshot, purge the Raft log only up to the lowest commit index among the group's replicas: a replica
    // that restarts (or was cut off) then catches up from the log instead of being sent every segment of the
    // partition as a snapshot. PartitionStateMachine purges up to the snapshot anyway once that log outgrows
    // raft.log.retain.bytes (RaftLogRetention); the metadata group's log is small.
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, false);
    SizeInBytes segmentBytes = SizeInBytes.valueOf(Math.max(config.raftSegmentBytes(), entryRoom.getSize()));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, segmentBytes);
    // Ratis keeps every entry of a group's open Raft log segment in heap, and those of closed segments until its
    // cache is full (by default 6 segments or 200 MB per group). Our entries carry the records, so every partition
    // written to held up to that much heap, and twenty busy partitions exhausted a 512 MiB heap. Past the open
    // segment, a group now caches at most one segment's worth: closed segments leave the cache as soon as every
    // follower has them and they are applied. A lagging follower is sent entries read back from the segment file.
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, segmentBytes);
    // Purge after every snapshot: a partition's snapshots also come by size (snapshot.threshold.bytes), a few
    // large batches apart, and Ratis' default gap of 1024 entries would keep gigabytes of them on disk.
    RaftServerConfigKeys.Log.setPurgeGap(p, 1);
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    // Ratis reads each snapshot chunk into one heap array (16 MiB by default) and retries a failed installation
    // every few hundred milliseconds: a leader sending a restarted replica its segments ran out of heap (1 GiB)
    // in the failover benchmark. 1 MiB chunks bound that at a negligible cost in throughput.
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf(1024 * 1024));
    // Ratis keeps every snapshot request it sent, chunk included, until that request's timeout check fires:
    // request timeout x element limit after sending it (3 s x 8 by default), even once answered. A leader sending
    // snapshots to a restarted replica at loopback speed ran out of heap (1 GiB) that way: 735 MiB of chunks held
    // by Ratis' TimeoutTimer. Two requests in flight, each answered within 2 s, keep 4 s of sending.
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, 2);
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(p, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    applyOverrides(p, System.getProperties());
    return p;
  }

  /** The largest Raft entry: a batch of {@code max.batch.bytes} with room for its framing. */
  private static long entryRoomBytes(NodeConfig config) {
    return (long) config.maxBatchBytes() + 64 * 1024;
  }

  /**
   * The Raft log's write buffer, a direct buffer that every Raft group on the node allocates: the largest entry
   * with room to spare (Ratis requires at least the appender's byte limit, {@link #entryRoomBytes}, + 8).
   */
  public static long writeBufferBytes(NodeConfig config) {
    return entryRoomBytes(config) + 64 * 1024;
  }

  /**
   * Applies every {@code raft.*} key of {@code source} (the JVM's system properties: {@code -Draft.server...=...}
   * in {@code RATISLOG_JVM_OPTS}) over the settings above, logging each. An expert's escape hatch for measuring or
   * working around a Ratis setting without a release; the keys are Ratis' own and are not validated here.
   *
   * @return the keys applied, sorted
   */
  static List<String> applyOverrides(RaftProperties p, Properties source) {
    List<String> keys = source.stringPropertyNames().stream().filter(k -> k.startsWith("raft.")).sorted().toList();
    for (String k : keys) {
      String value = source.getProperty(k);
      LOG.info("Ratis setting overridden by a system property: {}={} (was {})", k, value, p.get(k));
      p.set(k, value);
    }
    return keys;
  }
}
