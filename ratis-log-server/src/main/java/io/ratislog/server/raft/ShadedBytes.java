package io.ratislog.server.raft;

import java.io.IOException;
import java.nio.ByteBuffer;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteOutput;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The one boundary between our protobuf (com.google.protobuf) and Ratis' shaded copy: Ratis messages carry a
 * shaded {@link ByteString}; our entries are unshaded messages. Conversions wrap without copying where the
 * bytes are not shared afterwards.
 */
public final class ShadedBytes {
  private ShadedBytes() {
  }

  /** A Ratis message holding a serialized protobuf message. */
  public static Message toMessage(MessageLite m) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(m.toByteArray()));
  }

  /**
   * Parses a protobuf message from Ratis' shaded bytes, its {@code bytes} fields sharing {@code bytes}' memory
   * instead of copying it: for a message used only while {@code bytes} stays unchanged (an entry being applied).
   */
  public static <T> T parseShared(Parser<T> parser, ByteString bytes) throws InvalidProtocolBufferException {
    // Protobuf aliases bytes fields only when its input is marked immutable, which CodedInputStream.newInstance never
    // does (it copied every batch): a ByteString's own coded input is. Ratis' entries are immutable ByteStrings.
    com.google.protobuf.CodedInputStream in = unshadedView(bytes).newCodedInput();
    in.enableAliasing(true);
    return parser.parseFrom(in);
  }

  /**
   * The bytes as an unshaded ByteString: a view of the backing array when there is exactly one (no copy), else a
   * copy (several chunks, or memory that is not an accessible array).
   */
  static com.google.protobuf.ByteString unshadedView(ByteString bytes) {
    ArrayCapture capture = new ArrayCapture();
    try {
      UnsafeByteOperations.unsafeWriteTo(bytes, capture);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return capture.single != null && !capture.more ? capture.single
        : com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes.toByteArray());
  }

  /** Collects the backing array of a single-chunk ByteString without copying it. */
  private static final class ArrayCapture extends ByteOutput {
    com.google.protobuf.ByteString single;
    boolean more;

    private void chunk(byte[] array, int offset, int length) {
      if (single == null && !more) {
        single = com.google.protobuf.UnsafeByteOperations.unsafeWrap(array, offset, length);
      } else {
        more = true;
      }
    }

    @Override
    public void write(byte value) {
      more = true;
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      more = true;
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      chunk(value, offset, length);
    }

    @Override
    public void write(ByteBuffer value) {
      more = true;
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      if (value.hasArray()) {
        chunk(value.array(), value.arrayOffset() + value.position(), value.remaining());
      } else {
        more = true;
      }
    }
  }

  /** Parses a protobuf message from Ratis' shaded bytes. */
  public static <T> T parse(Parser<T> parser, ByteString bytes) throws InvalidProtocolBufferException {
    return parser.parseFrom(bytes.asReadOnlyByteBuffer());
  }
}
