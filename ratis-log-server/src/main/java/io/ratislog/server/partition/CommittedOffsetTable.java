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
    OffsetCommitResult refused = check(e.getGroup(), e.getOffset(), e.getGeneration(), e.getKnownGeneration(),
        e.getMemberId(), logEndOffset);
    if (refused != null) {
      return refused;
    }
    long highest = groups.get(e.getGroup()).highestGeneration();
    groups.put(e.getGroup(), new Committed(e.getOffset(), e.getGeneration(), highest, e.getMemberId(),
        e.getCommitTimeMs()));
    return result(ErrorCode.NONE, "", e.getOffset());
  }

  /**
   * Checks a commit by the rules above without applying it (a transactional commit waits for its transaction):
   * learns the generation, and answers the refusal, or null when the commit may be applied.
   */
  public OffsetCommitResult check(String group, long offset, long generation, long knownGeneration, String memberId,
                                  long logEndOffset) {
    if (group.isEmpty()) {
      return result(ErrorCode.INVALID_REQUEST, "group is empty", -1);
    }
    Committed cur = groups.get(group);
    long curOffset = cur == null ? -1 : cur.offset();
    long highest = Math.max(cur == null ? -1 : cur.highestGeneration(), Math.max(generation, knownGeneration));
    if (cur == null || highest != cur.highestGeneration()) {
      // The generation is learned even from a refused commit: fencing only ever tightens.
      groups.put(group, cur == null ? new Committed(-1, -1, highest, "", 0)
          : new Committed(cur.offset(), cur.generation(), highest, cur.memberId(), cur.commitTimeMs()));
    }
    if (generation < highest) {
      return result(ErrorCode.FENCED_GENERATION, "group '" + group + "' is at generation " + highest
          + "; a commit from generation " + generation + " (member " + memberId + ") is fenced", curOffset);
    }
    if (offset < 0) {
      return result(ErrorCode.INVALID_REQUEST, "offset must be >= 0, got " + offset, curOffset);
    }
    if (offset > logEndOffset) {
      return result(ErrorCode.OFFSET_OUT_OF_RANGE, "offset " + offset + " is beyond the log end "
          + logEndOffset, curOffset);
    }
    if (offset < curOffset) {
      return result(ErrorCode.INVALID_COMMIT, "group '" + group + "' already committed offset " + curOffset
          + "; a committed offset never goes back (got " + offset + "; use ResetOffsets to rewind)", curOffset);
    }
    return null;
  }

  /**
   * Applies an offset commit whose transaction committed. It was checked when it was written; here it only
   * obeys "never back" (a later plain commit may have moved past it meanwhile), and keeps the generation learned.
   */
  public void commitFromTransaction(PartitionTransactions.PendingOffset p) {
    Committed cur = groups.get(p.group());
    if (cur != null && p.offset() < cur.offset()) {
      return;
    }
    long highest = Math.max(cur == null ? -1 : cur.highestGeneration(), p.generation());
    groups.put(p.group(), new Committed(p.offset(), p.generation(), highest, p.memberId(), p.commitTimeMs()));
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

  /** Raises the group's highest generation here (never lowers it): later commits of older generations are fenced. */
  public void fence(String group, long generation) {
    Committed cur = groups.get(group);
    if (cur == null) {
      groups.put(group, new Committed(-1, -1, generation, "", 0));
    } else if (generation > cur.highestGeneration()) {
      groups.put(group, new Committed(cur.offset(), cur.generation(), generation, cur.memberId(), cur.commitTimeMs()));
    }
  }

  /** The committed offset of {@code group} (-1 when none). */
  public long offsetOf(String group) {
    Committed c = groups.get(group);
    return c == null ? -1 : c.offset();
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
