package io.ratislog.client;

/**
 * Where a consumer starts in a partition it has no position for, and where it goes when its
 * position is out of range (OFFSET_OUT_OF_RANGE).
 */
public enum AutoOffsetReset {
  /** The log start offset. */
  EARLIEST,
  /** The log end offset (only records produced from now on). */
  LATEST,
  /** Fail: {@link Consumer#poll} throws a {@link RatislogException} with OFFSET_OUT_OF_RANGE. */
  NONE;

  /**
   * Parses {@code earliest}, {@code latest} or {@code none} (any case).
   *
   * @param s the name
   * @return the value
   */
  public static AutoOffsetReset parse(String s) {
    return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
  }
}
