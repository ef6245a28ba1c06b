package io.ratislog.server.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentLogTest {

    private static final SegmentLogConfig SMALL = new SegmentLogConfig(1024, 100);

    @TempDir
    Path dir;

    private SegmentLog log;

    @AfterEach
    void closeLog() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    // ---- helpers ----

    /** Deterministic batch: recordCount 1 + offset % 3, records size from the offset. */
    static StoredBatch batchAt(long offset) {
        Random r = new Random(offset);
        byte[] records = new byte[10 + (int) (offset * 7 % 90)];
        r.nextBytes(records);
        return new StoredBatch(offset, 1 + (int) (offset % 3), 1_000 + offset, r.nextInt(), records);
    }

    static void append(SegmentLog log, StoredBatch b) throws IOException {
        log.append(b.baseOffset(), b.recordCount(), b.appendTimeMs(), b.batchCrc32c(), b.records());
    }

    /** Appends n batches starting at the log end and returns them. */
    static List<StoredBatch> appendBatches(SegmentLog log, int n) throws IOException {
        List<StoredBatch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StoredBatch b = batchAt(log.logEndOffset());
            append(log, b);
            out.add(b);
        }
        return out;
    }

    static List<StoredBatch> readAll(SegmentLog log) throws IOException {
        return log.read(log.logStartOffset(), Integer.MAX_VALUE);
    }

    private SegmentLog reopen(SegmentLogConfig config) throws IOException {
        log.close();
        log = SegmentLog.open(dir, config);
        return log;
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            b.rewind();
            ch.write(b, position);
        }
    }

    private static void truncateFile(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private Path lastSegment() {
        List<Path> files = log.segmentFiles();
        return files.get(files.size() - 1);
    }

    // ---- basics ----

    @Test
    void emptyDirectoryGivesEmptyLog() throws IOException {
        log = SegmentLog.open(dir.resolve("new"), SegmentLogConfig.defaults());
        assertEquals(0, log.logStartOffset());
        assertEquals(0, log.logEndOffset());
        assertEquals(List.of(), log.read(0, 100));
        assertEquals(List.of(), log.segmentFiles());
        assertEquals(List.of(), log.roll());
        assertEquals(0, log.sizeInBytes());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(1, 100));
    }

    @Test
    void appendsAreReadBackAndContiguityIsEnforced() throws IOException {
        log = SegmentLog.open(dir, SegmentLogConfig.defaults());
        List<StoredBatch> batches = appendBatches(log, 20);
        assertEquals(batches, readAll(log));
        assertEquals(batches.get(19).nextOffset(), log.logEndOffset());
        long expectedSize = batches.stream().mapToLong(b -> FrameCodec.HEADER_SIZE + b.records().length).sum();
        assertEquals(expectedSize, log.sizeInBytes());
        assertEquals(List.of(Segment.logPath(dir, 0)), log.segmentFiles());
        assertTrue(log.segmentFiles().get(0).getFileName().toString().equals("00000000000000000000.log"));

        long end = log.logEndOffset();
        assertThrows(IllegalArgumentException.class, () -> log.append(end + 1, 1, 0, 0, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> log.append(end - 1, 1, 0, 0, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> log.append(end, 0, 0, 0, new byte[1]));
        assertEquals(end, log.logEndOffset());
        assertEquals(batches, readAll(log));
    }

    @Test
    void readsAtStartEndAndOutOfRange() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 60);
        log.deleteSegmentsBefore(batches.get(30).baseOffset());
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        assertTrue(start > 0);

        List<StoredBatch> first = log.read(start, 0);
        assertEquals(1, first.size());
        assertEquals(start, first.get(0).baseOffset());
        assertEquals(List.of(batches.get(59)), log.read(end - 1, Integer.MAX_VALUE));
        assertEquals(List.of(), log.read(end, Integer.MAX_VALUE));

        OffsetOutOfRangeException below = assertThrows(OffsetOutOfRangeException.class,
                () -> log.read(start - 1, 100));
        assertEquals(start - 1, below.requestedOffset());
        assertEquals(start, below.logStartOffset());
        assertEquals(end, below.logEndOffset());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(end + 1, 100));
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(0, 100));
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(Long.MAX_VALUE, 100));
    }

    @Test
    void maxBytesLimitsRecordBytesButAlwaysReturnsOneBatch() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 40);
        int firstSize = batches.get(0).records().length;

        assertEquals(List.of(batches.get(0)), log.read(0, 0));
        assertEquals(List.of(batches.get(0)), log.read(0, firstSize));
        assertEquals(List.of(batches.get(0)), log.read(0, firstSize + batches.get(1).records().length - 1));
        assertEquals(batches.subList(0, 2), log.read(0, firstSize + batches.get(1).records().length));

        for (int from = 0; from < 40; from += 7) {
            long fromOffset = batches.get(from).baseOffset();
            for (int max : new int[] {1, 150, 500, 2000}) {
                List<StoredBatch> got = log.read(fromOffset, max);
                int expectedCount = 1;
                long total = batches.get(from).records().length;
                while (from + expectedCount < 40
                        && total + batches.get(from + expectedCount).records().length <= max) {
                    total += batches.get(from + expectedCount).records().length;
                    expectedCount++;
                }
                assertEquals(batches.subList(from, from + expectedCount), got, "from " + from + " max " + max);
            }
        }
    }

    @Test
    void indexFindsTheBatchContainingEveryOffsetAcrossSegments() throws IOException {
        log = SegmentLog.open(dir, new SegmentLogConfig(2000, 64));
        List<StoredBatch> batches = appendBatches(log, 300);
        assertTrue(log.segmentFiles().size() >= 5, "several segments: " + log.segmentFiles().size());
        log.flush();
        for (Path segment : log.segmentFiles()) {
            Path index = Path.of(segment.toString().replace(".log", ".index"));
            if (Files.size(segment) > 200) {
                assertTrue(Files.size(index) >= 2 * OffsetIndex.ENTRY_SIZE, "index entries in " + index);
            }
        }
        assertEveryOffsetFindsItsBatch(batches);
        reopen(new SegmentLogConfig(2000, 64));
        assertEveryOffsetFindsItsBatch(batches);
    }

    private void assertEveryOffsetFindsItsBatch(List<StoredBatch> batches) throws IOException {
        for (int i = 0; i < batches.size(); i++) {
            StoredBatch b = batches.get(i);
            for (long o = b.baseOffset(); o < b.nextOffset(); o++) {
                List<StoredBatch> got = log.read(o, 0);
                assertEquals(List.of(b), got, "offset " + o);
            }
            if (i % 37 == 0) {
                assertEquals(batches.subList(i, batches.size()), log.read(b.baseOffset(), Integer.MAX_VALUE));
            }
        }
    }

    // ---- corruption ----

    @Test
    void crcMismatchIsDetectedOnRead() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 50);
        Path first = log.segmentFiles().get(0);
        int secondFramePos = FrameCodec.HEADER_SIZE + batches.get(0).records().length;
        flipByte(first, secondFramePos + FrameCodec.HEADER_SIZE + 3);

        CorruptSegmentException e = assertThrows(CorruptSegmentException.class,
                () -> log.read(batches.get(1).baseOffset(), 100));
        assertEquals(first, e.file());
        assertEquals(secondFramePos, e.position());
        assertTrue(e.getMessage().contains(first.toString()), e.getMessage());
        assertThrows(CorruptSegmentException.class, () -> log.read(0, Integer.MAX_VALUE));
        assertEquals(List.of(batches.get(0)), log.read(0, 0));
        assertEquals(batches.get(2), log.read(batches.get(2).baseOffset(), 0).get(0));
    }

    @Test
    void tornTailIsTruncatedAtEveryCutPosition() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 25);
        log.roll();
        List<StoredBatch> tail = appendBatches(log, 3);
        log.close();
        log = null;
        Path last = Segment.logPath(dir, tail.get(0).baseOffset());
        byte[] original = Files.readAllBytes(last);
        int lastFrameSize = FrameCodec.HEADER_SIZE + tail.get(2).records().length;
        int lastFramePos = original.length - lastFrameSize;
        List<StoredBatch> intact = new ArrayList<>(batches);
        intact.addAll(tail.subList(0, 2));

        for (int cut = lastFramePos; cut < original.length; cut++) {
            Files.write(last, java.util.Arrays.copyOf(original, cut));
            try (SegmentLog reopened = SegmentLog.open(dir, SMALL)) {
                assertEquals(tail.get(2).baseOffset(), reopened.logEndOffset(), "cut at " + cut);
                assertEquals(lastFramePos, Files.size(last));
                assertEquals(intact, readAll(reopened));
            }
        }
        log = SegmentLog.open(dir, SMALL);
        append(log, tail.get(2));
        intact.add(tail.get(2));
        assertEquals(intact, readAll(log));
        assertArrayEquals(original, Files.readAllBytes(last));
    }

    @Test
    void garbageAfterTheLastFrameIsTruncated() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 10);
        long size = log.sizeInBytes();
        log.close();
        Random random = new Random(7);
        for (int garbageSize : new int[] {1, 31, 32, 33, 500}) {
            byte[] garbage = new byte[garbageSize];
            random.nextBytes(garbage);
            Files.write(Segment.logPath(dir, 0), garbage, StandardOpenOption.APPEND);
            log = SegmentLog.open(dir, SMALL);
            assertEquals(size, Files.size(Segment.logPath(dir, 0)));
            assertEquals(batches, readAll(log));
            log.close();
        }
        log = SegmentLog.open(dir, SMALL);
        assertEquals(batches.get(9).nextOffset(), log.logEndOffset());
    }

    @Test
    void flippedByteInTheLastFrameIsTruncated() throws IOException {
        log = SegmentLog.open(dir, SegmentLogConfig.defaults());
        List<StoredBatch> batches = appendBatches(log, 5);
        log.close();
        log = null;
        Path file = Segment.logPath(dir, 0);
        byte[] original = Files.readAllBytes(file);
        int lastFramePos = original.length - FrameCodec.HEADER_SIZE - batches.get(4).records().length;
        for (int pos = lastFramePos; pos < original.length; pos++) {
            Files.write(file, original);
            flipByte(file, pos);
            try (SegmentLog reopened = SegmentLog.open(dir, SegmentLogConfig.defaults())) {
                assertEquals(batches.subList(0, 4), readAll(reopened), "flipped byte at " + pos);
                assertEquals(lastFramePos, Files.size(file));
            }
        }
    }

    @Test
    void absurdFrameLengthsAreATornTail() throws IOException {
        log = SegmentLog.open(dir, SegmentLogConfig.defaults());
        List<StoredBatch> batches = appendBatches(log, 3);
        log.close();
        log = null;
        Path file = Segment.logPath(dir, 0);
        byte[] original = Files.readAllBytes(file);
        int lastFramePos = original.length - FrameCodec.HEADER_SIZE - batches.get(2).records().length;
        for (int length : new int[] {-1, 0, FrameCodec.MIN_FRAME_LENGTH - 1, Integer.MAX_VALUE, Integer.MAX_VALUE - 3,
                original.length - lastFramePos}) {
            ByteBuffer copy = ByteBuffer.wrap(original.clone());
            copy.putInt(lastFramePos, length);
            Files.write(file, copy.array());
            try (SegmentLog reopened = SegmentLog.open(dir, SegmentLogConfig.defaults())) {
                assertEquals(batches.subList(0, 2), readAll(reopened), "length " + length);
            }
        }
    }

    @Test
    void missingOrGarbageIndexIsRebuiltIdentically() throws IOException {
        SegmentLogConfig config = new SegmentLogConfig(3000, 80);
        log = SegmentLog.open(dir, config);
        List<StoredBatch> batches = appendBatches(log, 200);
        log.close();
        List<Path> segments = log.segmentFiles();
        assertTrue(segments.size() >= 4);
        Path sealedIndex = Segment.indexPath(dir, batches.get(0).baseOffset());
        Path secondIndex = Path.of(segments.get(1).toString().replace(".log", ".index"));
        byte[] sealedOriginal = Files.readAllBytes(sealedIndex);
        byte[] secondOriginal = Files.readAllBytes(secondIndex);
        assertTrue(sealedOriginal.length > 0);

        Files.delete(sealedIndex);
        byte[] garbage = new byte[secondOriginal.length];
        new Random(3).nextBytes(garbage);
        Files.write(secondIndex, garbage);
        log = SegmentLog.open(dir, config);
        assertArrayEquals(sealedOriginal, Files.readAllBytes(sealedIndex));
        assertArrayEquals(secondOriginal, Files.readAllBytes(secondIndex));
        assertEquals(batches, readAll(log));

        // A well-formed index that points at the wrong positions is also rebuilt.
        log.close();
        ByteBuffer shifted = ByteBuffer.wrap(secondOriginal.clone());
        shifted.putInt(shifted.limit() - 4, shifted.getInt(shifted.limit() - 4) + 1);
        Files.write(secondIndex, shifted.array());
        log = SegmentLog.open(dir, config);
        assertArrayEquals(secondOriginal, Files.readAllBytes(secondIndex));
        assertEveryOffsetFindsItsBatch(batches);
    }

    @Test
    void corruptionInsideASealedSegmentFailsOpen() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 60);
        log.close();
        Path first = log.segmentFiles().get(0);
        Files.delete(Path.of(first.toString().replace(".log", ".index")));
        flipByte(first, FrameCodec.HEADER_SIZE + 2);
        CorruptSegmentException e = assertThrows(CorruptSegmentException.class, () -> SegmentLog.open(dir, SMALL));
        assertEquals(first, e.file());
        assertEquals(0, e.position());
        log = null;
        assertTrue(batches.size() > 0);
    }

    @Test
    void gapBetweenSegmentsFailsOpen() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        appendBatches(log, 60);
        log.close();
        List<Path> files = log.segmentFiles();
        log = null;
        Files.delete(files.get(1));
        assertThrows(CorruptSegmentException.class, () -> SegmentLog.open(dir, SMALL));
    }

    // ---- roll, truncate, delete, reset ----

    @Test
    void rollSealsFilesThenAppendStartsANewSegment() throws IOException {
        log = SegmentLog.open(dir, SegmentLogConfig.defaults());
        List<StoredBatch> batches = appendBatches(log, 10);
        long end = log.logEndOffset();

        List<Path> sealed = log.roll();
        assertEquals(List.of(Segment.logPath(dir, 0)), sealed);
        assertEquals(List.of(Segment.logPath(dir, 0), Segment.logPath(dir, end)), log.segmentFiles());
        assertEquals(0, Files.size(Segment.logPath(dir, end)));
        assertEquals(sealed, log.roll(), "rolling an empty active segment creates nothing");
        assertEquals(2, log.segmentFiles().size());

        byte[] sealedBytes = Files.readAllBytes(sealed.get(0));
        batches.addAll(appendBatches(log, 5));
        assertArrayEquals(sealedBytes, Files.readAllBytes(sealed.get(0)));
        assertEquals(batches, readAll(log));

        // The seal survives a restart: appends after reopening go to the new segment.
        reopen(SegmentLogConfig.defaults());
        List<Path> sealedAgain = log.roll();
        assertEquals(2, sealedAgain.size());
        reopen(SegmentLogConfig.defaults());
        batches.addAll(appendBatches(log, 3));
        assertArrayEquals(sealedBytes, Files.readAllBytes(sealed.get(0)));
        assertEquals(batches, readAll(log));
        assertEquals(3, log.segmentFiles().size());
    }

    @Test
    void segmentsRollWhenFull() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 100);
        List<Path> files = log.segmentFiles();
        assertTrue(files.size() > 3);
        for (int i = 0; i < files.size() - 1; i++) {
            long size = Files.size(files.get(i));
            assertTrue(size >= 1024 && size < 1024 + 200, "size " + size);
        }
        assertEquals(batches, readAll(log));
    }

    @Test
    void truncateFromAcrossSegmentBoundariesThenAppend() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 100);
        List<Path> files = log.segmentFiles();
        int segmentsBefore = files.size();

        // Into the middle of the second segment: later segments go, that one is cut.
        long secondBase = Segment.parseBaseOffset(files.get(1).getFileName().toString(), ".log");
        int cut = indexOfBase(batches, secondBase) + 2;
        log.truncateFrom(batches.get(cut).baseOffset());
        assertEquals(batches.get(cut).baseOffset(), log.logEndOffset());
        assertEquals(2, log.segmentFiles().size());
        assertEquals(batches.subList(0, cut), readAll(log));
        for (int i = 2; i < segmentsBefore; i++) {
            assertFalse(Files.exists(files.get(i)));
            assertFalse(Files.exists(Path.of(files.get(i).toString().replace(".log", ".index"))));
        }

        // Exactly at a segment base: that segment stays, empty, as the active one.
        log.truncateFrom(secondBase);
        assertEquals(secondBase, log.logEndOffset());
        assertEquals(List.of(files.get(0), files.get(1)), log.segmentFiles());
        assertEquals(0, Files.size(files.get(1)));

        List<StoredBatch> expected = new ArrayList<>(batches.subList(0, indexOfBase(batches, secondBase)));
        expected.addAll(appendBatches(log, 30));
        assertEquals(expected, readAll(log));
        reopen(SMALL);
        assertEquals(expected, readAll(log));
        assertEquals(expected.get(expected.size() - 1).nextOffset(), log.logEndOffset());

        log.truncateFrom(0);
        assertEquals(0, log.logEndOffset());
        assertEquals(List.of(), readAll(log));
        reopen(SMALL);
        assertEquals(0, log.logEndOffset());
        List<StoredBatch> fresh = appendBatches(log, 3);
        assertEquals(fresh, readAll(log));
    }

    @Test
    void truncateFromRejectsOffsetsThatAreNotBatchBoundaries() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 30);
        StoredBatch multi = batches.stream().filter(b -> b.recordCount() > 1).findFirst().orElseThrow();
        long end = log.logEndOffset();
        assertThrows(IllegalArgumentException.class, () -> log.truncateFrom(multi.baseOffset() + 1));
        assertThrows(IllegalArgumentException.class, () -> log.truncateFrom(end + 1));
        assertThrows(IllegalArgumentException.class, () -> log.truncateFrom(-1));
        log.truncateFrom(end);
        assertEquals(end, log.logEndOffset());
        assertEquals(batches, readAll(log));
    }

    @Test
    void deleteSegmentsBeforeAdvancesTheStart() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 100);
        List<Path> files = log.segmentFiles();
        long thirdBase = Segment.parseBaseOffset(files.get(2).getFileName().toString(), ".log");

        log.deleteSegmentsBefore(thirdBase - 1);
        assertEquals(files.subList(1, files.size()), log.segmentFiles(), "second segment still holds an offset");
        log.deleteSegmentsBefore(thirdBase);
        assertEquals(thirdBase, log.logStartOffset());
        assertEquals(files.subList(2, files.size()), log.segmentFiles());
        assertFalse(Files.exists(files.get(0)));
        assertFalse(Files.exists(files.get(1)));
        int first = indexOfBase(batches, thirdBase);
        assertEquals(batches.subList(first, batches.size()), readAll(log));
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(thirdBase - 1, 10));

        reopen(SMALL);
        assertEquals(thirdBase, log.logStartOffset());
        assertEquals(batches.subList(first, batches.size()), readAll(log));

        long end = log.logEndOffset();
        log.deleteSegmentsBefore(Long.MAX_VALUE);
        assertEquals(end, log.logStartOffset());
        assertEquals(end, log.logEndOffset());
        assertEquals(List.of(Segment.logPath(dir, end)), log.segmentFiles());
        List<StoredBatch> more = appendBatches(log, 4);
        reopen(SMALL);
        assertEquals(end, log.logStartOffset());
        assertEquals(more, readAll(log));
    }

    @Test
    void resetToRestartsAnEmptyLogAtTheOffset() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        appendBatches(log, 50);
        log.resetTo(1000);
        assertEquals(1000, log.logStartOffset());
        assertEquals(1000, log.logEndOffset());
        assertEquals(List.of(Segment.logPath(dir, 1000)), log.segmentFiles());
        reopen(SMALL);
        assertEquals(1000, log.logStartOffset());
        List<StoredBatch> batches = appendBatches(log, 5);
        assertEquals(batches, log.read(1000, Integer.MAX_VALUE));
    }

    @Test
    void reopenAfterCloseGivesIdenticalReads() throws IOException {
        SegmentLogConfig config = new SegmentLogConfig(1500, 50);
        log = SegmentLog.open(dir, config);
        List<StoredBatch> batches = appendBatches(log, 150);
        log.roll();
        batches.addAll(appendBatches(log, 10));
        List<List<StoredBatch>> before = new ArrayList<>();
        for (long o = 0; o < log.logEndOffset(); o += 3) {
            before.add(log.read(o, 700));
        }
        List<Path> filesBefore = log.segmentFiles();
        long sizeBefore = log.sizeInBytes();

        reopen(config);
        assertEquals(filesBefore, log.segmentFiles());
        assertEquals(sizeBefore, log.sizeInBytes());
        int i = 0;
        for (long o = 0; o < log.logEndOffset(); o += 3) {
            assertEquals(before.get(i++), log.read(o, 700), "offset " + o);
        }
        assertEquals(batches, readAll(log));
    }

    @Test
    void unrelatedFilesAreIgnoredAndOrphanIndexesRemoved() throws IOException {
        Files.writeString(dir.resolve("00000000000000000000.log.md5"), "abc");
        Files.writeString(dir.resolve("snapshot.1_100"), "snap");
        Files.writeString(dir.resolve("readme.log"), "not a segment");
        Files.createDirectory(dir.resolve("00000000000000000099.log"));
        Files.write(Segment.indexPath(dir, 12345), new byte[16]);
        log = SegmentLog.open(dir, SMALL);
        assertEquals(0, log.logEndOffset());
        List<StoredBatch> batches = appendBatches(log, 5);
        reopen(SMALL);
        assertEquals(batches, readAll(log));
        assertTrue(Files.exists(dir.resolve("snapshot.1_100")));
        assertTrue(Files.exists(dir.resolve("00000000000000000000.log.md5")));
        assertFalse(Files.exists(Segment.indexPath(dir, 12345)));
    }

    @Test
    void closedLogRejectsCalls() throws IOException {
        log = SegmentLog.open(dir, SMALL);
        appendBatches(log, 3);
        log.close();
        log.close();
        assertThrows(IOException.class, () -> log.read(0, 10));
        assertThrows(IOException.class, () -> log.append(log.logEndOffset(), 1, 0, 0, new byte[1]));
        assertThrows(IOException.class, () -> log.roll());
        log = null;
    }

    // ---- concurrency ----

    @Test
    void concurrentReadersOnlySeeWholeValidBatches() throws Exception {
        log = SegmentLog.open(dir, new SegmentLogConfig(4096, 256));
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Random random = new Random(t);
            Thread reader = new Thread(() -> {
                try {
                    while (!done.get()) {
                        long start = log.logStartOffset();
                        long end = log.logEndOffset();
                        if (end == start) {
                            continue;
                        }
                        long from = start + (long) (random.nextDouble() * (end - start));
                        List<StoredBatch> got;
                        try {
                            got = log.read(from, random.nextInt(3000));
                        } catch (OffsetOutOfRangeException e) {
                            continue;
                        }
                        long expected = -1;
                        for (StoredBatch b : got) {
                            if (expected >= 0 && b.baseOffset() != expected) {
                                throw new AssertionError("gap at " + b.baseOffset());
                            }
                            if (!b.equals(batchAt(b.baseOffset()))) {
                                throw new AssertionError("wrong content at " + b.baseOffset());
                            }
                            expected = b.nextOffset();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            reader.start();
            readers.add(reader);
        }
        Random random = new Random(99);
        for (int i = 0; i < 3000 && failure.get() == null; i++) {
            append(log, batchAt(log.logEndOffset()));
            if (i % 500 == 499) {
                log.roll();
            }
            if (i % 700 == 699) {
                for (int k = random.nextInt(3); k >= 0; k--) {
                    log.truncateFrom(lastBatchBase());
                }
            }
            if (i % 1000 == 999) {
                log.deleteSegmentsBefore(log.logEndOffset() / 2);
            }
        }
        done.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertNull(failure.get(), () -> "reader failed: " + failure.get());
    }

    private long lastBatchBase() throws IOException {
        long end = log.logEndOffset();
        return log.read(end - 1, 0).get(0).baseOffset();
    }

    @Test
    void interruptedReaderDoesNotBreakTheLog() throws Exception {
        log = SegmentLog.open(dir, SMALL);
        List<StoredBatch> batches = appendBatches(log, 20);
        CountDownLatch started = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            started.countDown();
            Thread.currentThread().interrupt();
            try {
                log.read(0, Integer.MAX_VALUE);
            } catch (IOException expected) {
                // ClosedByInterruptException: the shared read channel of the segment is now closed.
            }
        });
        reader.start();
        started.await();
        reader.join();
        batches.addAll(appendBatches(log, 20));
        assertEquals(batches, readAll(log));
    }

    private static int indexOfBase(List<StoredBatch> batches, long base) {
        for (int i = 0; i < batches.size(); i++) {
            if (batches.get(i).baseOffset() == base) {
                return i;
            }
        }
        throw new AssertionError("no batch at " + base);
    }
}
