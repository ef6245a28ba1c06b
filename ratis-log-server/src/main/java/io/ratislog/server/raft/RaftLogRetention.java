package io.ratislog.server.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much Raft log a replica keeps for replicas that are behind ({@code raft.log.retain.bytes}).
 *
 * <p>After a snapshot Ratis purges a group's Raft log only up to the lowest commit index among its replicas (see
 * {@link RaftPropertiesFactory}), so not past a replica that is down, restarting or cut off: such a replica then
 * catches up from the log instead of being sent the whole state (for a partition, every segment) as a snapshot.
 * Without a bound, a replica that stays away would keep the log growing on the others: once the log files exceed
 * {@code retainBytes}, {@link #afterSnapshot} purges up to the snapshot anyway, and a replica behind it is sent the
 * snapshot when it comes back.
 */
public final class RaftLogRetention {
  private static final Logger LOG = LoggerFactory.getLogger(RaftLogRetention.class);
  private final long retainBytes;

  /** @param retainBytes Raft log files (bytes) kept for lagging replicas; 0 purges up to every snapshot */
  public RaftLogRetention(long retainBytes) {
    this.retainBytes = retainBytes;
  }

  /**
   * Call at the end of {@code takeSnapshot}, once the snapshot is durable: purges {@code sm}'s Raft log up to the
   * snapshot when its files (in Ratis' {@code current} directory of the group) exceed the bound. Ratis' own purge,
   * right after, stops at the lowest replica commit index and then has nothing more to do.
   */
  public void afterSnapshot(BaseStateMachine sm, long snapshotIndex) {
    try {
      RaftServer.Division division = sm.getServer().join().getDivision(sm.getGroupId());
      if (!exceeded(division.getRaftStorage().getStorageDir().getCurrentDir().toPath())) {
        return;
      }
      RaftLog raftLog = division.getRaftLog();
      if (retainBytes > 0 && raftLog.getStartIndex() < snapshotIndex) {
        LOG.info("{}: Raft log over raft.log.retain.bytes ({} bytes): purging it up to the snapshot at {}; a replica"
            + " behind that will be sent the snapshot", sm.getGroupId(), retainBytes, snapshotIndex);
      }
      raftLog.purge(snapshotIndex);
    } catch (IOException | RuntimeException e) {
      LOG.warn("{}: purging the Raft log up to the snapshot at {} failed; Ratis purges what every replica committed",
          sm.getGroupId(), snapshotIndex, e);
    }
  }

  /** Whether the Raft log files in {@code raftLogDir} exceed the bound. */
  boolean exceeded(Path raftLogDir) {
    return retainBytes == 0 || logBytes(raftLogDir) > retainBytes;
  }

  /** Total size of Ratis' log segment files ({@code log_<first>-<last>}, {@code log_inprogress_<first>}). */
  static long logBytes(Path raftLogDir) {
    long total = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(raftLogDir, "log_*")) {
      for (Path f : files) {
        try {
          total += Files.size(f);
        } catch (NoSuchFileException purgedMeanwhile) {
          // Ratis' log worker purged or renamed it while we listed
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the Raft log in " + raftLogDir, e);
    }
    return total;
  }
}
