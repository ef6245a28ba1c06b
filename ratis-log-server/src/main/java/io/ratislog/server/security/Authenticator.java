package io.ratislog.server.security;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.ratislog.server.config.SecurityConfig;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Finds the principal of a call: a bearer token ({@code authorization: Bearer <token>}, checked against the token
 * file) wins; else the CN of a verified client certificate; else {@link Principals#ANONYMOUS}, unless
 * authentication is required.
 */
public final class Authenticator {
  /** The gRPC metadata key of the bearer token. */
  public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** A call that may not proceed; the message says why. */
  public static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message, null, false, false);
    }
  }

  private final boolean required;
  private final TokenStore tokens;

  public Authenticator(SecurityConfig config) {
    this.required = config.authenticationRequired();
    this.tokens = config.tokenFile() == null ? null : new TokenStore(config.tokenFile());
  }

  public String principal(ServerCall<?, ?> call, Metadata headers) throws Failure {
    String auth = headers.get(AUTHORIZATION);
    if (auth != null) {
      if (!auth.regionMatches(true, 0, "Bearer ", 0, 7) || auth.length() <= 7) {
        throw new Failure("the authorization header must be 'Bearer <token>'");
      }
      if (tokens == null) {
        throw new Failure("this node accepts no bearer tokens (no auth.token.file)");
      }
      String p = tokens.principal(auth.substring(7).strip());
      if (p == null) {
        throw new Failure("unknown bearer token");
      }
      return p;
    }
    String cn = certificateName(call);
    if (cn != null) {
      return cn;
    }
    if (required) {
      throw new Failure("authentication required: present a client certificate or a bearer token");
    }
    return Principals.ANONYMOUS;
  }

  private static String certificateName(ServerCall<?, ?> call) throws Failure {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate x)) {
      return null;
    }
    String cn = Principals.commonName(x);
    if (cn == null || cn.isBlank()) {
      throw new Failure("the client certificate has no CN to name its principal");
    }
    return cn;
  }
}
