package io.ratislog.server.partition;

import io.ratislog.server.entries.PartitionSnapshotMeta;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A partition's state-machine directory: {@code segments/} (the partition's records) and snapshot meta files
 * {@code snapshot.<term>_<index>} (a {@link PartitionSnapshotMeta}).
 *
 * <p>A snapshot is the meta file plus the segment files it names. Ratis ships those files (each up to its size
 * when the snapshot info was made) to a follower that fell behind the purged Raft log and installs them as that
 * follower's whole state-machine directory, which is why segments live below it. Invariant: every segment a
 * meta file names is forced to disk up to the meta's next offset before the meta file is written, and the meta
 * file is written atomically (tmp, force, rename). The active segment may hold more (later appends) or, after a
 * crash, a torn tail; opening the log cuts it back to the meta's next offset. Segments that retention deleted
 * after the snapshot are missing from the front of its list; they are skipped.
 */
final class PartitionSnapshotStore implements StateMachineStorage {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionSnapshotStore.class);
  static final String SEGMENTS_DIR = "segments";
  private static final Pattern SNAPSHOT_NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");

  private volatile Path smDir;
  private volatile SnapshotInfo latest;
  private volatile PartitionSnapshotMeta latestMeta;
  private volatile Path latestFile;

  @Override
  public void init(RaftStorage raftStorage) throws IOException {
    this.smDir = raftStorage.getStorageDir().getStateMachineDir().toPath().toAbsolutePath();
    Files.createDirectories(smDir);
    load();
  }

  /** Re-reads the directory (after start, and after Ratis installed a snapshot into it). */
  void load() throws IOException {
    Files.createDirectories(segmentsDir());
    Path newest = null;
    TermIndex newestTi = null;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(smDir)) {
      for (Path f : files) {
        Matcher m = SNAPSHOT_NAME.matcher(f.getFileName().toString());
        if (m.matches()) {
          TermIndex ti = TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
          if (newestTi == null || ti.compareTo(newestTi) > 0) {
            newest = f;
            newestTi = ti;
          }
        }
      }
    }
    if (newest == null) {
      latest = null;
      latestMeta = null;
      latestFile = null;
      return;
    }
    PartitionSnapshotMeta meta = PartitionSnapshotMeta.parseFrom(Files.readAllBytes(newest));
    latestMeta = meta;
    latestFile = newest;
    latest = toSnapshotInfo(newest, meta, newestTi);
  }

  Path segmentsDir() {
    return smDir.resolve(SEGMENTS_DIR);
  }

  /** The newest snapshot's meta, or null when there is none. */
  PartitionSnapshotMeta latestMeta() {
    return latestMeta;
  }

  /**
   * Records a snapshot at {@code ti}. The caller has forced every segment in {@code segmentFiles};
   * {@code tables} adds the state machine's tables (producers, committed offsets, transactions).
   */
  void save(TermIndex ti, long nextOffset, long logStartOffset, List<Path> segmentFiles,
            java.util.function.Consumer<PartitionSnapshotMeta.Builder> tables) throws IOException {
    PartitionSnapshotMeta.Builder b = PartitionSnapshotMeta.newBuilder()
        .setNextOffset(nextOffset)
        .setLogStartOffset(logStartOffset);
    tables.accept(b);
    for (Path seg : segmentFiles) {
      b.addSegmentFiles(smDir.relativize(seg.toAbsolutePath()).toString());
    }
    PartitionSnapshotMeta meta = b.build();
    Path target = smDir.resolve("snapshot." + ti.getTerm() + "_" + ti.getIndex());
    Path tmp = smDir.resolve(target.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      meta.writeTo(out);
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    forceDirectory(smDir);
    latestMeta = meta;
    latestFile = target;
    latest = toSnapshotInfo(target, meta, ti);
  }

  /**
   * After retention deleted segments: the newest snapshot no longer offers the deleted files (a follower that
   * installs it gets the kept ones, and the meta's offsets still hold: retention only removes a prefix).
   */
  synchronized void dropDeletedSegments() throws IOException {
    PartitionSnapshotMeta meta = latestMeta;
    Path file = latestFile;
    SnapshotInfo info = latest;
    if (meta != null && file != null && info != null) {
      latest = toSnapshotInfo(file, meta, info.getTermIndex());
    }
  }

  private SnapshotInfo toSnapshotInfo(Path metaFile, PartitionSnapshotMeta meta, TermIndex ti) throws IOException {
    List<FileInfo> files = new ArrayList<>();
    files.add(new FileInfo(metaFile, null));
    for (String rel : meta.getSegmentFilesList()) {
      Path seg = smDir.resolve(rel);
      if (!Files.exists(seg)) {
        if (files.size() == 1) {
          // Missing from the front: deleted by retention after this snapshot (oldest segments go first).
          continue;
        }
        throw new IOException("snapshot " + metaFile + " names missing segment " + seg);
      }
      files.add(new FileInfo(seg, null));
    }
    return new FileListSnapshotInfo(files, ti);
  }

  static void forceDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("cannot force directory {}: {}", dir, e.toString());
    }
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return latest;
  }

  @Override
  public void format() {
  }

  @Override
  public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
    int keep = Math.max(1, policy == null ? 2 : policy.getNumSnapshotsRetained());
    List<Path> metas = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(smDir)) {
      for (Path f : files) {
        if (SNAPSHOT_NAME.matcher(f.getFileName().toString()).matches()) {
          metas.add(f);
        }
      }
    }
    metas.sort(Comparator.comparing(PartitionSnapshotStore::indexOf).reversed());
    for (Path old : metas.subList(Math.min(keep, metas.size()), metas.size())) {
      Files.deleteIfExists(old);
    }
  }

  private static long indexOf(Path metaFile) {
    Matcher m = SNAPSHOT_NAME.matcher(metaFile.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(2)) : -1;
  }
}
