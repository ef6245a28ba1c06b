package org.apache.ratis.util;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * ratislog's replacement for Ratis 3.3.0's class of the same name: the same CRC-32C (Castagnoli), computed by the
 * JDK's {@link CRC32C} (a CPU instruction on x86-64 and aarch64) instead of Ratis' table-driven Java loop.
 *
 * <p><b>Why this class shadows Ratis' own.</b> Ratis checksums every Raft log entry it writes and reads
 * ({@code SegmentedRaftLogOutputStream}, {@code SegmentedRaftLogReader}) with {@code new PureJavaCrc32C()}, and no
 * setting chooses another. Ratis targets Java 8, which has no {@code java.util.zip.CRC32C}. On JDK 17 with C1 only
 * (ratislog's JIT on 2 CPUs) the Java loop runs at ~1.2 GB/s against the intrinsic's tens of GB/s, and took 9 % of
 * all CPU samples on a 3-node box producing 1 KiB records; with this class that case made 11 % more records/s
 * ({@code docs/BENCHMARKS-notes.md}, 2026-12-04). Entries written by either class carry the same checksum, so Raft logs
 * stay readable in both directions.
 *
 * <p><b>How it takes effect.</b> The JVM loads the first class of a name on the classpath: ratislog's own classes or
 * jar must come before {@code ratis-common} (Maven's test classpath, {@code scripts/env.sh}, {@code bin/logd} and the
 * chaos suite's launcher all put them first). {@code io.ratislog.server.raft.RaftLogChecksum} logs a warning at
 * startup when Ratis' original was loaded instead, which costs CPU, never correctness.
 *
 * <p><b>Kept in step with Ratis.</b> The public members are exactly those of Ratis 3.3.0's class (a test compares
 * both signatures and checksums, loading the original from the {@code ratis-common} jar); re-check on every Ratis
 * upgrade.
 */
public class PureJavaCrc32C implements Checksum {
  private final CRC32C crc = new CRC32C();

  /** A checksum of no bytes. */
  public PureJavaCrc32C() {
  }

  @Override
  public long getValue() {
    return crc.getValue();
  }

  @Override
  public void reset() {
    crc.reset();
  }

  @Override
  public void update(byte[] b, int off, int len) {
    crc.update(b, off, len);
  }

  /**
   * Adds the buffer's remaining bytes. As Ratis' original, this leaves the buffer's position where it was (its
   * callers position the buffer themselves afterwards), where {@link CRC32C#update(ByteBuffer)} would advance it.
   */
  @Override
  public void update(ByteBuffer b) {
    int position = b.position();
    crc.update(b);
    b.position(position);
  }

  @Override
  public final void update(int b) {
    crc.update(b);
  }
}
