package io.ratislog.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Sparse offset index of one segment: entries of (offset relative to the segment base, file position of the frame
 * with that base offset), both int32 big-endian, 8 bytes per entry, strictly increasing in both fields. Offsets
 * before the first entry are found by scanning from position 0, so no entry for position 0 is ever stored.
 *
 * <p>Entries live in memory; the file is only written by {@link #flush()} (and shrunk by {@link #truncateTo}), so
 * the append path never touches it. A lost or stale file is harmless: {@link SegmentLog#open} rebuilds it.
 *
 * <p>Threading: one writer, concurrent {@link #lookup} callers. The writer fills the slot, publishes the array, then
 * the count; readers read the count, then the array, so every slot below the count they saw is filled. Truncation
 * rewrites slots in place, which is why {@link SegmentLog} excludes readers (or makes them retry) around it.
 */
final class OffsetIndex implements Closeable {

    static final int ENTRY_SIZE = 8;

    private final Path file;
    private volatile long[] entries;
    private volatile int count;
    private int persistedCount;
    private FileChannel channel;

    private OffsetIndex(Path file, long[] entries, int count) {
        this.file = file;
        this.entries = entries;
        this.count = count;
        this.persistedCount = count;
    }

    /** A new empty index, replacing whatever {@code file} held. */
    static OffsetIndex createEmpty(Path file) throws IOException {
        OffsetIndex index = new OffsetIndex(file, new long[16], 0);
        index.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        return index;
    }

    /**
     * Loads {@code file}, or returns null if it is missing or not a well-formed index for a data file of
     * {@code segmentSize} bytes (size not a multiple of 8, entries not strictly increasing, positions out of range).
     */
    static OffsetIndex loadIfValid(Path file, int segmentSize) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (bytes.length % ENTRY_SIZE != 0) {
            return null;
        }
        int n = bytes.length / ENTRY_SIZE;
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        long[] entries = new long[Math.max(16, n)];
        int prevRel = 0;
        int prevPos = 0;
        for (int i = 0; i < n; i++) {
            int rel = buf.getInt();
            int pos = buf.getInt();
            if (rel <= prevRel || pos <= prevPos || pos > segmentSize - FrameCodec.HEADER_SIZE) {
                return null;
            }
            entries[i] = pack(rel, pos);
            prevRel = rel;
            prevPos = pos;
        }
        return new OffsetIndex(file, entries, n);
    }

    Path file() {
        return file;
    }

    /** Adds an entry; {@code relOffset} and {@code position} must exceed those of the last entry. */
    void append(int relOffset, int position) {
        int n = count;
        long[] a = entries;
        if (n == a.length) {
            a = Arrays.copyOf(a, n * 2);
        }
        a[n] = pack(relOffset, position);
        entries = a;
        count = n + 1;
    }

    /** Position of the last entry whose relative offset is {@code <= relOffset}, or 0 if there is none. */
    int lookup(long relOffset) {
        int n = count;
        long[] a = entries;
        if (n == 0 || relOffset <= 0) {
            return 0;
        }
        long key = pack((int) Math.min(relOffset, Integer.MAX_VALUE), -1);
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] <= key) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? 0 : position(a[found]);
    }

    int entryCount() {
        return count;
    }

    /** Relative offset of the last entry, 0 if empty. */
    int lastRelOffset() {
        int n = count;
        return n == 0 ? 0 : relOffset(entries[n - 1]);
    }

    /** Position of the last entry, 0 if empty. */
    int lastPosition() {
        int n = count;
        return n == 0 ? 0 : position(entries[n - 1]);
    }

    /** Drops entries whose relative offset is {@code >= relOffset}, in memory and (forced) on disk. */
    void truncateTo(long relOffset) throws IOException {
        int n = count;
        long[] a = entries;
        while (n > 0 && relOffset(a[n - 1]) >= relOffset) {
            n--;
        }
        count = n;
        if (persistedCount > n) {
            persistedCount = n;
            FileChannel ch = channel();
            ch.truncate((long) n * ENTRY_SIZE);
            ch.force(true);
        }
    }

    /** Writes entries added since the last flush and forces the file. */
    void flush() throws IOException {
        int n = count;
        FileChannel ch = channel();
        if (n > persistedCount) {
            long[] a = entries;
            ByteBuffer buf = ByteBuffer.allocate((n - persistedCount) * ENTRY_SIZE);
            for (int i = persistedCount; i < n; i++) {
                buf.putInt(relOffset(a[i])).putInt(position(a[i]));
            }
            buf.flip();
            long pos = (long) persistedCount * ENTRY_SIZE;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
            persistedCount = n;
        }
        ch.force(true);
    }

    /** Closes the file; entries stay usable for lookups and the file is reopened if written again. */
    @Override
    public void close() throws IOException {
        FileChannel ch = channel;
        channel = null;
        if (ch != null) {
            ch.close();
        }
    }

    void deleteFile() throws IOException {
        close();
        Files.deleteIfExists(file);
    }

    private FileChannel channel() throws IOException {
        if (channel == null || !channel.isOpen()) {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
        return channel;
    }

    private static long pack(int relOffset, int position) {
        return ((long) relOffset << 32) | (position & 0xFFFFFFFFL);
    }

    private static int relOffset(long entry) {
        return (int) (entry >>> 32);
    }

    private static int position(long entry) {
        return (int) entry;
    }
}
