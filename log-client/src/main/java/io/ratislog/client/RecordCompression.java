package io.ratislog.client;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.ratislog.proto.Compression;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.RecordSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

/**
 * Compressed batches. A batch's bytes are a serialized {@link RecordSet}: either the records themselves, or, when
 * compressed, a RecordSet whose only fields are {@code compression} (written first) and {@code compressed}, the
 * codec's encoding of the plain RecordSet. The CRC-32C covers the bytes as sent, so a damaged compressed batch is
 * caught before anything is decompressed. The server stores a batch as it was sent; it decompresses only to check
 * it, and refuses one whose plain RecordSet is larger than its {@code max.batch.bytes}.
 */
public final class RecordCompression {
  private static final int COMPRESSION_TAG = RecordSet.COMPRESSION_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_VARINT;
  private static final int COMPRESSED_TAG =
      RecordSet.COMPRESSED_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int ZSTD_LEVEL = 3;
  /** The largest plain RecordSet a reader decompresses (the largest Java array). */
  public static final int MAX_PLAIN_BYTES = Integer.MAX_VALUE - 16;

  private RecordCompression() {}

  /**
   * A batch of the records in {@code recordSet}, compressed with {@code type}.
   *
   * @param type      the codec; {@link CompressionType#NONE} returns {@code recordSet} itself
   * @param recordSet a serialized plain RecordSet
   * @return the batch's bytes
   */
  public static ByteString compress(CompressionType type, ByteString recordSet) {
    if (type == CompressionType.NONE) {
      return recordSet;
    }
    ByteString compressed = type == CompressionType.ZSTD
        ? UnsafeByteOperations.unsafeWrap(Zstd.compress(recordSet.toByteArray(), ZSTD_LEVEL))
        : streamed(type, recordSet);
    return RecordSet.newBuilder().setCompression(type.wire()).setCompressed(compressed).build().toByteString();
  }

  /** {@code recordSet} through the codec's output stream (gzip, LZ4 frames). */
  private static ByteString streamed(CompressionType type, ByteString recordSet) {
    ByteString.Output out = ByteString.newOutput(Math.max(64, recordSet.size() / 2));
    try (OutputStream s = switch (type) {
      case GZIP -> new GZIPOutputStream(out, 64 * 1024);
      case LZ4 -> new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB);
      default -> throw new IllegalArgumentException("no stream codec for " + type);
    }) {
      recordSet.writeTo(s);
    } catch (IOException e) {
      throw new IllegalStateException("compressing in memory failed", e); // no I/O happens: a codec bug
    }
    return out.toByteString();
  }

  /**
   * The plain RecordSet of a batch: the batch itself when it is not compressed, else its decompressed content.
   *
   * @param batch    a batch's bytes, its CRC already checked
   * @param maxBytes the largest plain RecordSet accepted (at most {@link #MAX_PLAIN_BYTES})
   * @param what     the batch, for error messages
   * @return the serialized plain RecordSet
   * @throws RatislogException CORRUPT_BATCH when the compressed form is malformed, names an unknown codec or does
   *                           not decompress; RECORD_TOO_LARGE when it decompresses to more than {@code maxBytes}
   */
  public static ByteString records(ByteString batch, int maxBytes, String what) {
    CodedInputStream in = batch.newCodedInput();
    Compression codec;
    ByteString data;
    try {
      if (in.readTag() != COMPRESSION_TAG) {
        return batch;
      }
      int number = in.readEnum();
      codec = Compression.forNumber(number);
      if (codec == null || codec == Compression.UNCOMPRESSED) {
        throw corrupt(what + " names compression codec " + number + ", which this version does not know", null);
      }
      boolean hasData = in.readTag() == COMPRESSED_TAG;
      data = hasData ? in.readBytes() : null;
      if (!hasData || in.readTag() != 0) {
        throw corrupt(what + ": a compressed batch holds its codec, then its compressed data, and nothing else", null);
      }
    } catch (IOException e) {
      throw corrupt("undecodable compressed batch in " + what, e);
    }
    try (InputStream plain = decompressing(codec, data.newInput())) {
      return readAtMost(plain, Math.min(maxBytes, MAX_PLAIN_BYTES), what, codec);
    } catch (IOException | RuntimeException e) {
      if (e instanceof RatislogException re) {
        throw re;
      }
      throw corrupt(what + " does not decompress as " + codec + ": " + e.getMessage(), e);
    }
  }

  private static InputStream decompressing(Compression codec, InputStream in) throws IOException {
    return switch (codec) {
      case GZIP -> new GZIPInputStream(in, 64 * 1024);
      case LZ4 -> new LZ4FrameInputStream(in);
      case ZSTD -> new ZstdInputStreamNoFinalizer(in);
      default -> throw new IllegalArgumentException("no codec for " + codec);
    };
  }

  /** Reads the stream to its end, refusing more than {@code maxBytes} without reading further. */
  private static ByteString readAtMost(InputStream in, int maxBytes, String what, Compression codec)
      throws IOException {
    byte[] buf = new byte[(int) Math.min(64 * 1024L, maxBytes + 1L)];
    int n = 0;
    while (true) {
      if (n == buf.length) {
        if (n > maxBytes) {
          throw new RatislogException(ErrorCode.RECORD_TOO_LARGE, what + " decompresses (" + codec + ") to more than "
              + maxBytes + " bytes, the largest batch accepted");
        }
        buf = Arrays.copyOf(buf, (int) Math.min((long) n * 2, maxBytes + 1L));
      }
      int read = in.read(buf, n, buf.length - n);
      if (read < 0) {
        return UnsafeByteOperations.unsafeWrap(buf, 0, n); // buf is not touched again
      }
      n += read;
    }
  }

  private static RatislogException corrupt(String message, Throwable cause) {
    return new RatislogException(ErrorCode.CORRUPT_BATCH, message, cause);
  }
}
