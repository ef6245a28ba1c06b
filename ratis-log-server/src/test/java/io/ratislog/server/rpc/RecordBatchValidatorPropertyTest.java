package io.ratislog.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.ratislog.client.CompressionType;
import io.ratislog.client.RecordCompression;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Header;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.util.List;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The validator walks the record bytes without building them; it must decide exactly as a full
 * {@code RecordSet.parseFrom} followed by the count and size checks would, for valid batches and for damaged ones
 * (bytes flipped, cut, or inserted after the CRC was computed over them, so only the decoding can catch them).
 */
class RecordBatchValidatorPropertyTest {
  private static final int MAX_RECORD = 200;
  private final RecordBatchValidator validator = new RecordBatchValidator(1 << 20, MAX_RECORD);

  @Property(tries = 400)
  void agreesWithAFullParse(@ForAll("records") List<Record> records, @ForAll("damage") int[] damage) {
    byte[] bytes = RecordSet.newBuilder().addAllRecords(records).build().toByteArray();
    bytes = damaged(bytes, damage);
    if (bytes.length == 0) {
      return;
    }
    int claimed = records.size() + (damage[0] == 3 ? 1 : 0);
    ProduceRequest r = request(bytes, claimed);
    assertEquals(expected(bytes, claimed), code(validator.check(r)), "batch of " + bytes.length + " bytes");
  }

  @Property(tries = 200)
  void checksACompressedBatchAsItsPlainRecords(@ForAll("records") List<Record> records,
                                               @ForAll CompressionType type, @ForAll("damage") int[] damage) {
    byte[] plain = RecordSet.newBuilder().addAllRecords(records).build().toByteArray();
    byte[] sent = RecordCompression.compress(type, ByteString.copyFrom(plain)).toByteArray();
    int claimed = records.size() + (damage[0] == 3 ? 1 : 0);
    assertEquals(expected(plain, claimed), code(validator.check(request(sent, claimed))), type.toString());
    byte[] bad = damaged(sent, damage);
    if (bad.length > 0 && type != CompressionType.NONE && damage[0] != 0 && damage[0] != 3
        && !java.util.Arrays.equals(bad, sent)) {
      // The CRC guards the bytes; here it was computed over the damage, so only decoding can object. A codec
      // without a checksum of its own (zstd's frames, LZ4's blocks) may decode damaged literals to other valid
      // records: what must never happen is an error other than these.
      ErrorCode got = code(validator.check(request(bad, claimed)));
      assertTrue(got == ErrorCode.NONE || got == ErrorCode.CORRUPT_BATCH || got == ErrorCode.RECORD_TOO_LARGE,
          type + ": " + got);
    }
  }

  @Property(tries = 50)
  void aBatchThatExpandsPastMaxBatchBytesIsRefused(@ForAll CompressionType type) {
    byte[] plain = RecordSet.newBuilder().addRecords(Record.newBuilder()
        .setValue(ByteString.copyFrom(new byte[3_000]))).build().toByteArray();
    RecordBatchValidator small = new RecordBatchValidator(2_000, 10_000);
    byte[] sent = RecordCompression.compress(type, ByteString.copyFrom(plain)).toByteArray();
    assertEquals(ErrorCode.RECORD_TOO_LARGE, code(small.check(request(sent, 1))));
  }

  /**
   * A record whose bytes re-encode shorter (here a zero timestamp written out, which proto3 drops) is measured
   * as sent: the stored batch holds the bytes as sent. The full-parse oracle once measured the re-encoding and
   * disagreed with the validator on a damaged batch of this kind (CI, 2026-12-04).
   */
  @Example
  void aRecordIsMeasuredAsSentNotAsReencoded() throws java.io.IOException {
    byte[] value = Record.newBuilder().setValue(ByteString.copyFrom(new byte[MAX_RECORD - 3])).build().toByteArray();
    java.io.ByteArrayOutputStream recordBytes = new java.io.ByteArrayOutputStream();
    recordBytes.write(value);
    recordBytes.write(new byte[] {(Record.TIMESTAMP_MS_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_VARINT, 0});
    byte[] record = recordBytes.toByteArray();
    assertTrue(record.length > MAX_RECORD && Record.parseFrom(record).getSerializedSize() <= MAX_RECORD);
    java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
    com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(batch);
    out.writeByteArray(RecordSet.RECORDS_FIELD_NUMBER, record);
    out.flush();
    assertEquals(ErrorCode.RECORD_TOO_LARGE, expected(batch.toByteArray(), 1));
    assertEquals(ErrorCode.RECORD_TOO_LARGE, code(validator.check(request(batch.toByteArray(), 1))));
  }

  private static ProduceRequest request(byte[] bytes, int count) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return ProduceRequest.newBuilder().setTopic("t").setRecords(ByteString.copyFrom(bytes))
        .setCrc32C((int) crc.getValue()).setRecordCount(count).build();
  }

  /** What a full parse decides; a plain batch must not hold the compressed form's fields (2 and 3). */
  private static ErrorCode expected(byte[] bytes, int count) {
    RecordSet set;
    int largest = 0; // as sent: a record's size is its bytes on the wire, not its re-encoding
    try {
      set = RecordSet.parseFrom(bytes);
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (WireFormat.getTagFieldNumber(tag) != RecordSet.RECORDS_FIELD_NUMBER) {
          return ErrorCode.CORRUPT_BATCH;
        }
        int size = in.readRawVarint32();
        in.skipRawBytes(size);
        largest = Math.max(largest, size);
      }
    } catch (java.io.IOException e) {
      return ErrorCode.CORRUPT_BATCH;
    }
    if (largest > MAX_RECORD) {
      return ErrorCode.RECORD_TOO_LARGE;
    }
    return set.getRecordsCount() == count ? ErrorCode.NONE : ErrorCode.CORRUPT_BATCH;
  }

  private static ErrorCode code(io.ratislog.proto.Error e) {
    return e == null ? ErrorCode.NONE : e.getCode();
  }

  /** damage = {kind, position, value}: 0 none, 1 flip a byte, 2 cut the tail, 3 claim one record more. */
  private static byte[] damaged(byte[] b, int[] d) {
    if (b.length == 0) {
      return b;
    }
    int pos = Math.floorMod(d[1], b.length);
    return switch (d[0]) {
      case 1 -> {
        byte[] c = b.clone();
        c[pos] = (byte) d[2];
        yield c;
      }
      case 2 -> java.util.Arrays.copyOf(b, pos);
      default -> b;
    };
  }

  @Provide
  Arbitrary<List<Record>> records() {
    Arbitrary<ByteString> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(120).map(ByteString::copyFrom);
    Arbitrary<Header> header = Combinators.combine(Arbitraries.strings().ofMaxLength(8), bytes)
        .as((k, v) -> Header.newBuilder().setKey(k).setValue(v).build());
    Arbitrary<Record> record = Combinators.combine(bytes, bytes, Arbitraries.longs().between(0, Long.MAX_VALUE),
        header.list().ofMaxSize(2)).as((k, v, ts, hs) -> Record.newBuilder().setKey(k).setValue(v).setTimestampMs(ts)
        .addAllHeaders(hs).build());
    return record.list().ofMinSize(1).ofMaxSize(6);
  }

  @Provide
  Arbitrary<int[]> damage() {
    return Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers(),
        Arbitraries.integers().between(0, 255)).as((k, p, v) -> new int[] {k, p, v});
  }
}
