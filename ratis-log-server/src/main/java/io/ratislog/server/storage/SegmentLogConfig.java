package io.ratislog.server.storage;

/**
 * Tuning of a {@link SegmentLog}.
 *
 * @param segmentBytes       soft size limit of a segment's data file: an append rolls to a new segment when the
 *                           active one already holds at least this many bytes, so a segment may exceed it by one
 *                           batch. Between 1 and {@link Integer#MAX_VALUE} (file positions are indexed as int32).
 * @param indexIntervalBytes a sparse index entry is added once at least this many data bytes were written since
 *                           the previous entry (or the segment start); at least 1
 */
public record SegmentLogConfig(long segmentBytes, int indexIntervalBytes) {

    public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
    public static final int DEFAULT_INDEX_INTERVAL_BYTES = 4096;

    public SegmentLogConfig {
        if (segmentBytes < 1 || segmentBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("segmentBytes must be in [1, 2^31-1]: " + segmentBytes);
        }
        if (indexIntervalBytes < 1) {
            throw new IllegalArgumentException("indexIntervalBytes must be >= 1: " + indexIntervalBytes);
        }
    }

    /** 64 MiB segments, an index entry every 4 KiB. */
    public static SegmentLogConfig defaults() {
        return new SegmentLogConfig(DEFAULT_SEGMENT_BYTES, DEFAULT_INDEX_INTERVAL_BYTES);
    }
}
