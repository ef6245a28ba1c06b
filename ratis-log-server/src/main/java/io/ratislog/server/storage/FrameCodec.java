package io.ratislog.server.storage;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The on-disk frame of one batch. All integers are big-endian:
 * <pre>
 * position  size  field
 *        0     4  frameLength   number of bytes after this field: 28 + records.length
 *        4     4  frameCrc32c   CRC-32C of every byte after this field (positions 8 .. 4 + frameLength)
 *        8     8  baseOffset
 *       16     4  recordCount
 *       20     8  appendTimeMs
 *       28     4  batchCrc32c   the producer's CRC over records; carried, not checked
 *       32     n  records
 * </pre>
 * The frame CRC covers header fields and records alike, so a flipped bit anywhere except in {@code frameLength} is
 * a CRC mismatch; a damaged {@code frameLength} either fails the bounds check or makes the CRC cover the wrong bytes.
 */
final class FrameCodec {

    static final int LENGTH_FIELD_SIZE = 4;
    static final int HEADER_SIZE = 32;
    /** {@code frameLength} of a frame with empty records. */
    static final int MIN_FRAME_LENGTH = HEADER_SIZE - LENGTH_FIELD_SIZE;
    static final int MAX_RECORDS_SIZE = Integer.MAX_VALUE - HEADER_SIZE;
    private static final int CRC_START = 8;

    private FrameCodec() {
    }

    /** The decoded fixed-size part of a frame. */
    record Header(int frameLength, int frameCrc32c, long baseOffset, int recordCount, long appendTimeMs,
                  int batchCrc32c) {

        int frameSize() {
            return LENGTH_FIELD_SIZE + frameLength;
        }

        int recordsSize() {
            return frameLength - MIN_FRAME_LENGTH;
        }

        long nextOffset() {
            return baseOffset + recordCount;
        }
    }

    static int frameSize(int recordsSize) {
        return HEADER_SIZE + recordsSize;
    }

    /** The 32-byte header of a frame for these fields, CRC included; position 0, limit 32, array-backed. */
    static ByteBuffer encodeHeader(long baseOffset, int recordCount, long appendTimeMs, int batchCrc32c,
                                   byte[] records) {
        return encodeHeader(baseOffset, recordCount, appendTimeMs, batchCrc32c, ByteBuffer.wrap(records));
    }

    /** The header of a frame holding {@code records} (its remaining bytes; the position does not move). */
    static ByteBuffer encodeHeader(long baseOffset, int recordCount, long appendTimeMs, int batchCrc32c,
                                   ByteBuffer records) {
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
        header.putInt(0, MIN_FRAME_LENGTH + records.remaining())
                .putLong(8, baseOffset)
                .putInt(16, recordCount)
                .putLong(20, appendTimeMs)
                .putInt(28, batchCrc32c);
        header.putInt(4, crc(header.array(), records));
        return header;
    }

    /** The whole frame of {@code batch} in one buffer, ready to read. */
    static ByteBuffer encode(StoredBatch batch) {
        byte[] records = batch.records();
        ByteBuffer frame = ByteBuffer.allocate(frameSize(records.length));
        frame.put(encodeHeader(batch.baseOffset(), batch.recordCount(), batch.appendTimeMs(), batch.batchCrc32c(),
                records));
        frame.put(records);
        return frame.flip();
    }

    /** Decodes the 32 bytes at {@code buf}'s position without checking anything; does not move the position. */
    static Header decodeHeader(ByteBuffer buf) {
        int p = buf.position();
        return new Header(buf.getInt(p), buf.getInt(p + 4), buf.getLong(p + 8), buf.getInt(p + 16),
                buf.getLong(p + 20), buf.getInt(p + 28));
    }

    /**
     * Why a frame with this header cannot be valid when {@code available} bytes (counted from the frame start) are
     * readable, or null if its length is plausible.
     */
    static String checkLength(Header header, long available) {
        if (header.frameLength() < MIN_FRAME_LENGTH) {
            return "frame length " + header.frameLength() + " is below the minimum " + MIN_FRAME_LENGTH;
        }
        if ((long) LENGTH_FIELD_SIZE + header.frameLength() > available) {
            return "frame length " + header.frameLength() + " runs past the end of the data ("
                    + (available - LENGTH_FIELD_SIZE) + " bytes follow the length field)";
        }
        return null;
    }

    /** CRC-32C over header positions 8..32 and the records, i.e. what {@code frameCrc32c} must equal. */
    static int crc(byte[] header, byte[] records) {
        return crc(header, records, records.length);
    }

    static int crc(byte[] header, ByteBuffer records) {
        CRC32C crc = new CRC32C();
        crc.update(header, CRC_START, HEADER_SIZE - CRC_START);
        crc.update(records.duplicate());
        return (int) crc.getValue();
    }

    static int crc(byte[] header, byte[] records, int recordsLength) {
        CRC32C crc = new CRC32C();
        crc.update(header, CRC_START, HEADER_SIZE - CRC_START);
        crc.update(records, 0, recordsLength);
        return (int) crc.getValue();
    }

    /**
     * Decodes one whole frame starting at {@code frame}'s position, checking length and CRC.
     *
     * @throws IllegalArgumentException if the frame is short, has a bad length or fails its CRC
     */
    static StoredBatch decode(ByteBuffer frame) {
        if (frame.remaining() < HEADER_SIZE) {
            throw new IllegalArgumentException("short frame: " + frame.remaining() + " bytes");
        }
        Header h = decodeHeader(frame);
        String problem = checkLength(h, frame.remaining());
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        byte[] header = new byte[HEADER_SIZE];
        frame.get(header);
        byte[] records = new byte[h.recordsSize()];
        frame.get(records);
        if (crc(header, records) != h.frameCrc32c()) {
            throw new IllegalArgumentException("frame CRC mismatch");
        }
        return toBatch(h, records);
    }

    static StoredBatch toBatch(Header h, byte[] records) {
        return new StoredBatch(h.baseOffset(), h.recordCount(), h.appendTimeMs(), h.batchCrc32c(), records);
    }
}
