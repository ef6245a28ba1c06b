package io.ratislog.server.partition;

import java.util.List;

/**
 * The retention decision: which whole segments of a partition may go, given the topic's {@code retention.ms} and
 * {@code retention.bytes} and the leader's clock. Pure; the partition leader runs it on its own segments and
 * proposes the result as a {@code RetentionEntry}, which every replica applies alike.
 *
 * <ul>
 *   <li>Time: the oldest segments whose newest batch was appended more than {@code retentionMs} before
 *       {@code nowMs}, up to the first younger one. The active segment counts too (it is sealed by the deletion),
 *       so a topic nobody writes to empties out.</li>
 *   <li>Size: the oldest sealed segments while the partition still holds at least {@code retentionBytes} without
 *       them (never the active segment).</li>
 * </ul>
 * The longer of the two prefixes goes; the result is the base offset of the first kept segment (the log end when
 * every segment goes), hence always a batch boundary.
 */
public final class RetentionPolicy {
  /** A segment: offsets {@code [baseOffset, nextOffset)}, its data bytes and its newest batch's append time. */
  public record SegmentInfo(long baseOffset, long nextOffset, long sizeBytes, long lastAppendMs) {
    boolean empty() {
      return nextOffset <= baseOffset;
    }
  }

  private RetentionPolicy() {
  }

  /**
   * The log start offset after retention, or {@code segments.get(0).baseOffset()} when nothing goes.
   *
   * @param segments oldest first, contiguous; the last one is the active segment
   * @param retentionMs -1 for no time limit
   * @param retentionBytes -1 for no size limit
   */
  public static long newLogStart(List<SegmentInfo> segments, long nowMs, long retentionMs, long retentionBytes) {
    if (segments.isEmpty()) {
      throw new IllegalArgumentException("a log has at least one segment");
    }
    int byTime = 0;
    if (retentionMs >= 0) {
      while (byTime < segments.size()) {
        SegmentInfo s = segments.get(byTime);
        if (s.empty() || nowMs - s.lastAppendMs() <= retentionMs) {
          break;
        }
        byTime++;
      }
    }
    int bySize = 0;
    if (retentionBytes >= 0) {
      long total = 0;
      for (SegmentInfo s : segments) {
        total += s.sizeBytes();
      }
      while (bySize < segments.size() - 1 && total - segments.get(bySize).sizeBytes() >= retentionBytes) {
        total -= segments.get(bySize).sizeBytes();
        bySize++;
      }
    }
    int drop = Math.max(byTime, bySize);
    if (drop == 0) {
      return segments.get(0).baseOffset();
    }
    return segments.get(drop - 1).nextOffset();
  }
}
