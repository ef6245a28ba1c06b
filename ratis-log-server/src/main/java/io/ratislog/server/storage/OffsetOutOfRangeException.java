package io.ratislog.server.storage;

/**
 * Unchecked: a read asked for an offset outside {@code [logStartOffset, logEndOffset]}. The bounds are the ones the
 * read observed; a fetch handler typically maps this to an error telling the client where the log starts and ends.
 */
public final class OffsetOutOfRangeException extends RuntimeException {

    private final long requestedOffset;
    private final long logStartOffset;
    private final long logEndOffset;

    public OffsetOutOfRangeException(long requestedOffset, long logStartOffset, long logEndOffset) {
        super("Offset " + requestedOffset + " is outside the log range [" + logStartOffset + ", " + logEndOffset + "]");
        this.requestedOffset = requestedOffset;
        this.logStartOffset = logStartOffset;
        this.logEndOffset = logEndOffset;
    }

    public long requestedOffset() {
        return requestedOffset;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return logEndOffset;
    }
}
