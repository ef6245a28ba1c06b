package io.ratislog.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/** Encodes records into the wire {@link RecordSet} bytes with their CRC-32C, and back. */
public final class RecordCodec {
  private RecordCodec() {}

  /**
   * A serialized {@link RecordSet}, its CRC-32C and its record count.
   *
   * @param bytes  the serialized RecordSet
   * @param crc32c CRC-32C of {@code bytes}, as the unsigned 32 bits of an int
   * @param count  the number of records
   */
  public record Encoded(ByteString bytes, int crc32c, int count) {}

  /**
   * Serializes records as a RecordSet and computes its CRC-32C.
   *
   * @param records the records, in order
   * @return the encoded batch
   */
  public static Encoded encode(List<Record> records) {
    ByteString bytes = RecordSet.newBuilder().addAllRecords(records).build().toByteString();
    return new Encoded(bytes, crc32c(bytes), records.size());
  }

  /**
   * CRC-32C (Castagnoli) of the bytes.
   *
   * @param bytes the bytes
   * @return the checksum as the unsigned 32 bits of an int
   */
  public static int crc32c(ByteString bytes) {
    CRC32C crc = new CRC32C();
    for (ByteBuffer b : bytes.asReadOnlyByteBufferList()) {
      crc.update(b);
    }
    return (int) crc.getValue();
  }

  /**
   * Verifies the CRC-32C and the record count, then decodes the records.
   *
   * @param bytes         the serialized RecordSet
   * @param crc32c        the expected CRC-32C
   * @param expectedCount the expected number of records, or a negative number to skip that check
   * @param what          a description of the batch for error messages
   * @return the records
   * @throws RatislogException with {@link ErrorCode#CORRUPT_BATCH} on any mismatch
   */
  public static List<Record> decode(ByteString bytes, int crc32c, int expectedCount, String what) {
    int actual = crc32c(bytes);
    if (actual != crc32c) {
      throw new RatislogException(ErrorCode.CORRUPT_BATCH, String.format(
          "CRC-32C mismatch in %s: expected %08x, computed %08x", what, crc32c, actual));
    }
    RecordSet set;
    try {
      set = RecordSet.parseFrom(RecordCompression.records(bytes, RecordCompression.MAX_PLAIN_BYTES, what));
    } catch (InvalidProtocolBufferException e) {
      throw new RatislogException(ErrorCode.CORRUPT_BATCH, "undecodable record set in " + what, e);
    }
    if (expectedCount >= 0 && set.getRecordsCount() != expectedCount) {
      throw new RatislogException(ErrorCode.CORRUPT_BATCH, String.format(
          "%s claims %d records but holds %d", what, expectedCount, set.getRecordsCount()));
    }
    return set.getRecordsList();
  }

  /**
   * Verifies and decodes one fetched batch into consumer records, keeping those at or after
   * {@code fromOffset}.
   *
   * @param tp         the partition the batch came from
   * @param batch      the batch
   * @param fromOffset the first offset wanted
   * @return the records, in offset order
   * @throws RatislogException CORRUPT_BATCH when the CRC or the record count does not match
   */
  public static List<ConsumerRecord> toConsumerRecords(TopicPartition tp, io.ratislog.proto.FetchedBatch batch,
                                                       long fromOffset) {
    String what = "batch at offset " + batch.getBaseOffset() + " of " + tp;
    ByteString bytes = batch.getRecords();
    int actual = crc32c(bytes);
    if (actual != batch.getCrc32C()) {
      throw new RatislogException(ErrorCode.CORRUPT_BATCH, String.format(
          "CRC-32C mismatch in %s: expected %08x, computed %08x", what, batch.getCrc32C(), actual));
    }
    bytes = RecordCompression.records(bytes, RecordCompression.MAX_PLAIN_BYTES, what);
    // Straight from the wire format into the records' arrays: one copy of each key and value, no Record objects.
    List<ConsumerRecord> out = new java.util.ArrayList<>(batch.getRecordCount());
    int count = 0;
    try {
      com.google.protobuf.CodedInputStream in = bytes.newCodedInput();
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag != RECORD_TAG) {
          in.skipField(tag);
          continue;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        byte[] key = null;
        byte[] value = EMPTY;
        long timestampMs = 0;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
          switch (t) {
            case KEY_TAG -> key = in.readByteArray();
            case VALUE_TAG -> value = in.readByteArray();
            case TIMESTAMP_TAG -> timestampMs = in.readInt64();
            case HEADER_TAG -> io.ratislog.proto.Header.parseFrom(in.readBytes()); // checked as a parse would
            default -> in.skipField(t);
          }
        }
        in.popLimit(limit);
        long offset = batch.getBaseOffset() + count++;
        if (offset >= fromOffset) {
          out.add(new ConsumerRecord(tp.topic(), tp.partition(), offset, key == null || key.length == 0 ? null : key,
              value, timestampMs, batch.getLogAppendTimeMs()));
        }
      }
    } catch (java.io.IOException e) {
      throw new RatislogException(ErrorCode.CORRUPT_BATCH, "undecodable record set in " + what, e);
    }
    if (count != batch.getRecordCount()) {
      throw new RatislogException(ErrorCode.CORRUPT_BATCH, String.format(
          "%s claims %d records but holds %d", what, batch.getRecordCount(), count));
    }
    return out;
  }

  private static final byte[] EMPTY = new byte[0];
  private static final int RECORD_TAG = RecordSet.RECORDS_FIELD_NUMBER << 3 | 2;
  private static final int KEY_TAG = Record.KEY_FIELD_NUMBER << 3 | 2;
  private static final int VALUE_TAG = Record.VALUE_FIELD_NUMBER << 3 | 2;
  private static final int TIMESTAMP_TAG = Record.TIMESTAMP_MS_FIELD_NUMBER << 3;
  private static final int HEADER_TAG = Record.HEADERS_FIELD_NUMBER << 3 | 2;
}
