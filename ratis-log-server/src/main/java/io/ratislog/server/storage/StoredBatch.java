package io.ratislog.server.storage;

import java.util.Arrays;

/**
 * One batch as stored and read back.
 *
 * @param baseOffset   offset of the first record in the batch
 * @param recordCount  number of records in the batch, at least 1
 * @param appendTimeMs time the batch was appended, as given by the caller
 * @param batchCrc32c  the producer's CRC-32C over {@code records}; stored and returned, never checked by storage
 * @param records      the exact bytes the producer sent (an opaque serialized record set)
 */
public record StoredBatch(long baseOffset, int recordCount, long appendTimeMs, int batchCrc32c, byte[] records) {

    /** Offset of the batch that follows this one. */
    public long nextOffset() {
        return baseOffset + recordCount;
    }

    /** Value equality, comparing {@code records} by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof StoredBatch b
                && baseOffset == b.baseOffset
                && recordCount == b.recordCount
                && appendTimeMs == b.appendTimeMs
                && batchCrc32c == b.batchCrc32c
                && Arrays.equals(records, b.records);
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(baseOffset);
        h = 31 * h + recordCount;
        h = 31 * h + Long.hashCode(appendTimeMs);
        h = 31 * h + batchCrc32c;
        return 31 * h + Arrays.hashCode(records);
    }

    @Override
    public String toString() {
        return "StoredBatch[baseOffset=" + baseOffset + ", recordCount=" + recordCount
                + ", appendTimeMs=" + appendTimeMs + ", batchCrc32c=" + batchCrc32c
                + ", records=" + records.length + " bytes]";
    }
}
