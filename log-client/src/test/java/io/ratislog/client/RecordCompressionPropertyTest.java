package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ratislog.proto.Compression;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Every codec gives back exactly the records it was given; damaged compressed data (its CRC recomputed, so only the
 * decoding can catch it) decodes or is refused as CORRUPT_BATCH or RECORD_TOO_LARGE, never with another exception
 * (the CRC, not the codec, is what catches damage); and a batch
 * that decompresses past the limit is refused without being decompressed whole.
 */
class RecordCompressionPropertyTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);

  private static FetchedBatch fetched(ByteString bytes, int count) {
    return FetchedBatch.newBuilder().setBaseOffset(10).setRecordCount(count).setLogAppendTimeMs(3).setRecords(bytes)
        .setCrc32C(RecordCodec.crc32c(bytes)).build();
  }

  @Property(tries = 300)
  void everyCodecGivesBackTheRecords(@ForAll("records") List<Record> records, @ForAll CompressionType type) {
    ByteString plain = RecordSet.newBuilder().addAllRecords(records).build().toByteString();
    ByteString sent = RecordCompression.compress(type, plain);
    assertEquals(plain, RecordCompression.records(sent, plain.size(), "batch"));
    List<ConsumerRecord> got = RecordCodec.toConsumerRecords(TP, fetched(sent, records.size()), 10);
    assertEquals(records.size(), got.size());
    for (int i = 0; i < records.size(); i++) {
      Record r = records.get(i);
      assertEquals(10 + i, got.get(i).offset());
      assertArrayEquals(r.getKey().isEmpty() ? null : r.getKey().toByteArray(), got.get(i).key());
      assertArrayEquals(r.getValue().toByteArray(), got.get(i).value());
      assertEquals(r.getTimestampMs(), got.get(i).timestampMs());
    }
    assertEquals(records, RecordCodec.decode(sent, RecordCodec.crc32c(sent), records.size(), "batch"));
  }

  @Property(tries = 300)
  void damagedCompressedDataIsRefusedAsCorrupt(@ForAll("records") List<Record> records,
                                                @ForAll("codecs") CompressionType type,
                                                @ForAll("damage") int[] damage) {
    ByteString plain = RecordSet.newBuilder().addAllRecords(records).build().toByteString();
    byte[] bytes = RecordCompression.compress(type, plain).toByteArray();
    if (damage[0] == 0) {
      bytes[Math.floorMod(damage[1], bytes.length)] = (byte) damage[2];
    } else {
      bytes = java.util.Arrays.copyOf(bytes, Math.floorMod(damage[1], bytes.length));
    }
    ByteString damaged = ByteString.copyFrom(bytes);
    try {
      RecordCodec.toConsumerRecords(TP, fetched(damaged, records.size()), 10);
    } catch (RatislogException e) {
      assertTrue(e.code() == ErrorCode.CORRUPT_BATCH || e.code() == ErrorCode.RECORD_TOO_LARGE, e.toString());
    }
  }

  @Example
  void aBatchThatExpandsPastTheLimitIsRefused() {
    byte[] value = "x".repeat(100_000).getBytes(StandardCharsets.UTF_8);
    ByteString plain = RecordSet.newBuilder().addRecords(Record.newBuilder().setValue(ByteString.copyFrom(value)))
        .build().toByteString();
    for (CompressionType type : List.of(CompressionType.GZIP, CompressionType.LZ4, CompressionType.ZSTD)) {
      ByteString sent = RecordCompression.compress(type, plain);
      assertTrue(sent.size() < 2_000, type + " left " + sent.size() + " bytes");
      RatislogException e = assertThrows(RatislogException.class,
          () -> RecordCompression.records(sent, 50_000, "batch"));
      assertEquals(ErrorCode.RECORD_TOO_LARGE, e.code(), e.getMessage());
      assertEquals(plain, RecordCompression.records(sent, plain.size(), "batch"));
    }
  }

  @Example
  void anUnknownCodecOrAMalformedWrapperIsCorrupt() {
    ByteString unknown = RecordSet.newBuilder().setCompressionValue(9).setCompressed(ByteString.copyFromUtf8("abc"))
        .build().toByteString();
    assertEquals(ErrorCode.CORRUPT_BATCH, assertThrows(RatislogException.class,
        () -> RecordCompression.records(unknown, 1_000, "batch")).code());
    ByteString noData = RecordSet.newBuilder().setCompression(Compression.LZ4).build().toByteString();
    assertEquals(ErrorCode.CORRUPT_BATCH, assertThrows(RatislogException.class,
        () -> RecordCompression.records(noData, 1_000, "batch")).code());
    ByteString trailing = RecordCompression.compress(CompressionType.ZSTD, ByteString.EMPTY)
        .concat(RecordSet.newBuilder().addRecords(Record.getDefaultInstance()).build().toByteString());
    assertEquals(ErrorCode.CORRUPT_BATCH, assertThrows(RatislogException.class,
        () -> RecordCompression.records(trailing, 1_000, "batch")).code());
  }

  @Example
  void namesAreKafkas() {
    assertEquals(CompressionType.LZ4, CompressionType.parse(" lz4"));
    assertEquals(CompressionType.ZSTD, CompressionType.parse("ZSTD"));
    assertThrows(IllegalArgumentException.class, () -> CompressionType.parse("snappy"));
  }

  @Provide
  Arbitrary<List<Record>> records() {
    Arbitrary<ByteString> bytes = Arbitraries.oneOf(
        Arbitraries.bytes().array(byte[].class).ofMaxSize(80).map(ByteString::copyFrom),
        Arbitraries.strings().withChars("abc").ofMaxLength(300).map(ByteString::copyFromUtf8));
    return Combinators.combine(bytes, bytes, Arbitraries.longs())
        .as((k, v, ts) -> Record.newBuilder().setKey(k).setValue(v).setTimestampMs(ts).build())
        .list().ofMaxSize(8);
  }

  @Provide
  Arbitrary<CompressionType> codecs() {
    return Arbitraries.of(CompressionType.GZIP, CompressionType.LZ4, CompressionType.ZSTD);
  }

  @Provide
  Arbitrary<int[]> damage() {
    return Combinators.combine(Arbitraries.integers().between(0, 1), Arbitraries.integers(),
        Arbitraries.integers().between(0, 255)).as((k, p, v) -> new int[] {k, p, v});
  }
}
