package io.ratislog.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records of one partition: a directory of segments, each a data file {@code <20-digit base offset>.log} of
 * back-to-back frames plus a sparse index {@code <20-digit base offset>.index}.
 *
 * <h2>Frame format</h2>
 * Big-endian; one frame per appended batch:
 * <pre>
 * int32 frameLength   bytes after this field = 28 + records.length
 * int32 frameCrc32c   CRC-32C of every byte after itself (all header fields below and the records)
 * int64 baseOffset
 * int32 recordCount
 * int64 appendTimeMs
 * int32 batchCrc32c   the producer's CRC over records, carried through unchecked
 * bytes records       the producer's opaque record set
 * </pre>
 * Index entries are (int32 offset relative to the segment base, int32 file position), added once at least
 * {@link SegmentLogConfig#indexIntervalBytes()} bytes were written since the previous entry.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>Segments are contiguous: each one's next offset is the following one's base offset.</li>
 *   <li>Only the last segment (the active one) is ever appended to. A segment is forced to disk before a newer one
 *       is created, so after a crash only the last segment can have a torn tail.</li>
 *   <li>Only the last segment can be empty.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * One writer thread calls the mutators ({@code append, flush, roll, truncateFrom, deleteSegmentsBefore,
 * resetTo, close}); any number of threads call {@link #read} and the accessors. Mutators are serialised anyway so
 * misuse cannot corrupt files. Readers take no lock on the common path: the segment list is a volatile immutable
 * list, and an append publishes its segment's size and then {@link #logEndOffset()} only after the frame is
 * written. Changes that remove or rewrite bytes (truncate, delete, reset, close) take the write side of a
 * {@link StampedLock}; a read that overlapped one is retried under the read lock, so it never returns or fails on
 * bytes being changed under it. A read racing {@link #close()} fails with an {@link IOException}.
 */
public final class SegmentLog implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentLog.class);

    private final Path dir;
    private final SegmentLogConfig config;
    private final Object writeMutex = new Object();
    private final StampedLock structureLock = new StampedLock();
    /** Immutable, sorted by base offset. */
    private volatile List<Segment> segments;
    /**
     * Retention's log start: no read below it even where a segment straddling it is kept (a replica whose segment
     * boundaries differ from the leader's keeps that whole segment). Never above {@link #endOffset}.
     */
    private volatile long startFloor;
    /** Written after the last segment's size on append; readers read it before {@link #segments}. */
    private volatile long endOffset;
    private volatile boolean closed;
    /** Files were created or deleted since the directory was last forced; writer thread only. */
    private boolean dirDirty;

    private SegmentLog(Path dir, SegmentLogConfig config, List<Segment> segments, long endOffset) {
        this.dir = dir;
        this.config = config;
        this.segments = List.copyOf(segments);
        this.endOffset = endOffset;
    }

    /**
     * Opens or creates the log in {@code dir}.
     *
     * <p>Recovery: every sealed segment's index is checked and rebuilt if missing or invalid; the last segment is
     * scanned frame by frame, a torn or corrupt tail (short frame, bad length, CRC mismatch, unexpected offset) is
     * truncated away with a WARN saying how many bytes, and its index is rebuilt. An empty directory gives an empty
     * log with start = end = 0. Files that are not segment files are ignored; index files without a data file are
     * deleted.
     *
     * @throws CorruptSegmentException if a sealed segment is damaged or the segments are not contiguous; that
     *                                 cannot be repaired by truncation and needs an operator or a snapshot
     */
    public static SegmentLog open(Path dir, SegmentLogConfig config) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(config, "config");
        Files.createDirectories(dir);
        TreeSet<Long> bases = new TreeSet<>();
        TreeSet<Long> indexBases = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                long logBase = Segment.parseBaseOffset(name, Segment.LOG_SUFFIX);
                long indexBase = Segment.parseBaseOffset(name, Segment.INDEX_SUFFIX);
                if (logBase >= 0 && Files.isRegularFile(file)) {
                    bases.add(logBase);
                } else if (indexBase >= 0) {
                    indexBases.add(indexBase);
                }
            }
        }
        indexBases.removeAll(bases);
        for (long orphan : indexBases) {
            LOG.info("Deleting index file without a data file: {}", Segment.indexPath(dir, orphan));
            Files.deleteIfExists(Segment.indexPath(dir, orphan));
        }

        int interval = config.indexIntervalBytes();
        List<Segment> opened = new ArrayList<>();
        try {
            for (long base : bases) {
                opened.add(base == bases.last()
                        ? Segment.recoverLast(dir, base, interval)
                        : Segment.openSealed(dir, base, interval));
            }
            for (int i = 1; i < opened.size(); i++) {
                Segment prev = opened.get(i - 1);
                if (prev.nextOffset() != opened.get(i).baseOffset()) {
                    throw new CorruptSegmentException(prev.logFile(), prev.size(), "segment ends at offset "
                            + prev.nextOffset() + " but the next segment starts at " + opened.get(i).baseOffset());
                }
            }
        } catch (IOException | RuntimeException e) {
            for (Segment s : opened) {
                try {
                    s.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        long end = opened.isEmpty() ? 0 : opened.get(opened.size() - 1).nextOffset();
        LOG.debug("Opened log {}: {} segments, offsets [{}, {})", dir, opened.size(),
                opened.isEmpty() ? 0 : opened.get(0).baseOffset(), end);
        return new SegmentLog(dir, config, opened, end);
    }

    public Path dir() {
        return dir;
    }

    /**
     * The first readable offset: the base offset of the first segment, or the offset retention advanced the log to
     * ({@link #advanceStartTo}) when that is higher; 0 for a log that never had a segment.
     */
    public long logStartOffset() {
        List<Segment> segs = segments;
        return Math.max(startFloor, segs.isEmpty() ? 0 : segs.get(0).baseOffset());
    }

    /** One segment as retention sees it. */
    public record SegmentSummary(long baseOffset, long nextOffset, long sizeBytes) {
    }

    /** Every segment, oldest first; the last one is the active segment (possibly empty). */
    public List<SegmentSummary> segmentSummaries() {
        List<Segment> segs = segments;
        List<SegmentSummary> out = new ArrayList<>(segs.size());
        for (Segment s : segs) {
            out.add(new SegmentSummary(s.baseOffset(), s.nextOffset(), s.size()));
        }
        return out;
    }

    /**
     * Retention: makes {@code offset} the log start. Deletes every whole segment below it
     * ({@link #deleteSegmentsBefore}) and refuses reads below it from now on, even in a kept segment that straddles
     * it. A lower offset than the current start changes nothing.
     *
     * @throws IllegalArgumentException if {@code offset > logEndOffset()}
     */
    public void advanceStartTo(long offset) throws IOException {
        synchronized (writeMutex) {
            ensureOpen();
            if (offset > endOffset) {
                throw new IllegalArgumentException("Cannot start the log at " + offset + ": it ends at " + endOffset);
            }
            if (offset <= logStartOffset()) {
                return;
            }
            startFloor = offset;
            deleteSegmentsBefore(offset);
        }
    }

    /** The offset the next appended batch must start at. */
    public long logEndOffset() {
        return endOffset;
    }

    /**
     * Appends one batch. Rolls to a new segment first when the active one holds at least
     * {@link SegmentLogConfig#segmentBytes()} bytes (forcing the old one to disk). The batch is written with one
     * write call and not forced (see {@link #flush()}); it is visible to readers once this returns.
     *
     * @throws IllegalArgumentException if {@code baseOffset != logEndOffset()}, {@code recordCount < 1} or the
     *                                  batch cannot be framed
     * @throws IOException              on a write failure; the partial frame is removed and the log is unchanged
     */
    public void append(long baseOffset, int recordCount, long appendTimeMs, int batchCrc32c, byte[] records)
            throws IOException {
        append(baseOffset, recordCount, appendTimeMs, batchCrc32c, ByteBuffer.wrap(Objects.requireNonNull(records, "records")));
    }

    /**
     * Appends one batch whose record bytes are {@code records}' remaining bytes (read, not consumed: the buffer's
     * position does not move, and it is not kept after this returns). Otherwise as {@link #append(long, int, long,
     * int, byte[])}.
     */
    public void append(long baseOffset, int recordCount, long appendTimeMs, int batchCrc32c, ByteBuffer records)
            throws IOException {
        Objects.requireNonNull(records, "records");
        if (recordCount < 1) {
            throw new IllegalArgumentException("recordCount must be >= 1: " + recordCount);
        }
        if (records.remaining() > FrameCodec.MAX_RECORDS_SIZE) {
            throw new IllegalArgumentException("records too large: " + records.remaining() + " bytes");
        }
        if (baseOffset > Long.MAX_VALUE - recordCount) {
            throw new IllegalArgumentException("offset overflow: " + baseOffset + " + " + recordCount);
        }
        synchronized (writeMutex) {
            ensureOpen();
            if (baseOffset != endOffset) {
                throw new IllegalArgumentException(
                        "Non-contiguous append: baseOffset " + baseOffset + ", logEndOffset " + endOffset);
            }
            Segment active = activeSegmentFor(baseOffset, FrameCodec.frameSize(records.remaining()));
            active.append(baseOffset, recordCount, appendTimeMs, batchCrc32c, records);
            endOffset = baseOffset + recordCount;
        }
    }

    private Segment activeSegmentFor(long baseOffset, int frameSize) throws IOException {
        List<Segment> segs = segments;
        if (segs.isEmpty()) {
            return addSegment(baseOffset);
        }
        Segment active = segs.get(segs.size() - 1);
        if (active.size() == 0) {
            return active;
        }
        boolean full = active.size() >= config.segmentBytes();
        boolean positionOverflow = (long) active.size() + frameSize > Integer.MAX_VALUE;
        boolean relativeOffsetOverflow = baseOffset - active.baseOffset() > Integer.MAX_VALUE;
        if (!full && !positionOverflow && !relativeOffsetOverflow) {
            return active;
        }
        active.seal();
        return addSegment(baseOffset);
    }

    private Segment addSegment(long baseOffset) throws IOException {
        Segment segment = Segment.create(dir, baseOffset, config.indexIntervalBytes());
        List<Segment> next = new ArrayList<>(segments);
        next.add(segment);
        segments = List.copyOf(next);
        dirDirty = true;
        return segment;
    }

    /**
     * Batches holding offsets {@code >= fromOffset}, in order, the first being the batch that contains
     * {@code fromOffset}. Returns at least one batch when {@code fromOffset < logEndOffset()}, then more while the
     * total size of their {@code records} stays {@code <= maxBytes}; an empty list when
     * {@code fromOffset == logEndOffset()}. Finds the start position with the sparse index, then scans forward.
     * Every returned frame has passed its CRC check.
     *
     * @throws OffsetOutOfRangeException (unchecked) if {@code fromOffset < logStartOffset()} or
     *                                   {@code fromOffset > logEndOffset()}
     * @throws CorruptSegmentException   if a frame fails its CRC or is malformed; names the file and position
     * @throws IOException               if the log is closed or the read fails
     */
    public List<StoredBatch> read(long fromOffset, int maxBytes) throws IOException {
        long stamp = structureLock.tryOptimisticRead();
        if (stamp != 0L) {
            try {
                List<StoredBatch> result = doRead(fromOffset, maxBytes);
                if (structureLock.validate(stamp)) {
                    return result;
                }
            } catch (IOException | RuntimeException e) {
                if (structureLock.validate(stamp)) {
                    throw e;
                }
            }
        }
        stamp = structureLock.readLock();
        try {
            return doRead(fromOffset, maxBytes);
        } finally {
            structureLock.unlockRead(stamp);
        }
    }

    private List<StoredBatch> doRead(long fromOffset, int maxBytes) throws IOException {
        if (closed) {
            throw new IOException("Log is closed: " + dir);
        }
        long end = endOffset;
        List<Segment> segs = segments;
        long start = Math.max(startFloor, segs.isEmpty() ? 0 : segs.get(0).baseOffset());
        if (fromOffset < start || fromOffset > end) {
            throw new OffsetOutOfRangeException(fromOffset, start, end);
        }
        if (fromOffset == end) {
            return List.of();
        }
        Segment.ReadAccumulator acc = new Segment.ReadAccumulator();
        int first = floorSegment(segs, fromOffset);
        for (int i = first; i < segs.size(); i++) {
            long from = acc.batches.isEmpty() ? fromOffset : acc.nextOffset;
            if (!segs.get(i).readInto(from, maxBytes, acc)) {
                break;
            }
        }
        if (acc.batches.isEmpty()) {
            Segment s = segs.get(first);
            throw new CorruptSegmentException(s.logFile(), s.size(),
                    "offset " + fromOffset + " is below the log end " + end + " but no batch holds it");
        }
        return acc.batches;
    }

    /** Forces the active segment (data and index) and any created or deleted file names to disk. */
    public void flush() throws IOException {
        synchronized (writeMutex) {
            ensureOpen();
            List<Segment> segs = segments;
            if (!segs.isEmpty()) {
                segs.get(segs.size() - 1).flush();
            }
            syncDirIfDirty();
        }
    }

    /**
     * Seals the active segment: forces it to disk and starts a new, empty active segment at
     * {@link #logEndOffset()} (on disk, so the seal survives a restart). If the active segment is already empty,
     * nothing new is created. Returns the data files of every segment except that empty active one, sorted by base
     * offset; they are never appended to again. (Only {@link #truncateFrom} below their end, or deleting them,
     * changes them.) The returned list does not carry {@link #logEndOffset()} when it is empty; see
     * {@link #resetTo}.
     */
    public List<Path> roll() throws IOException {
        synchronized (writeMutex) {
            ensureOpen();
            List<Segment> segs = segments;
            if (segs.isEmpty()) {
                return List.of();
            }
            Segment active = segs.get(segs.size() - 1);
            if (active.size() > 0) {
                active.seal();
                addSegment(endOffset);
            } else {
                active.flush();
            }
            syncDirIfDirty();
            List<Segment> now = segments;
            List<Path> files = new ArrayList<>(now.size() - 1);
            for (int i = 0; i < now.size() - 1; i++) {
                files.add(now.get(i).logFile());
            }
            return files;
        }
    }

    /**
     * Removes every batch with base offset {@code >= offset}: deletes the segments after the one containing it
     * (newest first, so a crash leaves a contiguous log) and truncates that one, which becomes the active segment.
     * Afterwards {@code logEndOffset() == offset}; durable when this returns.
     *
     * @throws IllegalArgumentException if {@code offset} is outside {@code [logStartOffset(), logEndOffset()]} or
     *                                  not the base offset of a batch; nothing is changed then
     */
    public void truncateFrom(long offset) throws IOException {
        synchronized (writeMutex) {
            ensureOpen();
            long end = endOffset;
            if (offset == end) {
                return;
            }
            List<Segment> segs = segments;
            long start = logStartOffset();
            if (offset < start || offset > end) {
                throw new IllegalArgumentException(
                        "Cannot truncate from " + offset + ": log range is [" + start + ", " + end + "]");
            }
            int keep = floorSegment(segs, offset);
            Segment target = segs.get(keep);
            int position = target.positionOf(offset);
            long stamp = structureLock.writeLock();
            try {
                segments = List.copyOf(segs.subList(0, keep + 1));
                for (int i = segs.size() - 1; i > keep; i--) {
                    segs.get(i).delete();
                    dirDirty = true;
                }
                syncDirIfDirty();
                target.truncateTo(offset, position);
                endOffset = offset;
            } finally {
                structureLock.unlockWrite(stamp);
            }
            LOG.info("Truncated log {} from offset {} (was {})", dir, offset, end);
        }
    }

    /**
     * Deletes whole segments whose every offset is {@code < offset}, oldest first; {@link #logStartOffset()}
     * becomes the base offset of the first kept segment. The active segment is never deleted: if it too lies
     * wholly below {@code offset}, a new empty one is started at {@link #logEndOffset()} first, leaving
     * {@code logStartOffset() == logEndOffset()}.
     */
    public void deleteSegmentsBefore(long offset) throws IOException {
        synchronized (writeMutex) {
            ensureOpen();
            List<Segment> segs = segments;
            if (segs.isEmpty()) {
                return;
            }
            Segment active = segs.get(segs.size() - 1);
            if (active.size() > 0 && active.nextOffset() <= offset) {
                active.seal();
                addSegment(endOffset);
                segs = segments;
            }
            int drop = 0;
            while (drop < segs.size() - 1 && segs.get(drop).nextOffset() <= offset) {
                drop++;
            }
            if (drop > 0) {
                long stamp = structureLock.writeLock();
                try {
                    segments = List.copyOf(segs.subList(drop, segs.size()));
                    for (int i = 0; i < drop; i++) {
                        segs.get(i).delete();
                        dirDirty = true;
                    }
                } finally {
                    structureLock.unlockWrite(stamp);
                }
                LOG.info("Deleted {} segments of log {} below offset {}; log now starts at {}", drop, dir, offset,
                        logStartOffset());
            }
            syncDirIfDirty();
        }
    }

    /**
     * Deletes every segment and restarts the log, empty, at {@code offset}: afterwards
     * {@code logStartOffset() == logEndOffset() == offset}. For a follower whose log is replaced by a snapshot, or to
     * recreate an empty log that started past 0. Durable when it returns, but not atomic across a crash: a crash
     * midway leaves a shortened old log or an empty log at 0.
     */
    public void resetTo(long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0: " + offset);
        }
        synchronized (writeMutex) {
            ensureOpen();
            long stamp = structureLock.writeLock();
            try {
                List<Segment> old = segments;
                segments = List.of();
                endOffset = offset;
                startFloor = offset;
                for (int i = old.size() - 1; i >= 0; i--) {
                    old.get(i).delete();
                }
                dirDirty = true;
                syncDirIfDirty();
                Segment fresh = Segment.create(dir, offset, config.indexIntervalBytes());
                segments = List.of(fresh);
                fresh.flush();
                dirDirty = true;
                syncDirIfDirty();
            } finally {
                structureLock.unlockWrite(stamp);
            }
            LOG.info("Reset log {} to start at offset {}", dir, offset);
        }
    }

    /** Data files of all segments, sorted by base offset; the last one is the active segment. */
    public List<Path> segmentFiles() {
        List<Segment> segs = segments;
        List<Path> files = new ArrayList<>(segs.size());
        for (Segment s : segs) {
            files.add(s.logFile());
        }
        return files;
    }

    /** Total size of the segment data files (index files not included). */
    public long sizeInBytes() {
        long total = 0;
        for (Segment s : segments) {
            total += s.size();
        }
        return total;
    }

    /** Flushes the active segment and closes every file. Idempotent; later calls other than this one fail. */
    @Override
    public void close() throws IOException {
        synchronized (writeMutex) {
            if (closed) {
                return;
            }
            long stamp = structureLock.writeLock();
            try {
                closed = true;
                IOException failure = null;
                List<Segment> segs = segments;
                try {
                    if (!segs.isEmpty()) {
                        segs.get(segs.size() - 1).flush();
                    }
                    syncDirIfDirty();
                } catch (IOException e) {
                    failure = e;
                }
                for (Segment s : segs) {
                    try {
                        s.close();
                    } catch (IOException e) {
                        if (failure == null) {
                            failure = e;
                        } else {
                            failure.addSuppressed(e);
                        }
                    }
                }
                if (failure != null) {
                    throw failure;
                }
            } finally {
                structureLock.unlockWrite(stamp);
            }
        }
    }

    @Override
    public String toString() {
        return "SegmentLog[" + dir + ", offsets " + logStartOffset() + ".." + logEndOffset() + ", "
                + segments.size() + " segments]";
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("Log is closed: " + dir);
        }
    }

    private void syncDirIfDirty() throws IOException {
        if (!dirDirty) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open or force a directory; file data is still forced.
            LOG.debug("Could not force directory {}", dir, e);
        }
        dirDirty = false;
    }

    /** Index of the last segment whose base offset is {@code <= offset}; {@code offset >= first base}. */
    private static int floorSegment(List<Segment> segs, long offset) {
        int lo = 0;
        int hi = segs.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segs.get(mid).baseOffset() <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
