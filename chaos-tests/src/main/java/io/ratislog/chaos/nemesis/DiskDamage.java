package io.ratislog.chaos.nemesis;

import io.ratislog.server.entries.PartitionSnapshotMeta;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Damage to a stopped node's files, as a crash in the middle of a write leaves them: the tail of a file
 * torn off (truncated) or garbled (bytes flipped). Knows the node's layout: {@code data.dir/raft/<group>/}
 * with {@code current/log_inprogress_<index>} (Ratis' open Raft log segment) and, for a partition group,
 * {@code sm/segments/<base>.log} (the partition's records) beside {@code sm/snapshot.<term>_<index>} (a
 * {@link PartitionSnapshotMeta} naming the sealed, forced segments).
 *
 * <p>Only data the server does not claim durable is damaged in the partition segments: the last segment
 * is touched only when no snapshot names it (segments named by a snapshot were forced before it; the
 * active segment after it is written unforced and rebuilt from the Raft log on restart). The open Raft
 * log segment is forced before an entry counts, so its damage is limited to the last few bytes, inside
 * the last entry: a torn or garbled last append, which may already have been acknowledged by the quorum
 * of the other replicas.
 */
public final class DiskDamage {
  private static final Pattern SNAPSHOT = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");

  private DiskDamage() {}

  /**
   * The partition groups' directories of a node (those with {@code sm/segments}; the metadata group has none).
   *
   * @param dataDir the node's data directory
   * @return the directories, sorted
   */
  public static List<Path> partitionGroupDirs(Path dataDir) {
    Path raft = dataDir.resolve("raft");
    if (!Files.isDirectory(raft)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(raft)) {
      return s.filter(d -> Files.isDirectory(d.resolve("sm").resolve("segments"))).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The last non-empty partition segment of a group, when no snapshot names it (its data is unforced).
   *
   * @param groupDir a partition group's directory
   * @return the segment file, or empty when there is none or the newest snapshot names it
   */
  public static Optional<Path> unforcedLastSegment(Path groupDir) {
    Path sm = groupDir.resolve("sm");
    List<Path> logs = list(sm.resolve("segments"), ".log");
    Path last = null;
    for (Path p : logs) {
      if (size(p) > 0) {
        last = p;
      }
    }
    if (last == null) {
      return Optional.empty();
    }
    Set<String> named = namedBySnapshot(sm);
    String rel = sm.relativize(last).toString();
    return named.contains(rel) || named.contains(last.getFileName().toString()) ? Optional.empty()
        : Optional.of(last);
  }

  /**
   * Every partition segment file of a group the newest snapshot does not name (data and index files):
   * what the server wrote since its last snapshot without forcing it.
   *
   * @param groupDir a partition group's directory
   * @return the files, sorted
   */
  public static List<Path> unforcedSegmentFiles(Path groupDir) {
    Path sm = groupDir.resolve("sm");
    Set<String> named = namedBySnapshot(sm);
    List<Path> out = new ArrayList<>();
    for (Path p : list(sm.resolve("segments"), "")) {
      String name = p.getFileName().toString();
      if (!name.endsWith(".log") && !name.endsWith(".index")) {
        continue;
      }
      String log = name.endsWith(".index") ? name.substring(0, name.length() - ".index".length()) + ".log" : name;
      if (!named.contains("segments/" + log) && !named.contains(log)) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Loses what was not forced: truncates each file to 0 bytes, as a power failure leaves files whose
   * creation reached the disk but whose data did not (ext4 {@code data=ordered} after a crash).
   *
   * @param files the files
   * @return what was done
   */
  public static String loseAll(List<Path> files) {
    List<String> what = new ArrayList<>();
    for (Path f : files) {
      long size = size(f);
      if (size == 0) {
        continue;
      }
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
        ch.truncate(0);
        ch.force(true);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      what.add(f.getFileName() + " (" + size + " bytes)");
    }
    return what.isEmpty() ? "nothing unforced" : "lost " + String.join(", ", what);
  }

  /**
   * The open Raft log segment of a group ({@code current/log_inprogress_*}).
   *
   * @param groupDir a group's directory
   * @return the file, or empty when there is none or it is empty
   */
  public static Optional<Path> openRaftSegment(Path groupDir) {
    return list(groupDir.resolve("current"), "").stream()
        .filter(p -> p.getFileName().toString().startsWith("log_inprogress_") && size(p) > 0)
        .max(Comparator.comparing(p -> p.getFileName().toString()));
  }

  /**
   * Truncates the last {@code 1..maxBytes} bytes of a file.
   *
   * @param file     the file
   * @param maxBytes at most this many bytes go
   * @param random   randomness
   * @return what was done
   */
  public static String tear(Path file, int maxBytes, Random random) {
    long size = dataEnd(file);
    long cut = 1 + random.nextInt((int) Math.max(1, Math.min(maxBytes, size)));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size - cut); // a preallocated file loses its zeros too: as if the tear came before preallocation
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file.getFileName() + ": tore " + cut + " of " + size + " data bytes off";
  }

  /**
   * Flips {@code 1..4} distinct random bytes among the last {@code window} bytes of a file.
   *
   * @param file   the file
   * @param window the tail the bytes are chosen in
   * @param random randomness
   * @return what was done
   */
  public static String corrupt(Path file, int window, Random random) {
    long size = dataEnd(file);
    int span = (int) Math.max(1, Math.min(window, size));
    int flips = 1 + random.nextInt(4);
    List<Long> at = new ArrayList<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      Set<Long> chosen = new java.util.TreeSet<>();
      while (chosen.size() < Math.min(flips, span)) {
        chosen.add(size - 1 - random.nextInt(span));
      }
      for (long pos : chosen) {
        ByteBuffer b = ByteBuffer.allocate(1);
        ch.read(b, pos);
        b.flip();
        byte v = b.get(0);
        byte flipped = (byte) (v ^ (1 + random.nextInt(255)));
        ch.write(ByteBuffer.wrap(new byte[] {flipped}), pos);
        at.add(pos);
      }
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file.getFileName() + ": flipped bytes at " + at + " of " + size + " data bytes";
  }

  /**
   * Where a file's data ends: after its last non-zero byte. Ratis preallocates its open segment with zeros,
   * so the file's size says nothing; a record or entry never ends in four zero bytes (it ends in its CRC),
   * so this is the end of the last write, give or take the zero bytes a CRC may end with.
   *
   * @param file the file
   * @return the length of its data
   */
  static long dataEnd(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long end = ch.size();
      ByteBuffer b = ByteBuffer.allocate(64 * 1024);
      while (end > 0) {
        long from = Math.max(0, end - b.capacity());
        b.clear().limit((int) (end - from));
        while (b.hasRemaining() && ch.read(b, from + b.position()) > 0) {
          // fill
        }
        for (int i = (int) (end - from) - 1; i >= 0; i--) {
          if (b.get(i) != 0) {
            return from + i + 1;
          }
        }
        end = from;
      }
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Set<String> namedBySnapshot(Path sm) {
    Path newest = null;
    long bestTerm = -1;
    long bestIndex = -1;
    for (Path p : list(sm, "")) {
      Matcher m = SNAPSHOT.matcher(p.getFileName().toString());
      if (m.matches()) {
        long t = Long.parseLong(m.group(1));
        long i = Long.parseLong(m.group(2));
        if (t > bestTerm || (t == bestTerm && i > bestIndex)) {
          bestTerm = t;
          bestIndex = i;
          newest = p;
        }
      }
    }
    if (newest == null) {
      return Set.of();
    }
    try {
      return new HashSet<>(PartitionSnapshotMeta.parseFrom(Files.readAllBytes(newest)).getSegmentFilesList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> list(Path dir, String suffix) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
