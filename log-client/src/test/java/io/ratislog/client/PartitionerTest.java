package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PartitionerTest {

  @Property
  void keyedPartitionIsStableAndInRange(@ForAll byte[] key, @ForAll @IntRange(min = 1, max = 1000) int n) {
    Partitioner a = new Partitioner();
    Partitioner b = new Partitioner();
    int p = a.partition("t", key, n);
    assertTrue(p >= 0 && p < n);
    assertEquals(p, a.partition("t", key.clone(), n));
    assertEquals(p, b.partition("other-topic", key, n), "depends on the key only");
  }

  @Test
  void murmur2MatchesKafkaReferenceValues() {
    // Values from Kafka's UtilsTest.testMurmur2.
    assertEquals(-973932308, Partitioner.murmur2("21".getBytes(StandardCharsets.UTF_8)));
    assertEquals(-790332482, Partitioner.murmur2("foobar".getBytes(StandardCharsets.UTF_8)));
    assertEquals(-985981536, Partitioner.murmur2("a-little-bit-long-string".getBytes(StandardCharsets.UTF_8)));
    assertEquals(-1486304829, Partitioner.murmur2("a-little-bit-longer-string".getBytes(StandardCharsets.UTF_8)));
    assertEquals(-58897971,
        Partitioner.murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".getBytes(StandardCharsets.UTF_8)));
    assertEquals(479470107, Partitioner.murmur2("abc".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void keysSpreadEvenly() {
    int n = 12;
    int keys = 120_000;
    int[] counts = new int[n];
    for (int i = 0; i < keys; i++) {
      counts[Partitioner.partitionForKey(("key-" + i).getBytes(StandardCharsets.UTF_8), n)]++;
    }
    int mean = keys / n;
    for (int c : counts) {
      assertTrue(Math.abs(c - mean) < mean * 0.05, "partition count " + c + " far from mean " + mean);
    }
  }

  @Test
  void nullKeysStickUntilBatchFullThenRoundRobin() {
    Partitioner part = new Partitioner();
    int n = 4;
    int first = part.partition("t", null, n);
    assertEquals(first, part.partition("t", null, n), "sticky");
    Set<Integer> seen = new HashSet<>();
    int cur = first;
    for (int i = 0; i < n; i++) {
      seen.add(cur);
      part.onBatchFull("t", cur, n);
      int next = part.partition("t", null, n);
      assertEquals((cur + 1) % n, next);
      cur = next;
    }
    assertEquals(n, seen.size(), "visits every partition");
    // A stale notification for another partition does not move the sticky partition.
    part.onBatchFull("t", (cur + 2) % n, n);
    assertEquals(cur, part.partition("t", null, n));
    assertNotEquals(-1, cur);
  }
}
