package io.ratislog.server.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.ratislog.proto.Header;
import com.google.protobuf.InvalidProtocolBufferException;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordCompression;
import java.util.zip.CRC32C;

/**
 * Checks a produce request's batch on the leader before it is proposed: sizes, the CRC-32C over the record
 * bytes, and that the bytes decode (decompressed, for a compressed batch, to at most {@code max.batch.bytes}) to
 * exactly {@code record_count} records. A batch that passes is stored as
 * sent; a batch that fails costs nothing but the error.
 */
final class RecordBatchValidator {
  private final int maxBatchBytes;
  private final int maxRecordBytes;

  RecordBatchValidator(int maxBatchBytes, int maxRecordBytes) {
    this.maxBatchBytes = maxBatchBytes;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** The error to answer with, or null when the batch may be proposed. */
  Error check(ProduceRequest r) {
    ByteString records = r.getRecords();
    if (r.getRecordCount() <= 0) {
      return Errors.of(ErrorCode.INVALID_REQUEST, "record_count must be >= 1, got " + r.getRecordCount());
    }
    if (records.isEmpty()) {
      return Errors.of(ErrorCode.INVALID_REQUEST, "records is empty");
    }
    if (records.size() > maxBatchBytes) {
      return Errors.of(ErrorCode.RECORD_TOO_LARGE,
          "batch of " + records.size() + " bytes exceeds max.batch.bytes=" + maxBatchBytes);
    }
    if (r.getTimeoutMs() < 0) {
      return Errors.of(ErrorCode.INVALID_REQUEST, "timeout_ms must be >= 0, got " + r.getTimeoutMs());
    }
    CRC32C crc = new CRC32C();
    crc.update(records.asReadOnlyByteBuffer());
    if ((int) crc.getValue() != r.getCrc32C()) {
      return Errors.of(ErrorCode.CORRUPT_BATCH, String.format(
          "CRC-32C of the records is %08x, the request says %08x", (int) crc.getValue(), r.getCrc32C()));
    }
    ByteString plain;
    try {
      plain = RecordCompression.records(records, maxBatchBytes, "the batch");
    } catch (RatislogException e) {
      return Errors.of(e.code(), e.getMessage());
    }
    try {
      return scan(plain, r.getRecordCount());
    } catch (InvalidProtocolBufferException e) {
      return Errors.of(ErrorCode.CORRUPT_BATCH, "records do not decode as a RecordSet: " + e.getMessage());
    }
  }

  /**
   * Walks the RecordSet's wire format without building it: decodes exactly what {@code RecordSet.parseFrom} would
   * (every field of every record, headers fully, unknown fields skipped as protobuf skips them) and checks each
   * record's size and the count.
   *
   * @return the error to answer with, or null
   * @throws InvalidProtocolBufferException where parsing the RecordSet would fail
   */
  private Error scan(ByteString records, int expectedCount) throws InvalidProtocolBufferException {
    try {
      CodedInputStream in = records.newCodedInput();
      int count = 0;
      Error tooLarge = null; // answered only if the whole batch decodes, as a parse would decide
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag != RECORD_TAG) {
          int field = WireFormat.getTagFieldNumber(tag);
          if (field == RecordSet.COMPRESSION_FIELD_NUMBER || field == RecordSet.COMPRESSED_FIELD_NUMBER) {
            return Errors.of(ErrorCode.CORRUPT_BATCH, "a batch holds either records or one compressed record set"
                + " (its codec first), not both, and a compressed set holds plain records");
          }
          in.skipField(tag);
          continue;
        }
        int size = in.readRawVarint32();
        int limit = in.pushLimit(size);
        checkRecord(in);
        in.popLimit(limit);
        if (size > maxRecordBytes && tooLarge == null) {
          tooLarge = Errors.of(ErrorCode.RECORD_TOO_LARGE,
              "record " + count + " has " + size + " bytes, more than max.record.bytes=" + maxRecordBytes);
        }
        count++;
      }
      if (tooLarge != null) {
        return tooLarge;
      }
      if (count != expectedCount) {
        return Errors.of(ErrorCode.CORRUPT_BATCH, "record_count says " + expectedCount + " but the batch holds " + count);
      }
      return null;
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (java.io.IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
  }

  /** Decodes one Record's fields up to the current limit (headers fully: their keys must be UTF-8). */
  private static void checkRecord(CodedInputStream in) throws java.io.IOException {
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == HEADER_TAG) {
        Header.parseFrom(in.readBytes());
      } else {
        in.skipField(tag);
      }
    }
  }

  private static final int RECORD_TAG = RecordSet.RECORDS_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int HEADER_TAG = Record.HEADERS_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
}
