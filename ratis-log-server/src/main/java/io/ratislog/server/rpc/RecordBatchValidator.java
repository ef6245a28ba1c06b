package io.ratislog.server.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.util.zip.CRC32C;

/**
 * Checks a produce request's batch on the leader before it is proposed: sizes, the CRC-32C over the record
 * bytes, and that the bytes decode to exactly {@code record_count} records. A batch that passes is stored as
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
    RecordSet set;
    try {
      set = RecordSet.parseFrom(records);
    } catch (InvalidProtocolBufferException e) {
      return Errors.of(ErrorCode.CORRUPT_BATCH, "records do not decode as a RecordSet: " + e.getMessage());
    }
    if (set.getRecordsCount() != r.getRecordCount()) {
      return Errors.of(ErrorCode.CORRUPT_BATCH,
          "record_count says " + r.getRecordCount() + " but the batch holds " + set.getRecordsCount());
    }
    for (int i = 0; i < set.getRecordsCount(); i++) {
      Record rec = set.getRecords(i);
      int size = rec.getSerializedSize();
      if (size > maxRecordBytes) {
        return Errors.of(ErrorCode.RECORD_TOO_LARGE,
            "record " + i + " has " + size + " bytes, more than max.record.bytes=" + maxRecordBytes);
      }
    }
    return null;
  }
}
