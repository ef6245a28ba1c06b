package io.ratislog.server.group;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.proto.Assignor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AssignorsTest {
  @Test
  void rangeGivesConsecutiveRangesExtrasToTheFirstMembers() {
    var a = Assignors.assign(Assignor.RANGE, Map.of("m1", Set.of("t"), "m2", Set.of("t"), "m3", Set.of("t")),
        Map.of("t", 7));
    assertEquals(Map.of("t", List.of(0, 1, 2)), a.get("m1"));
    assertEquals(Map.of("t", List.of(3, 4)), a.get("m2"));
    assertEquals(Map.of("t", List.of(5, 6)), a.get("m3"));
  }

  @Test
  void rangeIsPerTopicAndOnlyOverSubscribers() {
    var a = Assignors.assign(Assignor.RANGE, Map.of("a", Set.of("x", "y"), "b", Set.of("y"), "c", Set.of("zzz")),
        Map.of("x", 2, "y", 3));
    assertEquals(Map.of("x", List.of(0, 1), "y", List.of(0, 1)), a.get("a"));
    assertEquals(Map.of("y", List.of(2)), a.get("b"));
    assertEquals(Map.of(), a.get("c"), "a topic that does not exist assigns nothing");
  }

  @Test
  void roundRobinDealsInTurnSkippingNonSubscribers() {
    var a = Assignors.assign(Assignor.ROUND_ROBIN, Map.of("m1", Set.of("t", "u"), "m2", Set.of("t")),
        Map.of("t", 3, "u", 2));
    assertEquals(Map.of("t", List.of(0, 2), "u", List.of(0, 1)), a.get("m1"));
    assertEquals(Map.of("t", List.of(1)), a.get("m2"));
  }

  @Test
  void everyPartitionOfASubscribedTopicIsAssignedExactlyOnceAndBalanced() {
    Random r = new Random(7);
    for (int round = 0; round < 200; round++) {
      Map<String, Integer> topics = new TreeMap<>();
      for (int t = 0; t < 1 + r.nextInt(4); t++) {
        topics.put("t" + t, 1 + r.nextInt(12));
      }
      Map<String, Set<String>> subs = new HashMap<>();
      int members = 1 + r.nextInt(6);
      for (int m = 0; m < members; m++) {
        subs.put("m" + m, Set.copyOf(topics.keySet()));
      }
      for (Assignor assignor : List.of(Assignor.RANGE, Assignor.ROUND_ROBIN)) {
        SortedMap<String, SortedMap<String, List<Integer>>> a = Assignors.assign(assignor, subs, topics);
        Map<String, Integer> seen = new HashMap<>();
        a.values().forEach(byTopic -> byTopic.forEach((t, ps) -> ps.forEach(p -> seen.merge(t + "-" + p, 1, Integer::sum))));
        int total = topics.values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(total, seen.size(), assignor + ": every partition assigned");
        seen.values().forEach(n -> assertEquals(1, n, assignor + ": no partition assigned twice"));
        assertEquals(a, Assignors.assign(assignor, new TreeMap<>(subs), new HashMap<>(topics)), "deterministic");
        if (assignor == Assignor.ROUND_ROBIN) {
          List<Integer> counts = new ArrayList<>();
          a.values().forEach(byTopic -> counts.add(byTopic.values().stream().mapToInt(List::size).sum()));
          int max = counts.stream().mapToInt(Integer::intValue).max().orElse(0);
          int min = counts.stream().mapToInt(Integer::intValue).min().orElse(0);
          assertEquals(true, max - min <= 1, "round robin balances the total: " + counts);
        }
      }
    }
  }
}
