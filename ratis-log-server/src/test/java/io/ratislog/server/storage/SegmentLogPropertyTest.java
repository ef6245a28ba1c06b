package io.ratislog.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/** Random sequences of log operations agree with a list-of-batches model. */
class SegmentLogPropertyTest {

    sealed interface Op permits Append, Roll, Truncate, DeleteBefore, Reopen, TornReopen {
    }

    record Append(int recordCount, int size) implements Op {
    }

    record Roll() implements Op {
    }

    /** Truncate at the batch boundary this fraction of the way through the log. */
    record Truncate(double at) implements Op {
    }

    /** Delete segments before the offset this fraction of the way through the log (past 1.0: beyond the end). */
    record DeleteBefore(double at) implements Op {
    }

    record Reopen() implements Op {
    }

    /** Close, append garbage to the last segment file (a torn write), reopen. */
    record TornReopen(int garbageBytes) implements Op {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> append = Combinators.combine(Arbitraries.integers().between(1, 5),
                Arbitraries.integers().between(0, 150)).as(Append::new);
        Arbitrary<Op> fraction = Arbitraries.doubles().between(0, 1).map(Truncate::new);
        Arbitrary<Op> delete = Arbitraries.doubles().between(0, 1.2).map(DeleteBefore::new);
        Arbitrary<Op> torn = Arbitraries.integers().between(1, 60).map(TornReopen::new);
        return Arbitraries.frequencyOf(
                Tuple.of(20, append),
                Tuple.of(2, Arbitraries.just(new Roll())),
                Tuple.of(2, fraction),
                Tuple.of(1, delete),
                Tuple.of(2, Arbitraries.just(new Reopen())),
                Tuple.of(1, torn)
        ).list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 100)
    void logMatchesModel(@ForAll("ops") List<Op> ops,
                         @ForAll @IntRange(min = 100, max = 1500) int segmentBytes,
                         @ForAll @IntRange(min = 1, max = 400) int indexIntervalBytes) throws IOException {
        SegmentLogConfig config = new SegmentLogConfig(segmentBytes, indexIntervalBytes);
        Path dir = Files.createTempDirectory("segment-log-property");
        SegmentLog log = SegmentLog.open(dir, config);
        List<StoredBatch> model = new ArrayList<>();
        long start = 0;
        long end = 0;
        try {
            for (Op op : ops) {
                if (op instanceof Append a) {
                    StoredBatch b = batch(end, a.recordCount(), a.size());
                    log.append(b.baseOffset(), b.recordCount(), b.appendTimeMs(), b.batchCrc32c(), b.records());
                    model.add(b);
                    end = b.nextOffset();
                } else if (op instanceof Roll) {
                    List<Path> sealed = log.roll();
                    List<Path> all = log.segmentFiles();
                    assertEquals(all.subList(0, Math.max(0, all.size() - 1)), sealed);
                } else if (op instanceof Truncate t) {
                    int keep = (int) Math.round(t.at() * model.size());
                    long offset = keep < model.size() ? model.get(keep).baseOffset() : end;
                    log.truncateFrom(offset);
                    model.subList(keep, model.size()).clear();
                    end = offset;
                } else if (op instanceof DeleteBefore d) {
                    long offset = start + (long) (d.at() * (end - start));
                    log.deleteSegmentsBefore(offset);
                    long newStart = log.logStartOffset();
                    assertTrue(newStart >= start, "start never moves back");
                    assertTrue(offset >= end ? newStart == end : newStart <= Math.max(offset, start),
                            "kept the segment holding " + offset + ", start now " + newStart);
                    model.removeIf(b -> b.baseOffset() < newStart);
                    assertTrue(model.isEmpty() ? newStart == end : model.get(0).baseOffset() == newStart,
                            "start is a batch boundary");
                    start = newStart;
                } else if (op instanceof Reopen) {
                    log.close();
                    log = SegmentLog.open(dir, config);
                } else if (op instanceof TornReopen torn) {
                    log.close();
                    List<Path> files = log.segmentFiles();
                    if (!files.isEmpty()) {
                        byte[] garbage = new byte[torn.garbageBytes()];
                        new Random(torn.garbageBytes()).nextBytes(garbage);
                        Files.write(files.get(files.size() - 1), garbage, StandardOpenOption.APPEND);
                    }
                    log = SegmentLog.open(dir, config);
                }
                assertMatches(log, model, start, end, op);
            }
        } finally {
            log.close();
            deleteRecursively(dir);
        }
    }

    private static void assertMatches(SegmentLog log, List<StoredBatch> model, long start, long end, Op op)
            throws IOException {
        assertEquals(start, log.logStartOffset(), () -> "start after " + op);
        assertEquals(end, log.logEndOffset(), () -> "end after " + op);
        assertEquals(model, log.read(start, Integer.MAX_VALUE), () -> "contents after " + op);
        if (!model.isEmpty()) {
            StoredBatch mid = model.get(model.size() / 2);
            long inside = mid.nextOffset() - 1;
            List<StoredBatch> got = log.read(inside, mid.records().length);
            assertEquals(mid, got.get(0), () -> "read from " + inside + " after " + op);
        }
    }

    private static StoredBatch batch(long offset, int recordCount, int size) {
        Random random = new Random(offset * 31 + size);
        byte[] records = new byte[size];
        random.nextBytes(records);
        return new StoredBatch(offset, recordCount, offset * 10, random.nextInt(), records);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
