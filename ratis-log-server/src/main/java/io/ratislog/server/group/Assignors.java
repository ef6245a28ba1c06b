package io.ratislog.server.group;

import io.ratislog.proto.Assignor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Spreads a group's partitions over its members. Pure functions of sorted inputs: every replica of the metadata
 * group computes the same assignment from the same members and topics.
 *
 * <ul>
 *   <li>{@link Assignor#RANGE}: per topic (in name order), the members subscribed to it in id order get
 *       consecutive ranges of its partitions; with p partitions and m members the first p mod m members get
 *       one more.</li>
 *   <li>{@link Assignor#ROUND_ROBIN}: every (topic, partition) in (name, number) order is dealt to the next
 *       member in id order, skipping members not subscribed to that topic.</li>
 * </ul>
 * Each partition of a subscribed, existing topic is assigned to exactly one member.
 */
public final class Assignors {
  private Assignors() {
  }

  /**
   * Computes an assignment.
   *
   * @param assignor      the strategy
   * @param subscriptions member id → subscribed topics
   * @param partitions    topic → partition count, for the topics that exist
   * @return member id → topic → assigned partitions (ascending); every member appears, possibly with nothing
   */
  public static SortedMap<String, SortedMap<String, List<Integer>>> assign(
      Assignor assignor, Map<String, ? extends Set<String>> subscriptions, Map<String, Integer> partitions) {
    SortedMap<String, SortedMap<String, List<Integer>>> out = new TreeMap<>();
    for (String m : new TreeSet<>(subscriptions.keySet())) {
      out.put(m, new TreeMap<>());
    }
    SortedMap<String, List<String>> subscribers = new TreeMap<>();
    for (String m : out.keySet()) {
      for (String t : subscriptions.get(m)) {
        if (partitions.containsKey(t)) {
          subscribers.computeIfAbsent(t, k -> new ArrayList<>()).add(m);
        }
      }
    }
    if (assignor == Assignor.ROUND_ROBIN) {
      List<String> members = new ArrayList<>(out.keySet());
      int cursor = 0;
      for (Map.Entry<String, List<String>> e : subscribers.entrySet()) {
        Set<String> subscribed = Set.copyOf(e.getValue());
        for (int p = 0; p < partitions.get(e.getKey()); p++) {
          while (!subscribed.contains(members.get(cursor % members.size()))) {
            cursor++;
          }
          String m = members.get(cursor % members.size());
          cursor++;
          out.get(m).computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(p);
        }
      }
      return out;
    }
    for (Map.Entry<String, List<String>> e : subscribers.entrySet()) {
      List<String> members = e.getValue(); // already in id order
      int count = partitions.get(e.getKey());
      int per = count / members.size();
      int extra = count % members.size();
      int next = 0;
      for (int i = 0; i < members.size(); i++) {
        int n = per + (i < extra ? 1 : 0);
        if (n == 0) {
          continue;
        }
        List<Integer> range = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
          range.add(next++);
        }
        out.get(members.get(i)).put(e.getKey(), range);
      }
    }
    return out;
  }
}
