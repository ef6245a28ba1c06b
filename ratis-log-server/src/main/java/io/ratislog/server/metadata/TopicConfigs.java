package io.ratislog.server.metadata;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The per-topic configs a topic may carry, validated at create and at alter (on the node that takes the request
 * and again when the metadata command is applied):
 * <ul>
 *   <li>{@code retention.ms}: delete whole segments whose newest batch is older than this; -1 (default) keeps them.</li>
 *   <li>{@code retention.bytes}: delete the oldest whole segments while the partition would still hold at least
 *       this many bytes without them; -1 (default) keeps them.</li>
 * </ul>
 */
public final class TopicConfigs {
  public static final String RETENTION_MS = "retention.ms";
  public static final String RETENTION_BYTES = "retention.bytes";
  /** Unlimited retention. */
  public static final long UNLIMITED = -1;
  private static final Set<String> KNOWN = Set.of(RETENTION_MS, RETENTION_BYTES);

  private TopicConfigs() {
  }

  /** Why these configs are refused (the first problem, naming the key), or null when they are valid. */
  public static String problem(Map<String, String> configs) {
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(configs).entrySet()) {
      String p = problem(e.getKey(), e.getValue());
      if (p != null) {
        return p;
      }
    }
    return null;
  }

  /** Why this key or value is refused, or null. */
  public static String problem(String key, String value) {
    if (!KNOWN.contains(key)) {
      return "unknown topic config '" + key + "' (known: " + String.join(", ", new TreeSet<>(KNOWN)) + ")";
    }
    try {
      long v = Long.parseLong(value.trim());
      if (v < UNLIMITED) {
        return key + " must be -1 (unlimited) or >= 0, got " + v;
      }
      return null;
    } catch (NumberFormatException e) {
      return key + " is not a number: '" + value + "'";
    }
  }

  /** Whether {@code key} is a topic config (for removals). */
  public static boolean isKnown(String key) {
    return KNOWN.contains(key);
  }

  public static long retentionMs(Map<String, String> configs) {
    return longOr(configs, RETENTION_MS);
  }

  public static long retentionBytes(Map<String, String> configs) {
    return longOr(configs, RETENTION_BYTES);
  }

  /** The value, or UNLIMITED when unset or (a topic from before validation) unreadable. */
  private static long longOr(Map<String, String> configs, String key) {
    String v = configs.get(key);
    if (v == null || problem(key, v) != null) {
      return UNLIMITED;
    }
    return Long.parseLong(v.trim());
  }
}
