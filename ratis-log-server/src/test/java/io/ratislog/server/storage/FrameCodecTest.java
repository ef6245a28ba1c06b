package io.ratislog.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    @Test
    void roundTripsEveryField() {
        byte[] records = new byte[100];
        new Random(1).nextBytes(records);
        StoredBatch batch = new StoredBatch(1L << 40, 7, 1_700_000_000_123L, 0xCAFEBABE, records);

        ByteBuffer frame = FrameCodec.encode(batch);

        assertEquals(FrameCodec.HEADER_SIZE + 100, frame.remaining());
        assertEquals(FrameCodec.MIN_FRAME_LENGTH + 100, frame.getInt(0));
        assertEquals(batch, FrameCodec.decode(frame));
    }

    @Test
    void roundTripsEmptyRecords() {
        StoredBatch batch = new StoredBatch(0, 1, -1, 0, new byte[0]);
        assertEquals(batch, FrameCodec.decode(FrameCodec.encode(batch)));
    }

    @Test
    void headerMatchesFullEncoding() {
        byte[] records = {1, 2, 3};
        ByteBuffer header = FrameCodec.encodeHeader(5, 2, 9, 11, records);
        FrameCodec.Header h = FrameCodec.decodeHeader(header);
        assertEquals(new FrameCodec.Header(31, h.frameCrc32c(), 5, 2, 9, 11), h);
        assertEquals(35, h.frameSize());
        assertEquals(3, h.recordsSize());
        assertEquals(7, h.nextOffset());
    }

    @Test
    void anyFlippedBitAfterTheLengthIsACrcMismatch() {
        byte[] records = new byte[40];
        new Random(2).nextBytes(records);
        ByteBuffer frame = FrameCodec.encode(new StoredBatch(3, 2, 4, 5, records));
        for (int i = FrameCodec.LENGTH_FIELD_SIZE; i < frame.limit(); i++) {
            for (int bit = 0; bit < 8; bit++) {
                ByteBuffer copy = ByteBuffer.allocate(frame.limit()).put(frame.duplicate()).flip();
                copy.put(i, (byte) (copy.get(i) ^ (1 << bit)));
                assertThrows(IllegalArgumentException.class, () -> FrameCodec.decode(copy), "byte " + i);
            }
        }
    }

    @Test
    void rejectsAbsurdLengths() {
        ByteBuffer frame = FrameCodec.encode(new StoredBatch(0, 1, 0, 0, new byte[10]));
        frame.putInt(0, -1);
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.decode(frame));
        frame.putInt(0, FrameCodec.MIN_FRAME_LENGTH - 1);
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.decode(frame));
        frame.putInt(0, Integer.MAX_VALUE);
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.decode(frame));
        frame.putInt(0, FrameCodec.MIN_FRAME_LENGTH + 11);
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.decode(frame));
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.decode(ByteBuffer.allocate(31)));
    }
}
