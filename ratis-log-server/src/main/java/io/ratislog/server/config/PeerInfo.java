package io.ratislog.server.config;

/**
 * One node of the cluster as the configuration names it: {@code id=host:raftPort:clientPort}.
 *
 * @param id         the node id, unique in the cluster, >= 1
 * @param host       the host name or address peers and clients reach this node at
 * @param raftPort   the port of the Raft (Ratis gRPC) server
 * @param clientPort the port of the client-facing gRPC server (LogService, AdminService)
 */
public record PeerInfo(int id, String host, int raftPort, int clientPort) {

  /** {@code host:raftPort}, the address Ratis dials. */
  public String raftAddress() {
    return host + ":" + raftPort;
  }

  /** {@code host:clientPort}, the address clients dial. */
  public String clientAddress() {
    return host + ":" + clientPort;
  }

  /**
   * Parses one peer entry {@code id=host:raftPort:clientPort}.
   *
   * @throws ConfigException naming the entry and what is wrong with it
   */
  public static PeerInfo parse(String entry) {
    String e = entry.trim();
    int eq = e.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("peers", "entry '" + e + "' is not id=host:raftPort:clientPort");
    }
    int id = parsePositiveInt("peers", e.substring(0, eq), "node id in '" + e + "'");
    String rest = e.substring(eq + 1);
    int last = rest.lastIndexOf(':');
    int mid = last > 0 ? rest.lastIndexOf(':', last - 1) : -1;
    if (mid <= 0) {
      throw new ConfigException("peers", "entry '" + e + "' is not id=host:raftPort:clientPort");
    }
    String host = rest.substring(0, mid);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int raftPort = parsePort("peers", rest.substring(mid + 1, last), "raft port in '" + e + "'");
    int clientPort = parsePort("peers", rest.substring(last + 1), "client port in '" + e + "'");
    if (raftPort == clientPort) {
      throw new ConfigException("peers", "entry '" + e + "' uses port " + raftPort + " twice");
    }
    return new PeerInfo(id, host, raftPort, clientPort);
  }

  static int parsePositiveInt(String key, String value, String what) {
    try {
      int v = Integer.parseInt(value.trim());
      if (v < 1) {
        throw new ConfigException(key, what + " must be >= 1, got " + v);
      }
      return v;
    } catch (NumberFormatException ex) {
      throw new ConfigException(key, what + " is not a number: '" + value.trim() + "'");
    }
  }

  static int parsePort(String key, String value, String what) {
    try {
      int v = Integer.parseInt(value.trim());
      if (v < 1 || v > 65535) {
        throw new ConfigException(key, what + " must be in 1..65535, got " + v);
      }
      return v;
    } catch (NumberFormatException ex) {
      throw new ConfigException(key, what + " is not a number: '" + value.trim() + "'");
    }
  }
}
