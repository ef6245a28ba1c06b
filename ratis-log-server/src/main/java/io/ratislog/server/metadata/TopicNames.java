package io.ratislog.server.metadata;

import java.util.regex.Pattern;

/** What a topic name may be: 1 to 249 characters of [A-Za-z0-9._-], not "." or "..". */
public final class TopicNames {
  public static final int MAX_LENGTH = 249;
  private static final Pattern LEGAL = Pattern.compile("[A-Za-z0-9._-]+");

  private TopicNames() {
  }

  /** Why the name is not allowed, or null when it is. */
  public static String problem(String name) {
    if (name == null || name.isEmpty()) {
      return "topic name is empty";
    }
    if (name.length() > MAX_LENGTH) {
      return "topic name is longer than " + MAX_LENGTH + " characters";
    }
    if (name.equals(".") || name.equals("..")) {
      return "topic name cannot be '" + name + "'";
    }
    if (!LEGAL.matcher(name).matches()) {
      return "topic name '" + name + "' has characters outside [A-Za-z0-9._-]";
    }
    return null;
  }
}
