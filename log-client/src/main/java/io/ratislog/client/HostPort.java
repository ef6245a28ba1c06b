package io.ratislog.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A network address of a node's client port.
 *
 * @param host the host name or IP address
 * @param port the port
 */
public record HostPort(String host, int port) {

  /**
   * Validates the components.
   *
   * @param host not null or empty
   * @param port in [1, 65535]
   */
  public HostPort {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("empty host");
    }
    if (port <= 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /**
   * Parses {@code host:port} ({@code [v6addr]:port} for IPv6).
   *
   * @param s the address
   * @return the parsed address
   * @throws IllegalArgumentException when malformed
   */
  public static HostPort parse(String s) {
    String t = s == null ? "" : s.trim();
    int colon = t.lastIndexOf(':');
    if (colon <= 0 || colon == t.length() - 1) {
      throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "'");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new HostPort(host, Integer.parseInt(t.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in '" + s + "'");
    }
  }

  /**
   * Parses a bootstrap list {@code host:port,host:port,...}.
   *
   * @param bootstrap the list
   * @return the addresses, in order, at least one
   * @throws IllegalArgumentException when empty or malformed
   */
  public static List<HostPort> parseList(String bootstrap) {
    List<HostPort> out = new ArrayList<>();
    if (bootstrap != null) {
      for (String part : bootstrap.split(",")) {
        if (!part.isBlank()) {
          HostPort hp = parse(part);
          if (!out.contains(hp)) {
            out.add(hp);
          }
        }
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("empty bootstrap list");
    }
    return out;
  }

  /** Returns {@code host:port}. */
  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
