package io.ratislog.server.security;

import io.ratislog.server.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens from {@code auth.token.file}: one {@code principal:token} or {@code principal:sha256:<hex of the
 * token's SHA-256>} per line, {@code #} comments and blank lines ignored. Tokens are kept only as hashes. The file is
 * re-read when its modification time changes (checked at most once a second); a broken new version is logged
 * and the previous one stays in force.
 */
public final class TokenStore {
  private static final Logger LOG = LoggerFactory.getLogger(TokenStore.class);
  private static final long CHECK_INTERVAL_NANOS = 1_000_000_000L;
  private static final HexFormat HEX = HexFormat.of();

  private final Path file;
  private volatile Map<String, String> principalByHash;
  private volatile FileTime loadedMtime;
  private volatile long lastCheckNanos = System.nanoTime();

  /** Loads the file; a problem in it is a {@link ConfigException} naming the line. */
  public TokenStore(Path file) {
    this.file = file;
    try {
      this.loadedMtime = Files.getLastModifiedTime(file);
      this.principalByHash = parse(file, Files.readAllLines(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("auth.token.file", "cannot read " + file + ": " + e.getMessage());
    }
  }

  /** The principal a token belongs to, or null. */
  public String principal(String token) {
    reloadIfChanged();
    return principalByHash.get(hash(token));
  }

  private void reloadIfChanged() {
    long now = System.nanoTime();
    if (now - lastCheckNanos < CHECK_INTERVAL_NANOS) {
      return;
    }
    synchronized (this) {
      if (now - lastCheckNanos < CHECK_INTERVAL_NANOS) {
        return;
      }
      lastCheckNanos = now;
      try {
        FileTime mtime = Files.getLastModifiedTime(file);
        if (!mtime.equals(loadedMtime)) {
          principalByHash = parse(file, Files.readAllLines(file, StandardCharsets.UTF_8));
          loadedMtime = mtime;
          LOG.info("reloaded {} ({} tokens)", file, principalByHash.size());
        }
      } catch (IOException | ConfigException e) {
        LOG.warn("keeping the previous tokens: {}", e.getMessage());
      }
    }
  }

  static Map<String, String> parse(Path file, List<String> lines) {
    Map<String, String> map = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || colon == line.length() - 1) {
        throw new ConfigException("auth.token.file", file + " line " + (i + 1) + ": expected principal:token");
      }
      String principal = line.substring(0, colon).strip();
      String rest = line.substring(colon + 1).strip();
      String hash;
      if (rest.startsWith("sha256:")) {
        hash = rest.substring("sha256:".length()).toLowerCase();
        if (!hash.matches("[0-9a-f]{64}")) {
          throw new ConfigException("auth.token.file", file + " line " + (i + 1) + ": sha256: needs 64 hex digits");
        }
      } else {
        hash = hash(rest);
      }
      if (map.putIfAbsent(hash, principal) != null) {
        throw new ConfigException("auth.token.file", file + " line " + (i + 1) + ": token used twice");
      }
    }
    return Map.copyOf(map);
  }

  /** Hex SHA-256 of a token (what the hashed form of a line holds). */
  public static String hash(String token) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
