package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.Header;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The consumer decodes fetched batches straight from the wire format; it must accept and refuse exactly what a
 * protobuf parse of the RecordSet accepts and refuses (damaged bytes carry a matching CRC here, so only the
 * decoding can catch them), and give the same records.
 */
class RecordDecodingPropertyTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);

  @Property(tries = 400)
  void decodesAsAProtobufParseWould(@ForAll("sets") RecordSet set, @ForAll("damage") int[] damage,
                                    @ForAll("from") int from) {
    byte[] bytes = set.toByteArray();
    if (damage[0] == 1 && bytes.length > 0) {
      bytes[Math.floorMod(damage[1], bytes.length)] = (byte) damage[2];
    } else if (damage[0] == 2 && bytes.length > 0) {
      bytes = java.util.Arrays.copyOf(bytes, Math.floorMod(damage[1], bytes.length));
    }
    ByteString b = ByteString.copyFrom(bytes);
    FetchedBatch batch = FetchedBatch.newBuilder().setBaseOffset(100).setRecordCount(set.getRecordsCount())
        .setLogAppendTimeMs(7).setRecords(b).setCrc32C(RecordCodec.crc32c(b)).build();
    List<Record> expected;
    try {
      expected = RecordCodec.decode(b, batch.getCrc32C(), batch.getRecordCount(), "batch");
    } catch (RatislogException e) {
      assertThrows(RatislogException.class, () -> RecordCodec.toConsumerRecords(TP, batch, 100));
      return;
    }
    List<ConsumerRecord> got = RecordCodec.toConsumerRecords(TP, batch, 100 + from);
    int skip = Math.min(from, expected.size());
    assertEquals(expected.size() - skip, got.size());
    for (int i = 0; i < got.size(); i++) {
      Record r = expected.get(i + skip);
      ConsumerRecord c = got.get(i);
      assertEquals(100 + i + skip, c.offset());
      assertArrayEquals(r.getKey().isEmpty() ? null : r.getKey().toByteArray(), c.key());
      assertArrayEquals(r.getValue().toByteArray(), c.value());
      assertEquals(r.getTimestampMs(), c.timestampMs());
      assertEquals(7, c.logAppendTimeMs());
    }
  }

  @Provide
  Arbitrary<RecordSet> sets() {
    Arbitrary<ByteString> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(60).map(ByteString::copyFrom);
    Arbitrary<Header> header = Combinators.combine(Arbitraries.strings().ofMaxLength(5), bytes)
        .as((k, v) -> Header.newBuilder().setKey(k).setValue(v).build());
    Arbitrary<Record> record = Combinators.combine(bytes, bytes, Arbitraries.longs(), header.list().ofMaxSize(2))
        .as((k, v, ts, hs) -> Record.newBuilder().setKey(k).setValue(v).setTimestampMs(ts).addAllHeaders(hs).build());
    return record.list().ofMaxSize(6).map(rs -> RecordSet.newBuilder().addAllRecords(rs).build());
  }

  @Provide
  Arbitrary<int[]> damage() {
    return Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.integers(),
        Arbitraries.integers().between(0, 255)).as((k, p, v) -> new int[] {k, p, v});
  }

  @Provide
  Arbitrary<Integer> from() {
    return Arbitraries.integers().between(0, 7);
  }
}
