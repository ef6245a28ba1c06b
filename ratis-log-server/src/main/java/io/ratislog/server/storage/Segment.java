package io.ratislog.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment: a data file of contiguous {@link FrameCodec frames} starting at {@link #baseOffset()} plus its
 * {@link OffsetIndex}.
 *
 * <p>Invariants: bytes {@code [0, size)} of the data file are whole valid frames holding offsets
 * {@code [baseOffset, nextOffset)}; {@code size} and {@code nextOffset} are published (volatile) only after the
 * bytes are written, so readers that stay below {@code size} never see a partial frame.
 *
 * <p>Readers use a read-only channel and positional reads. It is separate from the write channel so a reader thread
 * being interrupted (which closes the channel it was blocked on) cannot break appends; the read channel is then
 * reopened by the next reader. The write channel is open only while the segment is active.
 */
final class Segment implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Segment.class);
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    private static final Pattern NAME = Pattern.compile("\\d{20}\\.(log|index)");
    private static final int MAX_READ_ATTEMPTS = 3;

    private final long baseOffset;
    private final Path logFile;
    private final OffsetIndex index;
    private final int indexIntervalBytes;
    private final Object channelLock = new Object();
    private volatile FileChannel readChannel;
    private volatile boolean closed;
    private volatile int size;
    private volatile long nextOffset;
    /** Appender thread only. Null while sealed; positioned at {@code size} while open. */
    private FileChannel writeChannel;
    private int bytesSinceIndexEntry;

    private Segment(long baseOffset, Path logFile, OffsetIndex index, int indexIntervalBytes,
                    FileChannel readChannel, int size, long nextOffset) {
        this.baseOffset = baseOffset;
        this.logFile = logFile;
        this.index = index;
        this.indexIntervalBytes = indexIntervalBytes;
        this.readChannel = readChannel;
        this.size = size;
        this.nextOffset = nextOffset;
        this.bytesSinceIndexEntry = size - index.lastPosition();
    }

    static Path logPath(Path dir, long baseOffset) {
        return dir.resolve(String.format("%020d", baseOffset) + LOG_SUFFIX);
    }

    static Path indexPath(Path dir, long baseOffset) {
        return dir.resolve(String.format("%020d", baseOffset) + INDEX_SUFFIX);
    }

    /** The base offset encoded in a segment data or index file name with this suffix, or -1 if it is not one. */
    static long parseBaseOffset(String fileName, String suffix) {
        if (!fileName.endsWith(suffix) || !NAME.matcher(fileName).matches()) {
            return -1;
        }
        try {
            return Long.parseLong(fileName.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A new empty active segment; replaces files of the same name. */
    static Segment create(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
        Path log = logPath(dir, baseOffset);
        FileChannel write = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            FileChannel read = FileChannel.open(log, StandardOpenOption.READ);
            Segment segment = new Segment(baseOffset, log, OffsetIndex.createEmpty(indexPath(dir, baseOffset)),
                    indexIntervalBytes, read, 0, baseOffset);
            segment.writeChannel = write;
            return segment;
        } catch (IOException | RuntimeException e) {
            write.close();
            throw e;
        }
    }

    /**
     * Opens the last segment of a log: scans every frame, truncates a torn or corrupt tail (logged at WARN) and
     * rebuilds the index from the scan.
     */
    static Segment recoverLast(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
        Path log = logPath(dir, baseOffset);
        FileChannel read = FileChannel.open(log, StandardOpenOption.READ);
        try {
            long fileSize = read.size();
            OffsetIndex index = OffsetIndex.createEmpty(indexPath(dir, baseOffset));
            ScanResult scan = scan(read, log, 0, baseOffset, baseOffset, fileSize, index, indexIntervalBytes);
            Segment segment = new Segment(baseOffset, log, index, indexIntervalBytes, read, scan.end, scan.next);
            if (scan.problem != null) {
                LOG.warn("Truncating torn or corrupt tail of {}: removing {} bytes from position {} ({})",
                        log, fileSize - scan.end, scan.end, scan.problem);
                FileChannel write = segment.writer();
                write.truncate(scan.end);
                write.force(true);
            }
            index.flush();
            return segment;
        } catch (IOException | RuntimeException e) {
            read.close();
            throw e;
        }
    }

    /**
     * Opens a sealed (non-last) segment. Its index is kept if well-formed and the frames from its last entry to the
     * end of the file check out; otherwise it is rebuilt by a full scan. Any bad frame is an error here.
     */
    static Segment openSealed(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
        Path log = logPath(dir, baseOffset);
        Path indexFile = indexPath(dir, baseOffset);
        FileChannel read = FileChannel.open(log, StandardOpenOption.READ);
        try {
            long fileSize = read.size();
            if (fileSize > Integer.MAX_VALUE) {
                throw new CorruptSegmentException(log, Integer.MAX_VALUE, "segment larger than 2 GiB");
            }
            OffsetIndex index = OffsetIndex.loadIfValid(indexFile, (int) fileSize);
            if (index != null) {
                ScanResult tail = scan(read, log, index.lastPosition(), baseOffset,
                        baseOffset + index.lastRelOffset(), fileSize, null, indexIntervalBytes);
                if (tail.problem == null) {
                    return new Segment(baseOffset, log, index, indexIntervalBytes, read, tail.end, tail.next);
                }
                LOG.warn("Index {} does not match {} ({} at position {}); rebuilding it",
                        indexFile, log, tail.problem, tail.end);
            } else {
                LOG.warn("Index {} is missing or invalid; rebuilding it", indexFile);
            }
            index = OffsetIndex.createEmpty(indexFile);
            ScanResult scan = scan(read, log, 0, baseOffset, baseOffset, fileSize, index, indexIntervalBytes);
            if (scan.problem != null) {
                index.close();
                throw new CorruptSegmentException(log, scan.end, scan.problem);
            }
            index.flush();
            index.close();
            return new Segment(baseOffset, log, index, indexIntervalBytes, read, scan.end, scan.next);
        } catch (IOException | RuntimeException e) {
            read.close();
            throw e;
        }
    }

    private record ScanResult(int end, long next, String problem) {
    }

    /**
     * Validates frames from {@code start} (where offset {@code expectedOffset} must begin) to {@code fileSize},
     * stopping at the first bad one. Adds index entries to {@code index} if it is non-null, following the same rule
     * as {@link #append}, so a rebuilt index equals the one written originally.
     */
    private static ScanResult scan(FileChannel ch, Path file, int start, long baseOffset, long expectedOffset,
                                   long fileSize, OffsetIndex index, int indexIntervalBytes) throws IOException {
        ByteBuffer headerBuf = ByteBuffer.allocate(FrameCodec.HEADER_SIZE);
        byte[] records = new byte[0];
        int pos = start;
        long next = expectedOffset;
        int sinceIndexEntry = 0;
        long limit = Math.min(fileSize, Integer.MAX_VALUE);
        while (pos < fileSize) {
            if (limit - pos < FrameCodec.HEADER_SIZE) {
                return new ScanResult(pos, next, "short frame: " + (fileSize - pos) + " bytes left");
            }
            headerBuf.clear();
            if (!readFully(ch, headerBuf, pos)) {
                return new ScanResult(pos, next, "short frame header");
            }
            headerBuf.flip();
            FrameCodec.Header h = FrameCodec.decodeHeader(headerBuf);
            String problem = FrameCodec.checkLength(h, limit - pos);
            if (problem != null) {
                return new ScanResult(pos, next, problem);
            }
            int recordsSize = h.recordsSize();
            if (records.length < recordsSize) {
                records = new byte[Math.max(recordsSize, records.length * 2)];
            }
            ByteBuffer recordsBuf = ByteBuffer.wrap(records, 0, recordsSize);
            if (!readFully(ch, recordsBuf, pos + FrameCodec.HEADER_SIZE)) {
                return new ScanResult(pos, next, "short frame body");
            }
            if (FrameCodec.crc(headerBuf.array(), records, recordsSize) != h.frameCrc32c()) {
                return new ScanResult(pos, next, "frame CRC mismatch");
            }
            if (h.baseOffset() != next) {
                return new ScanResult(pos, next, "frame base offset " + h.baseOffset() + ", expected " + next);
            }
            if (h.recordCount() < 1 || h.baseOffset() - baseOffset > Integer.MAX_VALUE
                    || h.baseOffset() > Long.MAX_VALUE - h.recordCount()) {
                return new ScanResult(pos, next, "invalid record count " + h.recordCount());
            }
            if (index != null && sinceIndexEntry >= indexIntervalBytes) {
                index.append((int) (h.baseOffset() - baseOffset), pos);
                sinceIndexEntry = 0;
            }
            sinceIndexEntry += h.frameSize();
            pos += h.frameSize();
            next = h.nextOffset();
        }
        return new ScanResult(pos, next, null);
    }

    long baseOffset() {
        return baseOffset;
    }

    long nextOffset() {
        return nextOffset;
    }

    int size() {
        return size;
    }

    Path logFile() {
        return logFile;
    }

    Path indexFile() {
        return index.file();
    }

    /** Appends one frame with a single gathering write; the caller has checked contiguity and size limits. */
    void append(long batchBaseOffset, int recordCount, long appendTimeMs, int batchCrc32c, ByteBuffer records)
            throws IOException {
        FileChannel ch = writer();
        int position = size;
        int frameSize = FrameCodec.frameSize(records.remaining());
        ByteBuffer[] buffers = {
                FrameCodec.encodeHeader(batchBaseOffset, recordCount, appendTimeMs, batchCrc32c, records),
                records.duplicate()
        };
        try {
            long written = 0;
            while (written < frameSize) {
                written += ch.write(buffers);
            }
        } catch (IOException e) {
            discardPartialWrite(position, e);
            throw e;
        }
        if (bytesSinceIndexEntry >= indexIntervalBytes) {
            index.append((int) (batchBaseOffset - baseOffset), position);
            bytesSinceIndexEntry = 0;
        }
        bytesSinceIndexEntry += frameSize;
        nextOffset = batchBaseOffset + recordCount;
        size = position + frameSize;
    }

    private void discardPartialWrite(int position, IOException cause) {
        try {
            FileChannel ch = writer();
            ch.truncate(position);
            ch.position(position);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * Adds to {@code acc} the batches of this segment from the one containing {@code fromOffset}, stopping when
     * the next batch would exceed the byte budget.
     *
     * @return false if it stopped because of the budget, true if it reached the end of the segment
     */
    boolean readInto(long fromOffset, int maxBytes, ReadAccumulator acc) throws IOException {
        int end = size;
        int pos = index.lookup(fromOffset - baseOffset);
        ByteBuffer headerBuf = ByteBuffer.allocate(FrameCodec.HEADER_SIZE);
        while (pos < end) {
            FrameCodec.Header h = readHeader(headerBuf, pos, end);
            if (h.nextOffset() <= fromOffset) {
                pos += h.frameSize();
                continue;
            }
            if (acc.batches.isEmpty()) {
                if (h.baseOffset() > fromOffset) {
                    throw new CorruptSegmentException(logFile, pos, "expected the batch containing offset "
                            + fromOffset + ", found base offset " + h.baseOffset());
                }
            } else {
                if (h.baseOffset() != acc.nextOffset) {
                    throw new CorruptSegmentException(logFile, pos, "expected base offset " + acc.nextOffset
                            + ", found " + h.baseOffset());
                }
                if (acc.recordBytes + h.recordsSize() > maxBytes) {
                    return false;
                }
            }
            byte[] records = new byte[h.recordsSize()];
            if (!readAt(ByteBuffer.wrap(records), pos + FrameCodec.HEADER_SIZE)) {
                throw new CorruptSegmentException(logFile, pos, "frame body cut short");
            }
            if (FrameCodec.crc(headerBuf.array(), records) != h.frameCrc32c()) {
                throw new CorruptSegmentException(logFile, pos, "frame CRC mismatch");
            }
            acc.add(FrameCodec.toBatch(h, records));
            pos += h.frameSize();
        }
        return true;
    }

    /** Mutable state of one read across segments. */
    static final class ReadAccumulator {
        final List<StoredBatch> batches = new ArrayList<>();
        long recordBytes;
        long nextOffset;

        void add(StoredBatch batch) {
            batches.add(batch);
            recordBytes += batch.records().length;
            nextOffset = batch.nextOffset();
        }
    }

    /** Position of the batch starting at {@code offset} ({@code size} if it equals {@code nextOffset}). */
    int positionOf(long offset) throws IOException {
        int end = size;
        if (offset == nextOffset) {
            return end;
        }
        int pos = index.lookup(offset - baseOffset);
        ByteBuffer headerBuf = ByteBuffer.allocate(FrameCodec.HEADER_SIZE);
        while (pos < end) {
            FrameCodec.Header h = readHeader(headerBuf, pos, end);
            if (h.baseOffset() == offset) {
                return pos;
            }
            if (h.baseOffset() > offset || h.nextOffset() > offset) {
                break;
            }
            pos += h.frameSize();
        }
        throw new IllegalArgumentException("Offset " + offset + " is not a batch boundary in " + logFile);
    }

    /** Removes the batches from {@code offset} (a batch boundary at {@code position}) on; forced to disk. */
    void truncateTo(long offset, int position) throws IOException {
        FileChannel ch = writer();
        ch.truncate(position);
        ch.position(position);
        ch.force(true);
        index.truncateTo(offset - baseOffset);
        size = position;
        nextOffset = offset;
        bytesSinceIndexEntry = position - index.lastPosition();
    }

    /** Forces data and index to disk. */
    void flush() throws IOException {
        FileChannel ch = writeChannel;
        if (ch != null && ch.isOpen()) {
            ch.force(true);
        }
        index.flush();
    }

    /** Flushes and releases the write-side resources; the segment stays readable. */
    void seal() throws IOException {
        flush();
        FileChannel ch = writeChannel;
        writeChannel = null;
        if (ch != null) {
            ch.close();
        }
        index.close();
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        synchronized (channelLock) {
            closed = true;
            try {
                readChannel.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        try {
            FileChannel ch = writeChannel;
            writeChannel = null;
            if (ch != null) {
                ch.close();
            }
            index.close();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Closes and deletes the data file, then the index file. */
    void delete() throws IOException {
        close();
        Files.deleteIfExists(logFile);
        index.deleteFile();
    }

    @Override
    public String toString() {
        return "Segment[" + logFile.getFileName() + ", offsets " + baseOffset + ".." + nextOffset + ", " + size
                + " bytes]";
    }

    private FileChannel writer() throws IOException {
        FileChannel ch = writeChannel;
        if (ch == null || !ch.isOpen()) {
            if (closed) {
                throw new ClosedChannelException();
            }
            ch = FileChannel.open(logFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (ch.size() > size) {
                ch.truncate(size);
            }
            ch.position(size);
            writeChannel = ch;
        }
        return ch;
    }

    private FrameCodec.Header readHeader(ByteBuffer headerBuf, int pos, int end) throws IOException {
        if (end - pos < FrameCodec.HEADER_SIZE) {
            throw new CorruptSegmentException(logFile, pos, "frame header cut short");
        }
        headerBuf.clear();
        if (!readAt(headerBuf, pos)) {
            throw new CorruptSegmentException(logFile, pos, "frame header cut short");
        }
        headerBuf.flip();
        FrameCodec.Header h = FrameCodec.decodeHeader(headerBuf);
        String problem = FrameCodec.checkLength(h, end - pos);
        if (problem != null) {
            throw new CorruptSegmentException(logFile, pos, problem);
        }
        return h;
    }

    /** Positional read that survives another reader's interrupt having closed the shared read channel. */
    private boolean readAt(ByteBuffer buf, long position) throws IOException {
        int start = buf.position();
        for (int attempt = 1; ; attempt++) {
            try {
                return readFully(readChannel(), buf, position);
            } catch (ClosedChannelException e) {
                if (closed || e instanceof ClosedByInterruptException || Thread.currentThread().isInterrupted()
                        || attempt >= MAX_READ_ATTEMPTS) {
                    throw e;
                }
                buf.position(start);
            }
        }
    }

    private FileChannel readChannel() throws IOException {
        FileChannel ch = readChannel;
        if (ch.isOpen()) {
            return ch;
        }
        synchronized (channelLock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            if (!readChannel.isOpen()) {
                readChannel = FileChannel.open(logFile, StandardOpenOption.READ);
            }
            return readChannel;
        }
    }

    private static boolean readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                return false;
            }
            p += n;
        }
        return true;
    }
}
