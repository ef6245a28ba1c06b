package io.ratislog.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.SplittableRandom;

/** Valid messages with hostile field values (extremes, huge strings and lists, unknown enum numbers), for fuzzing. */
final class Hostile {
  private static final long[] NUMBERS = {-1, 0, 1, Integer.MIN_VALUE, Integer.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE,
      -2, 1L << 32, 100_000};
  private static final String[] STRINGS = {"", ".", "..", "*", "\u0000", "a b", "fz-target", "acked-data-", "é\uD83D\uDE00",
      "../../etc/passwd", "fz-group"};

  private Hostile() {
  }

  static Message variant(Message seed, SplittableRandom r) {
    Message.Builder b = seed.toBuilder();
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) {
      tweak(b, r, 0);
    }
    return b.build();
  }

  private static void tweak(Message.Builder b, SplittableRandom r, int depth) {
    List<FieldDescriptor> fields = b.getDescriptorForType().getFields();
    if (fields.isEmpty()) {
      return;
    }
    FieldDescriptor f = fields.get(r.nextInt(fields.size()));
    if (f.isRepeated()) {
      boolean message = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE;
      // Long lists of small values (a list is as costly to build here as to check there).
      int count = r.nextInt(8) == 0 ? (message ? 200 : 2_000) : 1 + r.nextInt(3);
      for (int i = 0; i < count; i++) {
        if (count > 3 && !message) {
          b.addRepeatedField(f, small(f, r));
        } else if (message) {
          Message.Builder e = b.newBuilderForField(f);
          tweak(e, r, depth + 1);
          tweak(e, r, depth + 1);
          b.addRepeatedField(f, e.build());
        } else {
          b.addRepeatedField(f, value(f, r));
        }
      }
      return;
    }
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      if (depth < 3) {
        Message.Builder e = ((Message) b.getField(f)).toBuilder();
        tweak(e, r, depth + 1);
        b.setField(f, e.build());
      }
      return;
    }
    b.setField(f, value(f, r));
  }

  private static Object small(FieldDescriptor f, SplittableRandom r) {
    return switch (f.getJavaType()) {
      case STRING -> STRINGS[r.nextInt(STRINGS.length)];
      case BYTE_STRING -> ByteString.copyFromUtf8(STRINGS[r.nextInt(STRINGS.length)]);
      default -> value(f, r);
    };
  }

  private static Object value(FieldDescriptor f, SplittableRandom r) {
    long num = r.nextBoolean() ? NUMBERS[r.nextInt(NUMBERS.length)] : r.nextLong();
    return switch (f.getJavaType()) {
      case INT -> (int) num;
      case LONG -> num;
      case BOOLEAN -> r.nextBoolean();
      case FLOAT -> (float) num;
      case DOUBLE -> (double) num;
      case ENUM -> f.getEnumType().findValueByNumberCreatingIfUnknown(r.nextInt(4) == 0 ? (int) num : r.nextInt(5));
      case STRING -> string(r);
      case BYTE_STRING -> {
        byte[] bytes = new byte[r.nextInt(50) == 0 ? 300_000 : r.nextInt(64)];
        r.nextBytes(bytes);
        yield ByteString.copyFrom(bytes);
      }
      case MESSAGE -> throw new IllegalArgumentException("messages are handled by the caller");
    };
  }

  private static String string(SplittableRandom r) {
    int pick = r.nextInt(20);
    if (pick == 0) {
      return "x".repeat(r.nextInt(4) == 0 ? 100_000 : 250);
    }
    if (pick == 1) {
      StringBuilder sb = new StringBuilder();
      for (int i = r.nextInt(40); i > 0; i--) {
        sb.appendCodePoint(r.nextInt(1, 0xD7FF));
      }
      return sb.toString();
    }
    return STRINGS[r.nextInt(STRINGS.length)];
  }
}
