package io.ratislog.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How a client proves who it is and checks who it talks to: TLS (a CA to verify the nodes' certificates, and
 * optionally a client certificate and key for mutual TLS, whose CN is the client's principal) and/or a bearer
 * token (sent as {@code authorization: Bearer <token>} with every request). Use with
 * {@link ChannelFactory#secure(ClientSecurity)}.
 *
 * @param caFile   PEM CA certificate(s) trusted for the nodes' certificates; null = plaintext
 * @param certFile PEM client certificate, or null
 * @param keyFile  PEM PKCS#8 private key of {@code certFile}, or null
 * @param token    bearer token, or null
 */
public record ClientSecurity(Path caFile, Path certFile, Path keyFile, String token) {
  /** Nothing: plaintext, anonymous. */
  public static final ClientSecurity NONE = new ClientSecurity(null, null, null, null);

  /**
   * Validates the combination.
   *
   * @param caFile   CA file or null
   * @param certFile certificate or null (needs keyFile and caFile)
   * @param keyFile  key or null (needs certFile)
   * @param token    token or null; no whitespace
   */
  public ClientSecurity {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("a client certificate needs its key and the other way round");
    }
    if (certFile != null && caFile == null) {
      throw new IllegalArgumentException("a client certificate needs TLS: give the CA file too");
    }
    if (token != null && (token.isBlank() || token.chars().anyMatch(c -> c <= ' ' || c > '~'))) {
      throw new IllegalArgumentException("a token is printable ASCII without spaces");
    }
  }

  /**
   * TLS with a CA only (server-authenticated).
   *
   * @param caFile PEM CA file
   * @return the settings
   */
  public static ClientSecurity tls(Path caFile) {
    return new ClientSecurity(Objects.requireNonNull(caFile), null, null, null);
  }

  /**
   * Mutual TLS: the principal is the certificate's CN.
   *
   * @param caFile   PEM CA file
   * @param certFile PEM client certificate
   * @param keyFile  PEM PKCS#8 key
   * @return the settings
   */
  public static ClientSecurity mutualTls(Path caFile, Path certFile, Path keyFile) {
    return new ClientSecurity(caFile, Objects.requireNonNull(certFile), Objects.requireNonNull(keyFile), null);
  }

  /**
   * The same settings with a bearer token.
   *
   * @param bearer the token
   * @return the new settings
   */
  public ClientSecurity withToken(String bearer) {
    return new ClientSecurity(caFile, certFile, keyFile, bearer);
  }

  /**
   * Reads a token from the first line of a file.
   *
   * @param file the file
   * @return the token
   * @throws IOException when it cannot be read
   */
  public static String readToken(Path file) throws IOException {
    String s = Files.readString(file, StandardCharsets.UTF_8).strip();
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl).strip();
  }

  /**
   * Whether the channels use TLS.
   *
   * @return true with a CA file
   */
  public boolean tls() {
    return caFile != null;
  }
}
