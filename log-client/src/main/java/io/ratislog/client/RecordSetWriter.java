package io.ratislog.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.util.Arrays;

/**
 * Builds a batch's serialized {@link RecordSet} as records are appended, straight into one growing array: the
 * bytes are exactly what {@code RecordSet.toByteArray()} gives for the same records (proto3, default values left
 * out, fields in number order), without a {@link Record} object or a copy per record. Not thread-safe.
 */
final class RecordSetWriter {
  private static final int RECORD_TAG = RecordSet.RECORDS_FIELD_NUMBER << 3 | 2;
  private static final int KEY_TAG = Record.KEY_FIELD_NUMBER << 3 | 2;
  private static final int VALUE_TAG = Record.VALUE_FIELD_NUMBER << 3 | 2;
  private static final int TIMESTAMP_TAG = Record.TIMESTAMP_MS_FIELD_NUMBER << 3;

  private byte[] buf;
  private int size;
  private int count;

  RecordSetWriter(int initialCapacity) {
    buf = new byte[Math.max(64, initialCapacity)];
  }

  /** The bytes a record adds to a RecordSet (its tag and length included). */
  static int encodedSize(byte[] key, byte[] value, long timestampMs) {
    int body = bodySize(key, value, timestampMs);
    return CodedOutputStream.computeUInt32SizeNoTag(RECORD_TAG) + CodedOutputStream.computeUInt32SizeNoTag(body) + body;
  }

  private static int bodySize(byte[] key, byte[] value, long timestampMs) {
    int n = 0;
    if (key != null && key.length > 0) {
      n += 1 + CodedOutputStream.computeUInt32SizeNoTag(key.length) + key.length;
    }
    if (value.length > 0) {
      n += 1 + CodedOutputStream.computeUInt32SizeNoTag(value.length) + value.length;
    }
    if (timestampMs != 0) {
      n += 1 + CodedOutputStream.computeUInt64SizeNoTag(timestampMs);
    }
    return n;
  }

  /** Appends one record (a null or empty key is no key). */
  void append(byte[] key, byte[] value, long timestampMs) {
    int body = bodySize(key, value, timestampMs);
    int total = encodedSize(key, value, timestampMs);
    if (size + total > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(size + total, buf.length * 2));
    }
    CodedOutputStream out = CodedOutputStream.newInstance(buf, size, total);
    try {
      out.writeUInt32NoTag(RECORD_TAG);
      out.writeUInt32NoTag(body);
      if (key != null && key.length > 0) {
        out.writeUInt32NoTag(KEY_TAG);
        out.writeByteArrayNoTag(key);
      }
      if (value.length > 0) {
        out.writeUInt32NoTag(VALUE_TAG);
        out.writeByteArrayNoTag(value);
      }
      if (timestampMs != 0) {
        out.writeUInt32NoTag(TIMESTAMP_TAG);
        out.writeUInt64NoTag(timestampMs);
      }
      out.checkNoSpaceLeft();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("record does not fit the space computed for it", e);
    }
    size += total;
    count++;
  }

  int count() {
    return count;
  }

  int sizeBytes() {
    return size;
  }

  /** The RecordSet so far, sharing this writer's array: append nothing after taking it. */
  ByteString toByteString() {
    return UnsafeByteOperations.unsafeWrap(buf, 0, size);
  }
}
