package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class RecordCodecTest {

  private static List<Record> records(List<byte[]> values) {
    List<Record> rs = new ArrayList<>();
    long ts = 1_700_000_000_000L;
    for (byte[] v : values) {
      rs.add(Record.newBuilder().setKey(ByteString.copyFromUtf8("k" + rs.size()))
          .setValue(ByteString.copyFrom(v)).setTimestampMs(ts++).build());
    }
    return rs;
  }

  @Property
  void roundTrip(@ForAll @Size(min = 1, max = 20) List<byte[]> values) {
    List<Record> rs = records(values);
    RecordCodec.Encoded enc = RecordCodec.encode(rs);
    assertEquals(rs.size(), enc.count());
    CRC32C crc = new CRC32C();
    crc.update(enc.bytes().toByteArray());
    assertEquals((int) crc.getValue(), enc.crc32c(), "CRC-32C of exactly the serialized bytes");
    assertEquals(rs, RecordCodec.decode(enc.bytes(), enc.crc32c(), enc.count(), "test"));
  }

  @Property
  void anyFlippedBitIsRejected(@ForAll @Size(min = 1, max = 5) List<byte[]> values,
      @ForAll @IntRange(min = 0, max = 1_000_000) int where, @ForAll @IntRange(min = 0, max = 7) int bit) {
    RecordCodec.Encoded enc = RecordCodec.encode(records(values));
    byte[] bytes = enc.bytes().toByteArray();
    bytes[where % bytes.length] ^= (byte) (1 << bit);
    RatislogException e = assertThrows(RatislogException.class,
        () -> RecordCodec.decode(ByteString.copyFrom(bytes), enc.crc32c(), enc.count(), "test"));
    assertEquals(ErrorCode.CORRUPT_BATCH, e.code());
  }

  @Test
  void wrongCountIsRejected() {
    RecordCodec.Encoded enc = RecordCodec.encode(records(List.of(new byte[] {1}, new byte[] {2})));
    RatislogException e = assertThrows(RatislogException.class,
        () -> RecordCodec.decode(enc.bytes(), enc.crc32c(), 3, "test"));
    assertEquals(ErrorCode.CORRUPT_BATCH, e.code());
  }

  @Test
  void undecodableBytesWithMatchingCrcAreRejected() {
    ByteString junk = ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
    RatislogException e = assertThrows(RatislogException.class,
        () -> RecordCodec.decode(junk, RecordCodec.crc32c(junk), -1, "test"));
    assertEquals(ErrorCode.CORRUPT_BATCH, e.code());
  }
}
