package io.ratislog.server.storage;

import java.io.IOException;
import java.nio.file.Path;

/** A segment file holds bytes that are not a valid frame where one is expected (CRC mismatch, bad length, gap). */
public final class CorruptSegmentException extends IOException {

    private final Path file;
    private final long position;

    public CorruptSegmentException(Path file, long position, String reason) {
        super("Corrupt segment " + file + " at position " + position + ": " + reason);
        this.file = file;
        this.position = position;
    }

    /** The segment data file. */
    public Path file() {
        return file;
    }

    /** Byte position in {@link #file()} of the frame that failed. */
    public long position() {
        return position;
    }
}
