package io.ratislog.client;

import io.ratislog.proto.Compression;
import java.util.Locale;

/**
 * How a producer compresses its batches ({@code compression.type}, as in Kafka). The codec is chosen per batch and
 * travels in the batch, so producers with different settings can write to one partition and every consumer reads
 * them all; the server stores batches as they were sent and decompresses only to check them.
 */
public enum CompressionType {
  /** Batches are sent as they are. */
  NONE(Compression.UNCOMPRESSED),
  /** DEFLATE in the gzip format (the JDK's); the smallest output of the four and the slowest. */
  GZIP(Compression.GZIP),
  /** LZ4 frame format; the fastest, for CPU-bound producers and consumers. */
  LZ4(Compression.LZ4),
  /** Zstandard at its default level; close to gzip's ratio at a fraction of its cost. */
  ZSTD(Compression.ZSTD);

  private final Compression wire;

  CompressionType(Compression wire) {
    this.wire = wire;
  }

  /** The codec's value in a batch. */
  public Compression wire() {
    return wire;
  }

  /**
   * The type named {@code name}, case-insensitively ({@code none}, {@code gzip}, {@code lz4}, {@code zstd}).
   *
   * @throws IllegalArgumentException for any other name, listing the valid ones
   */
  public static CompressionType parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown compression type '" + name + "': use none, gzip, lz4 or zstd", e);
    }
  }
}
