package io.ratislog.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.server.entries.PartitionSnapshotMeta;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which files a disk fault picks on a node's layout, and that tearing and garbling change only the tail. */
class DiskDamageTest {

  private static Path group(Path data, String name) throws Exception {
    Path g = data.resolve("raft").resolve(name);
    Files.createDirectories(g.resolve("sm").resolve("segments"));
    Files.createDirectories(g.resolve("current"));
    return g;
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new Random(7).nextBytes(b);
    return b;
  }

  @Test
  void picksTheLastNonEmptySegmentOnlyWhenNoSnapshotNamesIt(@TempDir Path data) throws Exception {
    Path g = group(data, "72617469-7300-0002-0000-000001000001");
    Files.createDirectories(data.resolve("raft").resolve("72617469-7300-0001-0000-000000000000").resolve("current"));
    Path seg = g.resolve("sm").resolve("segments");
    Files.write(seg.resolve("00000000000000000000.log"), bytes(100));
    Files.write(seg.resolve("00000000000000000010.log"), bytes(50));
    Files.write(seg.resolve("00000000000000000020.log"), new byte[0]);
    assertEquals(List.of(g), DiskDamage.partitionGroupDirs(data), "the metadata group has no segments");
    assertEquals(Optional.of(seg.resolve("00000000000000000010.log")), DiskDamage.unforcedLastSegment(g));

    Files.write(g.resolve("sm").resolve("snapshot.1_5"), PartitionSnapshotMeta.newBuilder().setNextOffset(10)
        .addSegmentFiles("segments/00000000000000000000.log").build().toByteArray());
    Files.write(g.resolve("sm").resolve("snapshot.2_9"), PartitionSnapshotMeta.newBuilder().setNextOffset(20)
        .addSegmentFiles("segments/00000000000000000000.log").addSegmentFiles("segments/00000000000000000010.log")
        .build().toByteArray());
    assertEquals(Optional.empty(), DiskDamage.unforcedLastSegment(g), "the newest snapshot names it: forced");
  }

  @Test
  void findsTheOpenRaftLogSegment(@TempDir Path data) throws Exception {
    Path g = group(data, "g");
    assertEquals(Optional.empty(), DiskDamage.openRaftSegment(g));
    Files.write(g.resolve("current").resolve("log_0-99"), bytes(10));
    Files.write(g.resolve("current").resolve("log_inprogress_100"), bytes(10));
    assertEquals(Optional.of(g.resolve("current").resolve("log_inprogress_100")), DiskDamage.openRaftSegment(g));
  }

  @Test
  void aPreallocatedFileIsDamagedAtTheEndOfItsData(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("log_inprogress_0");
    byte[] data = new byte[4096];
    byte[] head = bytes(700);
    System.arraycopy(head, 0, data, 0, 700);
    data[699] = 9;
    data[698] = 0;
    Files.write(f, data);
    assertEquals(700, DiskDamage.dataEnd(f));
    String note = DiskDamage.tear(f, 24, new Random(3));
    long size = Files.size(f);
    assertTrue(size >= 676 && size < 700, note + " -> " + size);
    Files.write(f, data);
    DiskDamage.corrupt(f, 16, new Random(3));
    byte[] bad = Files.readAllBytes(f);
    assertEquals(java.nio.ByteBuffer.wrap(data, 0, 684), java.nio.ByteBuffer.wrap(bad, 0, 684));
    assertEquals(java.nio.ByteBuffer.wrap(data, 700, 3396), java.nio.ByteBuffer.wrap(bad, 700, 3396));
  }

  @Test
  void tearingCutsOnlyTheTailAndCorruptingChangesOnlyTheTail(@TempDir Path dir) throws Exception {
    Random r = new Random(1);
    for (int i = 0; i < 50; i++) {
      Path f = dir.resolve("f" + i);
      byte[] orig = bytes(1000);
      orig[999] = 1; // the data ends at the last byte
      Files.write(f, orig);
      String note = DiskDamage.tear(f, 24, r);
      byte[] torn = Files.readAllBytes(f);
      assertTrue(torn.length >= 976 && torn.length < 1000, note);
      assertEquals(java.nio.ByteBuffer.wrap(orig, 0, torn.length), java.nio.ByteBuffer.wrap(torn));

      Files.write(f, orig);
      note = DiskDamage.corrupt(f, 16, r);
      byte[] bad = Files.readAllBytes(f);
      assertEquals(1000, bad.length);
      assertEquals(java.nio.ByteBuffer.wrap(orig, 0, 984), java.nio.ByteBuffer.wrap(bad, 0, 984), note);
      assertNotEquals(java.nio.ByteBuffer.wrap(orig), java.nio.ByteBuffer.wrap(bad), note);
    }
  }
}
