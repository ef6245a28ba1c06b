package io.ratislog.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ChannelFactory;
import io.ratislog.client.ClientSecurity;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.NodeStatus;
import io.ratislog.server.MiniCluster;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-node cluster with TLS 1.3 on the client port (client certificates required) and mutual TLS on the Raft peer
 * links: a client with a certificate produces and consumes; a plaintext client and a TLS client without a
 * certificate are refused; the peer links accept node certificates only.
 */
class TlsIT {
  @TempDir Path dir;

  @Test
  void mutualTlsClusterServesCertifiedClientsOnly() throws Exception {
    Path certs = SecureClusters.makeCerts(dir.resolve("certs"), 3, "alice");
    try (MiniCluster c = SecureClusters.withTls(new MiniCluster(dir.resolve("data"), 3, new Properties()), certs, "require")
        .startAll()) {
      SecureClusters.awaitMetadataLeader(c);
      ChannelFactory alice = SecureClusters.mtls(certs, "alice");
      try (Admin admin = Admin.create(c.bootstrap(), Duration.ofSeconds(60), alice)) {
        SecureClusters.createTopic(admin, "secure", 2, 3);
        // Peers ping each other over their TLS client ports with the node certificates.
        DescribeClusterResponse cluster = admin.describeCluster();
        for (NodeStatus n : cluster.getNodesList()) {
          assertTrue(n.getUp(), "node " + n.getNode().getId() + " is seen up over TLS");
        }
      }
      List<CompletableFuture<?>> acks = new ArrayList<>();
      try (Producer p = new Producer(ProducerConfig.builder(c.bootstrap()).lingerMs(2).channelFactory(alice).build())) {
        for (int i = 0; i < 200; i++) {
          acks.add(p.send(new ProducerRecord("secure", null, ("v" + i).getBytes(StandardCharsets.UTF_8))));
        }
        for (CompletableFuture<?> f : acks) {
          f.get(60, TimeUnit.SECONDS);
        }
      }
      List<ConsumerRecord> read = SecureClusters.readAll(c.bootstrap(), alice, "secure", 2, 200);
      assertEquals(200, read.size(), "every acked record is read back over TLS");

      // Plaintext client: the TLS handshake never happens, nothing reaches a service.
      try (Admin plain = Admin.create(c.bootstrap(), Duration.ofSeconds(3))) {
        RatislogException e = assertThrows(RatislogException.class, plain::listTopics);
        assertTrue(e.getMessage().contains("UNAVAILABLE") || e.getMessage().contains("TIMEOUT"), e.getMessage());
      }
      // TLS without a client certificate where one is required: the handshake fails.
      try (Admin noCert = Admin.create(c.bootstrap(), Duration.ofSeconds(3),
          ChannelFactory.secure(ClientSecurity.tls(certs.resolve("ca.crt"))))) {
        assertThrows(RatislogException.class, noCert::listTopics);
      }
    }
  }

  @Test
  void peerLinksTrustNodeCertificatesOnly() throws Exception {
    Path certs = SecureClusters.makeCerts(dir.resolve("certs"), 2, "alice");
    NodeTrustManager tm = new NodeTrustManager(NodeTrustManager.forCa(certs.resolve("ca.crt")), Set.of("node-1", "node-2"));
    tm.checkClientTrusted(chain(certs.resolve("node-2.crt")), "ECDHE_ECDSA");
    assertThrows(CertificateException.class, () -> tm.checkClientTrusted(chain(certs.resolve("alice.crt")), "ECDHE_ECDSA"),
        "a client certificate of the same CA may not speak Raft");
    Path other = SecureClusters.makeCerts(dir.resolve("other-ca"), 1);
    assertThrows(CertificateException.class, () -> tm.checkClientTrusted(chain(other.resolve("node-1.crt")), "ECDHE_ECDSA"),
        "a node certificate of another CA is refused");
  }

  private static X509Certificate[] chain(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return new X509Certificate[] {(X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)};
    }
  }
}
