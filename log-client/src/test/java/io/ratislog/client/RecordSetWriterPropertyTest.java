package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The writer's bytes are protobuf's own serialization of the same RecordSet, and its sizes add up to them. */
class RecordSetWriterPropertyTest {
  record Input(byte[] key, byte[] value, long timestampMs) {
  }

  @Property(tries = 300)
  void writesWhatProtobufWrites(@ForAll("inputs") List<Input> inputs) {
    RecordSetWriter w = new RecordSetWriter(16);
    RecordSet.Builder expected = RecordSet.newBuilder();
    long sizes = 0;
    for (Input in : inputs) {
      w.append(in.key(), in.value(), in.timestampMs());
      sizes += RecordSetWriter.encodedSize(in.key(), in.value(), in.timestampMs());
      expected.addRecords(Record.newBuilder().setKey(in.key() == null ? ByteString.EMPTY : ByteString.copyFrom(in.key()))
          .setValue(ByteString.copyFrom(in.value())).setTimestampMs(in.timestampMs()));
    }
    assertEquals(expected.build().toByteString(), w.toByteString());
    assertEquals(sizes, w.sizeBytes());
    assertEquals(inputs.size(), w.count());
  }

  @Provide
  Arbitrary<List<Input>> inputs() {
    Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<Long> ts = Arbitraries.oneOf(Arbitraries.just(0L), Arbitraries.longs());
    return Combinators.combine(bytes.injectNull(0.3), bytes, ts).as(Input::new).list().ofMaxSize(40);
  }
}
