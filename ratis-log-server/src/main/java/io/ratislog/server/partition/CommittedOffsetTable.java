package io.ratislog.server.partition;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.CommitOffsetEntry;
import io.ratislog.server.entries.CommittedOffsetRecord;
import io.ratislog.server.entries.OffsetCommitResult;
import io.ratislog.server.entries.ResetOffsetEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The consumer groups' committed offsets on one partition, and per group the highest generation this
 * partition has applied.
 *
 * <p>Rules, decided from the table, the entry and the log end only (so every replica decides alike):
 * <ul>
 *   <li>the highest generation first becomes max(highest, entry.generation, entry.known_generation) — the
 *       proposer stamped {@code known_generation} from its metadata replica — and a commit whose generation is
 *       below it is FENCED_GENERATION (a zombie member can never move an offset);</li>
 *   <li>an offset below 0 is INVALID_REQUEST, above the log end OFFSET_OUT_OF_RANGE;</li>
 *   <li>an offset below the committed one is INVALID_COMMIT: a committed offset never goes back, except
 *       through a {@link ResetOffsetEntry} (administrative), which sets it to any offset in [0, log end];</li>
 *   <li>committing the current offset again succeeds (a retried commit).</li>
 * </ul>
 *
 * <p>Writes happen on the apply thread only; reads (FetchCommittedOffset) come from request threads, hence the
 * concurrent map of immutable records. Part of every partition snapshot.
 */
public final class CommittedOffsetTable {
  /** A group's state on this partition. {@code offset} is -1 while nothing was committed. */
  public record Committed(long offset, long generation, long highestGeneration, String memberId, long commitTimeMs) {
  }

  private final Map<String, Committed> groups = new ConcurrentSkipListMap<>();

  /** Applies a commit; {@code logEndOffset} is this partition's end at the entry. */
  public OffsetCommitResult commit(CommitOffsetEntry e, long logEndOffset) {
    if (e.getGroup().isEmpty()) {
      return result(ErrorCode.INVALID_REQUEST, "group is empty", -1);
    }
    Committed cur = groups.get(e.getGroup());
    long curOffset = cur == null ? -1 : cur.offset();
    long highest = Math.max(cur == null ? -1 : cur.highestGeneration(),
        Math.max(e.getGeneration(), e.getKnownGeneration()));
    if (cur == null || highest != cur.highestGeneration()) {
      // The generation is learned even from a refused commit: fencing only ever tightens.
      groups.put(e.getGroup(), cur == null ? new Committed(-1, -1, highest, "", 0)
          : new Committed(cur.offset(), cur.generation(), highest, cur.memberId(), cur.commitTimeMs()));
    }
    if (e.getGeneration() < highest) {
      return result(ErrorCode.FENCED_GENERATION, "group '" + e.getGroup() + "' is at generation " + highest
          + "; a commit from generation " + e.getGeneration() + " (member " + e.getMemberId() + ") is fenced", curOffset);
    }
    if (e.getOffset() < 0) {
      return result(ErrorCode.INVALID_REQUEST, "offset must be >= 0, got " + e.getOffset(), curOffset);
    }
    if (e.getOffset() > logEndOffset) {
      return result(ErrorCode.OFFSET_OUT_OF_RANGE, "offset " + e.getOffset() + " is beyond the log end "
          + logEndOffset, curOffset);
    }
    if (e.getOffset() < curOffset) {
      return result(ErrorCode.INVALID_COMMIT, "group '" + e.getGroup() + "' already committed offset " + curOffset
          + "; a committed offset never goes back (got " + e.getOffset() + "; use ResetOffsets to rewind)", curOffset);
    }
    groups.put(e.getGroup(), new Committed(e.getOffset(), e.getGeneration(), highest, e.getMemberId(),
        e.getCommitTimeMs()));
    return result(ErrorCode.NONE, "", e.getOffset());
  }

  /** Applies an administrative reset: any offset in [0, log end], backwards too; the generation is kept. */
  public OffsetCommitResult reset(ResetOffsetEntry e, long logEndOffset) {
    if (e.getGroup().isEmpty()) {
      return result(ErrorCode.INVALID_REQUEST, "group is empty", -1);
    }
    Committed cur = groups.get(e.getGroup());
    long curOffset = cur == null ? -1 : cur.offset();
    if (e.getOffset() < 0 || e.getOffset() > logEndOffset) {
      return result(ErrorCode.OFFSET_OUT_OF_RANGE, "reset offset " + e.getOffset() + " is outside [0, "
          + logEndOffset + "]", curOffset);
    }
    long highest = cur == null ? -1 : cur.highestGeneration();
    groups.put(e.getGroup(), new Committed(e.getOffset(), -1, highest, "", e.getResetTimeMs()));
    return result(ErrorCode.NONE, "", e.getOffset());
  }

  /** The group's state on this partition, if it ever committed or was fenced here. */
  public Optional<Committed> get(String group) {
    return Optional.ofNullable(groups.get(group));
  }

  /** Every group's state on this partition, by group name (a copy). */
  public java.util.SortedMap<String, Committed> all() {
    return new java.util.TreeMap<>(groups);
  }

  public List<CommittedOffsetRecord> toRecords() {
    List<CommittedOffsetRecord> out = new ArrayList<>();
    groups.forEach((g, c) -> out.add(CommittedOffsetRecord.newBuilder().setGroup(g).setOffset(c.offset())
        .setGeneration(c.generation()).setHighestGeneration(c.highestGeneration()).setMemberId(c.memberId())
        .setCommitTimeMs(c.commitTimeMs()).build()));
    return out;
  }

  public static CommittedOffsetTable fromRecords(List<CommittedOffsetRecord> records) {
    CommittedOffsetTable t = new CommittedOffsetTable();
    for (CommittedOffsetRecord r : records) {
      t.groups.put(r.getGroup(), new Committed(r.getOffset(), r.getGeneration(), r.getHighestGeneration(),
          r.getMemberId(), r.getCommitTimeMs()));
    }
    return t;
  }

  private static OffsetCommitResult result(ErrorCode code, String message, long committed) {
    return OffsetCommitResult.newBuilder().setErrorCode(code.getNumber()).setErrorMessage(message)
        .setCommittedOffset(committed).build();
  }
}
