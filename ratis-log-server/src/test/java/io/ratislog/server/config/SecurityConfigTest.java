package io.ratislog.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Security keys: off by default, and every inconsistent combination names the key at fault. */
class SecurityConfigTest {
  @TempDir Path dir;

  private Properties base() {
    Properties p = new Properties();
    p.setProperty("node.id", "1");
    p.setProperty("peers", "1=h1:9191:9091");
    p.setProperty("data.dir", dir.resolve("d").toString());
    return p;
  }

  private String file(String name) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, "x");
    return f.toString();
  }

  private static void assertKey(String key, Properties p) {
    ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.of(p));
    assertEquals(key, e.key(), e.getMessage());
  }

  @Test
  void everythingIsOffByDefault() {
    SecurityConfig s = NodeConfig.of(base()).security();
    assertFalse(s.tlsEnabled());
    assertFalse(s.peerTls());
    assertFalse(s.authenticationRequired());
    assertFalse(s.authorizationEnabled());
    assertFalse(s.quotasEnabled());
    assertEquals(SecurityConfig.ClientAuth.NONE, s.clientAuth());
  }

  @Test
  void tlsKeysGoTogether() throws IOException {
    Properties p = base();
    p.setProperty("tls.cert", file("c.crt"));
    assertKey("tls.key", p);
    p.setProperty("tls.key", file("c.key"));
    assertKey("tls.peer", p); // peer TLS defaults on with a certificate and needs the CA
    p.setProperty("tls.peer", "false");
    assertTrue(NodeConfig.of(p).security().tlsEnabled());
    p.setProperty("tls.client.auth", "require");
    assertKey("tls.client.auth", p);
    p.setProperty("tls.ca", file("ca.crt"));
    p.setProperty("tls.client.auth", "sometimes");
    assertKey("tls.client.auth", p);
    p.setProperty("tls.client.auth", "optional");
    p.setProperty("tls.protocols", "SSLv3");
    assertKey("tls.protocols", p);
    p.remove("tls.protocols");
    p.setProperty("tls.ca", dir.resolve("missing.crt").toString());
    assertKey("tls.ca", p);
  }

  @Test
  void authenticationNeedsAMeans() throws IOException {
    Properties p = base();
    p.setProperty("authentication.required", "true");
    assertKey("authentication.required", p);
    p.setProperty("auth.token.file", file("tokens"));
    assertTrue(NodeConfig.of(p).security().authenticationRequired());
    p.setProperty("authorization.enabled", "yes");
    assertKey("authorization.enabled", p);
  }

  @Test
  void quotasHaveDefaultsAndPerPrincipalOverrides() {
    Properties p = base();
    p.setProperty("quota.produce.bytes.per.sec", "1000");
    p.setProperty("quota.principal.alice.fetch.bytes.per.sec", "5");
    p.setProperty("quota.principal.svc.a.requests.per.sec", "7");
    SecurityConfig s = NodeConfig.of(p).security();
    assertEquals(new SecurityConfig.Quota(1000, 0, 0), s.quota("bob"));
    assertEquals(new SecurityConfig.Quota(1000, 5, 0), s.quota("alice"));
    assertEquals(7, s.quota("svc.a").requestsPerSec());
    p.setProperty("quota.principal.alice.bytes", "1");
    assertKey("quota.principal.alice.bytes", p);
    p.remove("quota.principal.alice.bytes");
    p.setProperty("quota.requests.per.sec", "-1");
    assertKey("quota.requests.per.sec", p);
    p.remove("quota.requests.per.sec");
    p.setProperty("quota.unknown", "1");
    assertKey("quota.unknown", p);
  }
}
