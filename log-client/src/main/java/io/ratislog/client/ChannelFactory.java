package io.ratislog.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.ratislog.proto.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Creates the gRPC channel to one node. The default is plaintext with keepalive; {@link #secure} adds TLS and a
 * bearer token; tests plug in in-process channels. The built-in factories honour the servers' quota throttle
 * times (each channel holds back its next call while its node asked it to wait).
 */
@FunctionalInterface
public interface ChannelFactory {

  /** The gRPC metadata key of the bearer token. */
  Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * Opens a channel to a node.
   *
   * @param address the node's client address
   * @return a new channel, closed by the caller
   */
  ManagedChannel create(HostPort address);

  /**
   * The default factory: plaintext, keepalive pings after 30 s of silence during calls (timeout
   * 10 s), 64 MiB max inbound message size.
   *
   * @return the default factory
   */
  static ChannelFactory plaintext() {
    return secure(ClientSecurity.NONE);
  }

  /**
   * A factory for the given security settings (TLS 1.3 when a CA is given, mutual TLS with a client
   * certificate, a bearer token on every call), otherwise as {@link #plaintext()}.
   *
   * @param security the settings
   * @return the factory
   * @throws RatislogException INVALID_REQUEST when the PEM files cannot be used
   */
  static ChannelFactory secure(ClientSecurity security) {
    SslContext ssl = null;
    if (security.tls()) {
      try {
        SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
            .trustManager(security.caFile().toFile())
            .protocols("TLSv1.3");
        if (security.certFile() != null) {
          b.keyManager(security.certFile().toFile(), security.keyFile().toFile());
        }
        ssl = b.build();
      } catch (SSLException | IllegalArgumentException e) {
        throw new RatislogException(ErrorCode.INVALID_REQUEST, "TLS setup failed: " + e.getMessage(), e);
      }
    }
    SslContext sslContext = ssl;
    String token = security.token();
    return address -> {
      NettyChannelBuilder b = NettyChannelBuilder.forAddress(address.host(), address.port())
          .keepAliveTime(30, TimeUnit.SECONDS)
          .keepAliveTimeout(10, TimeUnit.SECONDS)
          .maxInboundMessageSize(64 * 1024 * 1024);
      if (sslContext != null) {
        b.sslContext(sslContext);
      } else {
        b.usePlaintext();
      }
      List<ClientInterceptor> interceptors = new ArrayList<>();
      interceptors.add(new ThrottleInterceptor());
      if (token != null) {
        interceptors.add(bearer(token));
      }
      return b.intercept(interceptors).build();
    };
  }

  /**
   * An interceptor that sends {@code authorization: Bearer <token>} with every call.
   *
   * @param token the token
   * @return the interceptor
   */
  static ClientInterceptor bearer(String token) {
    String value = "Bearer " + token;
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            headers.put(AUTHORIZATION, value);
            super.start(listener, headers);
          }
        };
      }
    };
  }
}
