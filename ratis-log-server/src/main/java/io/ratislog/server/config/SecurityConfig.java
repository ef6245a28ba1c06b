package io.ratislog.server.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * The security part of a node's configuration (all off by default).
 *
 * <pre>
 * tls.cert=/etc/ratislog/node-1.crt        # PEM certificate (chain) of this node; turns TLS on for clients
 * tls.key=/etc/ratislog/node-1.key         # PEM PKCS#8 private key
 * tls.ca=/etc/ratislog/ca.crt              # PEM CA certificate(s) trusted for client and peer certificates
 * tls.client.auth=none|optional|require    # client certificates (default none)
 * tls.peer=true                            # mutual TLS on the Raft peer links (default: true when tls.cert is set)
 * tls.protocols=TLSv1.3                    # comma-separated
 * authentication.required=false            # refuse requests without a certificate or token (else: ANONYMOUS)
 * auth.token.file=/etc/ratislog/tokens     # lines principal:token or principal:sha256:hex; reloaded on change
 * authorization.enabled=false              # ACLs; deny by default once on
 * super.users=admin,node-1                 # principals that bypass ACLs
 * quota.produce.bytes.per.sec=0            # per principal; 0 = unlimited
 * quota.fetch.bytes.per.sec=0
 * quota.requests.per.sec=0
 * quota.principal.alice.produce.bytes.per.sec=1048576   # per-principal override of any quota.* key
 * </pre>
 */
public final class SecurityConfig {
  /** How the client-facing server treats client certificates. */
  public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

  /** The rates a principal may use; 0 means unlimited. */
  public record Quota(long produceBytesPerSec, long fetchBytesPerSec, long requestsPerSec) {
    public boolean unlimited() {
      return produceBytesPerSec == 0 && fetchBytesPerSec == 0 && requestsPerSec == 0;
    }
  }

  static final Set<String> KEYS = Set.of("tls.cert", "tls.key", "tls.ca", "tls.client.auth", "tls.peer", "tls.protocols",
      "authentication.required", "auth.token.file", "authorization.enabled", "super.users",
      "quota.produce.bytes.per.sec", "quota.fetch.bytes.per.sec", "quota.requests.per.sec");
  static final String QUOTA_PRINCIPAL_PREFIX = "quota.principal.";
  private static final String[] QUOTA_KINDS = {"produce.bytes.per.sec", "fetch.bytes.per.sec", "requests.per.sec"};

  private final Path tlsCert;
  private final Path tlsKey;
  private final Path tlsCa;
  private final ClientAuth clientAuth;
  private final boolean peerTls;
  private final Set<String> protocols;
  private final boolean authenticationRequired;
  private final Path tokenFile;
  private final boolean authorizationEnabled;
  private final Set<String> superUsers;
  private final Quota defaultQuota;
  private final Map<String, Quota> principalQuotas;

