package io.ratislog.client.cli;

import java.nio.charset.StandardCharsets;

/** Splits an input line of {@code logctl produce} into an optional key and a value. */
public final class LineParser {
  private LineParser() {}

  /**
   * A parsed line.
   *
   * @param key   the key bytes, or null
   * @param value the value bytes
   */
  public record Parsed(byte[] key, byte[] value) {
    /**
     * The key as a string, or null.
     *
     * @return the key
     */
    public String keyString() {
      return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }

    /**
     * The value as a string.
     *
     * @return the value
     */
    public String valueString() {
      return new String(value, StandardCharsets.UTF_8);
    }
  }

  /**
   * Parses a line. Without a separator the whole line is the value (no key). With one, the key is
   * what precedes its first occurrence and the value what follows; a line without the separator
   * has no key and the whole line as value.
   *
   * @param line      the line, without its line terminator
   * @param separator the key separator, or null/empty for none
   * @return the key and value (UTF-8)
   */
  public static Parsed parse(String line, String separator) {
    if (separator == null || separator.isEmpty()) {
      return new Parsed(null, line.getBytes(StandardCharsets.UTF_8));
    }
    int i = line.indexOf(separator);
    if (i < 0) {
      return new Parsed(null, line.getBytes(StandardCharsets.UTF_8));
    }
    return new Parsed(line.substring(0, i).getBytes(StandardCharsets.UTF_8),
        line.substring(i + separator.length()).getBytes(StandardCharsets.UTF_8));
  }
}
