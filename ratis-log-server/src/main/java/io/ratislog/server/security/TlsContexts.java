package io.ratislog.server.security;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.config.SecurityConfig;
import java.io.IOException;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.security.TlsConf;

/**
 * Builds the TLS contexts of a node from its PEM files: the client-facing gRPC server's, the one the node uses as
 * a client of its peers' client ports (Ping), and the Ratis peer links' (mutual TLS, node certificates only, see
 * {@link NodeTrustManager}). All use the JDK provider and the configured protocols (TLSv1.3 by default).
 */
public final class TlsContexts {
  private TlsContexts() {
  }

  /** The client-facing server's context, or null when TLS is off. */
  public static SslContext clientServer(SecurityConfig s) throws IOException {
    if (!s.tlsEnabled()) {
      return null;
    }
    SslContextBuilder b = GrpcSslContexts.configure(
        SslContextBuilder.forServer(s.tlsCert().toFile(), s.tlsKey().toFile()), SslProvider.JDK);
    if (s.tlsCa() != null) {
      b.trustManager(NodeTrustManager.forCa(s.tlsCa()));
    }
    b.clientAuth(switch (s.clientAuth()) {
      case NONE -> ClientAuth.NONE;
      case OPTIONAL -> ClientAuth.OPTIONAL;
      case REQUIRE -> ClientAuth.REQUIRE;
    });
    b.protocols(s.protocols());
    return build(b);
  }

  /**
   * The context for this node's channels to its peers' client ports: trusts the CA and presents the node
   * certificate (peers may require client certificates). Null when TLS is off.
   */
  public static SslContext peerClient(SecurityConfig s) throws IOException {
    if (!s.tlsEnabled()) {
      return null;
    }
    SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
        .keyManager(s.tlsCert().toFile(), s.tlsKey().toFile())
        .protocols(s.protocols());
    if (s.tlsCa() != null) {
      b.trustManager(NodeTrustManager.forCa(s.tlsCa()));
    }
    return build(b);
  }

  /**
   * A channel builder for a peer's client port: TLS with {@code peerClient} (see {@link #peerClient}), plaintext when
   * that is null.
   */
  public static NettyChannelBuilder peerChannel(String host, int port, SslContext peerClient) {
    NettyChannelBuilder b = NettyChannelBuilder.forAddress(host, port);
    return peerClient == null ? b.usePlaintext() : b.sslContext(peerClient);
  }

  /** Puts the Ratis peer-link TLS configuration (mutual, node certificates only) into {@code params}. */
  public static void configureRaft(NodeConfig config, Parameters params) throws IOException {
    SecurityConfig s = config.security();
    if (!s.peerTls()) {
      return;
    }
    Set<String> nodes = config.peers().stream().map(p -> Principals.nodeName(p.id())).collect(Collectors.toSet());
    GrpcTlsConfig tls = GrpcTlsConfig.newBuilder()
        .setName("ratislog-peer-" + config.nodeId())
        .setPrivateKey(new TlsConf.PrivateKeyConf(s.tlsKey().toFile()))
        .setKeyCertificates(new TlsConf.CertificatesConf(s.tlsCert().toFile()))
        .setTrustManager(new NodeTrustManager(NodeTrustManager.forCa(s.tlsCa()), nodes))
        .setMutualTls(true)
        .setSslProvider(org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider.JDK)
        .setProtocols(s.protocols().toArray(new String[0]))
        .build();
    GrpcConfigKeys.TLS.setConf(params, tls);
  }

  private static SslContext build(SslContextBuilder b) throws IOException {
    try {
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IOException("TLS setup failed: " + e.getMessage(), e);
    }
  }
}
