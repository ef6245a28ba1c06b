package io.ratislog.server.raft;

import java.security.CodeSource;
import java.util.Objects;
import org.apache.ratis.util.PureJavaCrc32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which CRC-32C Ratis' Raft log runs in this JVM: ratislog's {@link PureJavaCrc32C} (the JDK's intrinsic, shipped in
 * this module under Ratis' class name) or, when the classpath puts {@code ratis-common} first, Ratis' table-driven
 * original. Both compute the same checksums; the original only costs more CPU.
 */
public final class RaftLogChecksum {
  private static final Logger LOG = LoggerFactory.getLogger(RaftLogChecksum.class);

  private RaftLogChecksum() {
  }

  /** True when Ratis' {@code PureJavaCrc32C} was loaded from this module (ratislog's intrinsic one). */
  public static boolean intrinsicInEffect() {
    return Objects.equals(location(PureJavaCrc32C.class), location(RaftLogChecksum.class));
  }

  /** Logs a warning when Ratis' original class is in effect, naming where it came from and how to fix it. */
  public static void warnIfNotIntrinsic() {
    if (!intrinsicInEffect()) {
      LOG.warn("the Raft log checksum is Ratis' table-driven PureJavaCrc32C from {}, not ratislog's (the JDK's CRC32C"
          + " instruction) from {}: same checksums, more CPU (~10 % of a node's at 1 KiB records). Put ratislog's"
          + " jar before ratis-common on the classpath.", location(PureJavaCrc32C.class),
          location(RaftLogChecksum.class));
    }
  }

  private static String location(Class<?> c) {
    CodeSource source = c.getProtectionDomain().getCodeSource();
    return source == null || source.getLocation() == null ? "an unknown location" : source.getLocation().toString();
  }
}
