package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.ratislog.server.entries.AppendEntry;
import io.ratislog.server.entries.PartitionEntry;
import java.nio.charset.StandardCharsets;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.junit.jupiter.api.Test;

class ShadedBytesTest {
  private static final byte[] RECORDS = "records of a batch, as a producer sent them".getBytes(StandardCharsets.US_ASCII);

  private static PartitionEntry entry() {
    return PartitionEntry.newBuilder().setAppend(AppendEntry.newBuilder()
        .setRecords(ByteString.copyFrom(RECORDS)).setRecordCount(3).setProducerId(7)).build();
  }

  /** The applied entry's records are a view of the Raft entry's bytes: apply writes them without a copy. */
  @Test
  void parseSharedAliasesTheBytesFieldsInsteadOfCopyingThem() throws Exception {
    byte[] serialized = entry().toByteArray();
    PartitionEntry parsed = ShadedBytes.parseShared(PartitionEntry.parser(), UnsafeByteOperations.unsafeWrap(serialized));
    assertArrayEquals(RECORDS, parsed.getAppend().getRecords().toByteArray());

    int at = indexOf(serialized, RECORDS);
    serialized[at] = '#';
    assertEquals('#', parsed.getAppend().getRecords().byteAt(0), "records were copied, not shared");
  }

  @Test
  void parseSharedReadsAnEntrySplitOverSeveralChunks() throws Exception {
    byte[] serialized = entry().toByteArray();
    int half = serialized.length / 2;
    var rope = UnsafeByteOperations.unsafeWrap(serialized, 0, half)
        .concat(UnsafeByteOperations.unsafeWrap(serialized, half, serialized.length - half));
    assertEquals(entry(), ShadedBytes.parseShared(PartitionEntry.parser(), rope));
  }

  @Test
  void parseSharedReadsAnEntryAtAnOffsetIntoItsArray() throws Exception {
    byte[] serialized = entry().toByteArray();
    byte[] padded = new byte[serialized.length + 10];
    System.arraycopy(serialized, 0, padded, 5, serialized.length);
    assertEquals(entry(), ShadedBytes.parseShared(PartitionEntry.parser(),
        UnsafeByteOperations.unsafeWrap(padded, 5, serialized.length)));
  }

  private static int indexOf(byte[] in, byte[] what) {
    outer:
    for (int i = 0; i + what.length <= in.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (in[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
