package io.ratislog.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OffsetIndexTest {

    @TempDir
    Path dir;

    @Test
    void lookupReturnsFloorEntryPosition() throws Exception {
        OffsetIndex index = OffsetIndex.createEmpty(dir.resolve("i.index"));
        assertEquals(0, index.lookup(5));
        index.append(10, 100);
        index.append(20, 250);
        index.append(35, 400);
        assertEquals(0, index.lookup(0));
        assertEquals(0, index.lookup(9));
        assertEquals(100, index.lookup(10));
        assertEquals(100, index.lookup(19));
        assertEquals(250, index.lookup(20));
        assertEquals(250, index.lookup(34));
        assertEquals(400, index.lookup(35));
        assertEquals(400, index.lookup(Long.MAX_VALUE / 2));
        index.close();
    }

    @Test
    void flushPersistsAndTruncateShrinks() throws Exception {
        Path file = dir.resolve("i.index");
        OffsetIndex index = OffsetIndex.createEmpty(file);
        for (int i = 1; i <= 40; i++) {
            index.append(i * 3, i * 64);
        }
        index.flush();
        assertEquals(40 * OffsetIndex.ENTRY_SIZE, Files.size(file));
        index.truncateTo(31);
        assertEquals(10, index.entryCount());
        assertEquals(10 * OffsetIndex.ENTRY_SIZE, Files.size(file));
        assertEquals(30, index.lastRelOffset());
        assertEquals(640, index.lastPosition());
        index.append(33, 700);
        index.flush();
        index.close();

        OffsetIndex loaded = OffsetIndex.loadIfValid(file, 10_000);
        assertNotNull(loaded);
        assertEquals(11, loaded.entryCount());
        assertEquals(700, loaded.lookup(40));
        assertEquals(640, loaded.lookup(32));
    }

    @Test
    void malformedFilesAreRejected() throws Exception {
        Path file = dir.resolve("i.index");
        assertNull(OffsetIndex.loadIfValid(file, 1000));
        Files.write(file, new byte[7]);
        assertNull(OffsetIndex.loadIfValid(file, 1000));
        Files.write(file, entries(5, 100, 4, 200));
        assertNull(OffsetIndex.loadIfValid(file, 1000), "decreasing offsets");
        Files.write(file, entries(5, 100, 6, 100));
        assertNull(OffsetIndex.loadIfValid(file, 1000), "repeated position");
        Files.write(file, entries(5, 100, 6, 990));
        assertNull(OffsetIndex.loadIfValid(file, 1000), "position past the data");
        Files.write(file, entries(0, 0));
        assertNull(OffsetIndex.loadIfValid(file, 1000), "entry for position 0");
        Files.write(file, entries(5, 100, 6, 200));
        assertNotNull(OffsetIndex.loadIfValid(file, 1000));
    }

    private static byte[] entries(int... relAndPos) {
        ByteBuffer buf = ByteBuffer.allocate(relAndPos.length * 4);
        for (int v : relAndPos) {
            buf.putInt(v);
        }
        return buf.array();
    }
}