  SecurityConfig(Properties p) {
    this.tlsCert = file(p, "tls.cert");
    this.tlsKey = file(p, "tls.key");
    this.tlsCa = file(p, "tls.ca");
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new ConfigException(tlsCert == null ? "tls.cert" : "tls.key", "tls.cert and tls.key go together");
    }
    String auth = p.getProperty("tls.client.auth", "none").trim().toUpperCase(Locale.ROOT);
    try {
      this.clientAuth = ClientAuth.valueOf(auth);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("tls.client.auth", "must be none, optional or require, got '" + auth.toLowerCase(Locale.ROOT) + "'");
    }
    if (clientAuth != ClientAuth.NONE && (tlsCert == null || tlsCa == null)) {
      throw new ConfigException("tls.client.auth", "client certificates need tls.cert, tls.key and tls.ca");
    }
    this.peerTls = NodeConfig.boolKey(p, "tls.peer", tlsCert != null);
    if (peerTls && (tlsCert == null || tlsCa == null)) {
      throw new ConfigException("tls.peer", "mutual TLS on peer links needs tls.cert, tls.key and tls.ca");
    }
    Set<String> protos = new LinkedHashSet<>();
    for (String s : p.getProperty("tls.protocols", "TLSv1.3").split(",")) {
      String v = s.trim();
      if (!v.isEmpty()) {
        if (!v.equals("TLSv1.3") && !v.equals("TLSv1.2")) {
          throw new ConfigException("tls.protocols", "supported: TLSv1.3, TLSv1.2; got '" + v + "'");
        }
        protos.add(v);
      }
    }
    if (protos.isEmpty()) {
      throw new ConfigException("tls.protocols", "lists no protocol");
    }
    this.protocols = Collections.unmodifiableSet(protos);
    this.tokenFile = file(p, "auth.token.file");
    this.authenticationRequired = NodeConfig.boolKey(p, "authentication.required", false);
    if (authenticationRequired && tokenFile == null && clientAuth == ClientAuth.NONE) {
      throw new ConfigException("authentication.required",
          "needs a way to authenticate: auth.token.file, or tls.client.auth=optional|require");
    }
    this.authorizationEnabled = NodeConfig.boolKey(p, "authorization.enabled", false);
    Set<String> su = new LinkedHashSet<>();
    for (String s : p.getProperty("super.users", "").split(",")) {
      if (!s.isBlank()) {
        su.add(s.trim());
      }
    }
    this.superUsers = Collections.unmodifiableSet(su);
    this.defaultQuota = quota(p, "quota.", new Quota(0, 0, 0));
    Map<String, Quota> overrides = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith(QUOTA_PRINCIPAL_PREFIX)) {
        String rest = key.substring(QUOTA_PRINCIPAL_PREFIX.length());
        String principal = null;
        for (String kind : QUOTA_KINDS) {
          if (rest.endsWith("." + kind) && rest.length() > kind.length() + 1) {
            principal = rest.substring(0, rest.length() - kind.length() - 1);
          }
        }
        if (principal == null) {
          throw new ConfigException(key, "expected quota.principal.<principal>.(" + String.join("|", QUOTA_KINDS) + ")");
        }
        overrides.computeIfAbsent(principal, pr -> quota(p, QUOTA_PRINCIPAL_PREFIX + pr + ".", defaultQuota));
      }
    }
    this.principalQuotas = Collections.unmodifiableMap(overrides);
  }

  /** Whether {@code key} is one of this class's keys (including per-principal quota keys, checked later). */
  static boolean isKey(String key) {
    return KEYS.contains(key) || key.startsWith(QUOTA_PRINCIPAL_PREFIX);
  }

  private static Quota quota(Properties p, String prefix, Quota def) {
    return new Quota(
        NodeConfig.longKey(p, prefix + QUOTA_KINDS[0], def.produceBytesPerSec(), 0, Long.MAX_VALUE / 2),
        NodeConfig.longKey(p, prefix + QUOTA_KINDS[1], def.fetchBytesPerSec(), 0, Long.MAX_VALUE / 2),
        NodeConfig.longKey(p, prefix + QUOTA_KINDS[2], def.requestsPerSec(), 0, 1_000_000_000));
  }

  private static Path file(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null || v.isBlank()) {
      return null;
    }
    Path path = Path.of(v.trim()).toAbsolutePath();
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      throw new ConfigException(key, "is not a readable file: " + path);
    }
    return path;
  }

  /** Whether the client-facing server speaks TLS. */
  public boolean tlsEnabled() {
    return tlsCert != null;
  }

  public Path tlsCert() {
    return tlsCert;
  }

  public Path tlsKey() {
    return tlsKey;
  }

  /** The trusted CA certificates, or null. */
  public Path tlsCa() {
    return tlsCa;
  }

  public ClientAuth clientAuth() {
    return clientAuth;
  }

  /** Whether the Raft peer links use mutual TLS with the node certificates. */
  public boolean peerTls() {
    return peerTls;
  }

  public Set<String> protocols() {
    return protocols;
  }

  public boolean authenticationRequired() {
    return authenticationRequired;
  }

  /** The bearer-token file, or null. */
  public Path tokenFile() {
    return tokenFile;
  }

  public boolean authorizationEnabled() {
    return authorizationEnabled;
  }

  public Set<String> superUsers() {
    return superUsers;
  }

  /** The quota of a principal: its override when configured, else the defaults. */
  public Quota quota(String principal) {
    return principalQuotas.getOrDefault(principal, defaultQuota);
  }

  /** Whether any quota (default or override) is configured. */
  public boolean quotasEnabled() {
    return !defaultQuota.unlimited() || principalQuotas.values().stream().anyMatch(q -> !q.unlimited());
  }
}
