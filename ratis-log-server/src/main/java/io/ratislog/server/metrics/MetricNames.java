package io.ratislog.server.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Dropwizard metric names that carry Prometheus labels: {@code base{key="value",key="value"}}. Dropwizard has
 * no labels, so they travel in the name; {@link LabelledSampleBuilder} splits them off again at export. Values
 * are escaped ({@code \\} and {@code \"}), so any topic or group name round-trips.
 */
public final class MetricNames {
  private MetricNames() {
  }

  /** A parsed name: the base and the label names and values, in order. */
  public record Parsed(String base, List<String> labelNames, List<String> labelValues) {
  }

  /** {@code base} with labels given as alternating names and values. */
  public static String tagged(String base, String... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("labels come in name/value pairs");
    }
    if (keysAndValues.length == 0) {
      return base;
    }
    StringBuilder b = new StringBuilder(base).append('{');
    for (int i = 0; i < keysAndValues.length; i += 2) {
      if (i > 0) {
        b.append(',');
      }
      b.append(keysAndValues[i]).append("=\"");
      String v = keysAndValues[i + 1];
      for (int j = 0; j < v.length(); j++) {
        char c = v.charAt(j);
        if (c == '\\' || c == '"') {
          b.append('\\');
        }
        b.append(c);
      }
      b.append('"');
    }
    return b.append('}').toString();
  }

  /** Splits a name made by {@link #tagged}; a name without labels parses to itself and no labels. */
  public static Parsed parse(String name) {
    int brace = name.indexOf('{');
    if (brace < 0 || !name.endsWith("}")) {
      return new Parsed(name, List.of(), List.of());
    }
    List<String> names = new ArrayList<>();
    List<String> values = new ArrayList<>();
    int i = brace + 1;
    int end = name.length() - 1;
    while (i < end) {
      int eq = name.indexOf("=\"", i);
      if (eq < 0) {
        return new Parsed(name, List.of(), List.of());
      }
      names.add(name.substring(i, eq));
      StringBuilder v = new StringBuilder();
      int j = eq + 2;
      while (j < end && name.charAt(j) != '"') {
        char c = name.charAt(j);
        if (c == '\\' && j + 1 < end) {
          j++;
          c = name.charAt(j);
        }
        v.append(c);
        j++;
      }
      values.add(v.toString());
      i = j + 1;
      if (i < end && name.charAt(i) == ',') {
        i++;
      }
    }
    return new Parsed(name.substring(0, brace), names, values);
  }
}
