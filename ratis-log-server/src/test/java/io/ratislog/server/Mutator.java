package io.ratislog.server;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Byte-level mutations of a serialized protobuf message, for fuzzing. */
final class Mutator {
  private Mutator() {
  }

  static byte[] mutate(byte[] in, SplittableRandom r) {
    byte[] b = in;
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) {
      b = once(b, r);
    }
    return b;
  }

  private static byte[] once(byte[] b, SplittableRandom r) {
    int len = b.length;
    switch (r.nextInt(9)) {
      case 0 -> { // flip a bit
        if (len > 0) {
          b = b.clone();
          b[r.nextInt(len)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 1 -> { // overwrite a byte (lengths and tags included)
        if (len > 0) {
          b = b.clone();
          b[r.nextInt(len)] = (byte) (r.nextBoolean() ? 0xFF : r.nextInt(256));
        }
      }
      case 2 -> { // insert random bytes
        byte[] ins = new byte[1 + r.nextInt(8)];
        r.nextBytes(ins);
        b = splice(b, r.nextInt(len + 1), 0, ins);
      }
      case 3 -> { // delete a range
        if (len > 0) {
          int at = r.nextInt(len);
          b = splice(b, at, 1 + r.nextInt(Math.min(8, len - at)), new byte[0]);
        }
      }
      case 4 -> b = Arrays.copyOf(b, len == 0 ? 0 : r.nextInt(len)); // truncate
      case 5 -> { // duplicate a slice (repeated fields, last-one-wins)
        if (len > 0) {
          int at = r.nextInt(len);
          int l = 1 + r.nextInt(len - at);
          b = splice(b, len, 0, Arrays.copyOfRange(b, at, at + l));
        }
      }
      case 6 -> // a 10-byte varint (the longest legal) or an overlong one
          b = splice(b, r.nextInt(len + 1), 0, r.nextBoolean()
              ? new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                  (byte) 0xFF, (byte) 0xFF, 0x01}
              : new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                  (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01});
      case 7 -> b = splice(b, len, 0, unknownField(r)); // an unknown field
      default -> { // a length-delimited field that claims more than there is
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeVarint(out, ((1 + r.nextInt(10)) << 3) | 2);
        writeVarint(out, r.nextInt(Integer.MAX_VALUE));
        b = splice(b, r.nextInt(len + 1), 0, out.toByteArray());
      }
    }
    return b;
  }

  private static byte[] unknownField(SplittableRandom r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int wire = r.nextInt(6);
    // Sometimes the highest field number protobuf allows (servers tend to reserve it for markers).
    int field = r.nextInt(8) == 0 ? (1 << 29) - 1 : 1 + r.nextInt(1 << 20);
    writeVarint(out, ((long) field << 3) | wire);
    byte[] payload = new byte[r.nextInt(16)];
    r.nextBytes(payload);
    if (wire == 2) {
      writeVarint(out, payload.length);
    }
    out.writeBytes(payload);
    return out.toByteArray();
  }

  private static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }
}
