package io.ratislog.server.security;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a peer only when its certificate chains to the configured CA (checked by the JDK's PKIX trust manager,
 * hostname verification included) AND its subject CN is one of the cluster's node names ({@code node-<id>}).
 * Guards the Raft peer links: a client certificate from the same CA cannot talk Raft to a node, so everything
 * that arrives on a peer link was authorized by the front end of the node that sent it.
 */
public final class NodeTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager ca;
  private final Set<String> nodeNames;

  public NodeTrustManager(X509ExtendedTrustManager ca, Set<String> nodeNames) {
    this.ca = ca;
    this.nodeNames = Set.copyOf(nodeNames);
  }

  /** The JDK's PKIX trust manager for the CA certificates in a PEM file. */
  public static X509ExtendedTrustManager forCa(Path caPem) throws IOException {
    try (InputStream in = Files.newInputStream(caPem)) {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
      if (i == 0) {
        throw new IOException("no certificate in " + caPem);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new IOException("no X509 trust manager for " + caPem);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read CA certificates " + caPem + ": " + e.getMessage(), e);
    }
  }

  private void checkNode(X509Certificate[] chain) throws CertificateException {
    String cn = Principals.commonName(chain[0]);
    if (cn == null || !nodeNames.contains(cn)) {
      throw new CertificateException("peer certificate CN=" + cn + " is not a node of this cluster " + nodeNames);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    ca.checkClientTrusted(chain, authType, socket);
    checkNode(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    ca.checkServerTrusted(chain, authType, socket);
    checkNode(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    ca.checkClientTrusted(chain, authType, engine);
    checkNode(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    ca.checkServerTrusted(chain, authType, engine);
    checkNode(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    ca.checkClientTrusted(chain, authType);
    checkNode(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    ca.checkServerTrusted(chain, authType);
    checkNode(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return ca.getAcceptedIssuers();
  }
}
