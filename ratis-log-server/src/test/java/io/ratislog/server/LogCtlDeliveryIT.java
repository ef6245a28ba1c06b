package io.ratislog.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** logctl's delivery options, push consumption and group commands against a real 3-node cluster. */
class LogCtlDeliveryIT {
  @TempDir Path dir;

  private static LogCtlRun logctl(MiniCluster c, String stdin, String... args) {
    return LogCtlRun.of(c, stdin, args);
  }

  @Test
  void deliveryModesPushAndGroups() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll()) {
      assertEquals(0, logctl(c, "", "topic", "create", "t", "--partitions", "2", "--replication", "3").exit());
      String lines = IntStream.range(0, 300).mapToObj(i -> "k" + i + ":v" + i).collect(Collectors.joining("\n")) + "\n";
      for (String mode : List.of("at-most-once", "at-least-once", "exactly-once")) {
        LogCtlRun p = logctl(c, lines, "produce", "t", "--key-separator", ":", "--delivery", mode);
        assertEquals(0, p.exit(), p.err());
        assertTrue(p.err().contains("acknowledged 300 records"), p.err());
      }
      assertEquals(2, logctl(c, "", "produce", "t", "--delivery", "twice").exit(), "a bad mode is a usage error");
      assertEquals(0, logctl(c, "", "topic", "create", "gone", "--partitions", "1", "--replication", "3").exit());
      assertEquals("{\"deleted\":\"gone\"}", logctl(c, "", "-o", "json", "topic", "delete", "gone").out().trim());

      LogCtlRun pushed = logctl(c, "", "consume", "t", "--from-beginning", "--push", "--max-records", "900", "--timeout-ms", "10000");
      assertEquals(0, pushed.exit(), pushed.err());
      assertEquals(900, pushed.lines().size());

      // A group consumer commits as it goes: a second run of the same group starts after what the first printed.
      LogCtlRun first = logctl(c, "", "consume", "t", "--group", "g", "--from-beginning", "--max-records", "500",
          "--delivery", "at-least-once", "--timeout-ms", "10000");
      assertEquals(0, first.exit(), first.err());
      assertEquals(500, first.lines().size());
      LogCtlRun rest = logctl(c, "", "consume", "t", "--group", "g", "--from-beginning", "--timeout-ms", "10000");
      assertEquals(0, rest.exit(), rest.err());
      assertEquals(400, rest.lines().size(), "resumed exactly after what the first run printed and committed");

      LogCtlRun list = logctl(c, "", "group", "list");
      assertEquals(0, list.exit(), list.err());
      assertTrue(list.out().lines().anyMatch(l -> l.startsWith("g  ")), list.out());
      LogCtlRun describe = logctl(c, "", "group", "describe", "g");
      assertEquals(0, describe.exit(), describe.err());
      assertTrue(describe.out().contains("TOPIC  PARTITION  MEMBER  COMMITTED  END  LAG"), describe.out());
      long lagged = describe.out().lines().filter(l -> l.startsWith("t  ")).filter(l -> l.endsWith("  0")).count();
      assertEquals(2, lagged, "both partitions fully committed: " + describe.out());
      // The same for scripts: --output json (a global option, accepted after the subcommand too).
      com.fasterxml.jackson.databind.JsonNode groups = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(logctl(c, "", "--output", "json", "group", "list").out());
      assertTrue(groups.isArray() && groups.size() >= 1 && groups.get(0).get("group").asText().equals("g"), groups.toString());
      com.fasterxml.jackson.databind.JsonNode g = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(logctl(c, "", "group", "describe", "g", "-o", "json").out());
      assertEquals("g", g.get("group").asText());
      assertEquals(2, g.get("partitions").size(), g.toString());
      for (com.fasterxml.jackson.databind.JsonNode part : g.get("partitions")) {
        assertEquals(0, part.get("lag").asLong(), g.toString());
        assertEquals(part.get("log_end").asLong(), part.get("committed").asLong(), g.toString());
      }

      LogCtlRun reset = logctl(c, "", "group", "reset-offsets", "g", "--topic", "t", "--to-earliest");
      assertEquals(0, reset.exit(), reset.err());
      assertTrue(reset.out().contains("partition 0: committed offset 0"), reset.out());
      LogCtlRun again = logctl(c, "", "consume", "t", "--group", "g", "--max-records", "900", "--timeout-ms", "10000");
      assertEquals(900, again.lines().size(), "after the reset the group reads everything again");
      assertEquals(2, logctl(c, "", "group", "reset-offsets", "g", "--topic", "t").exit(), "a target is required");
      com.fasterxml.jackson.databind.JsonNode latest = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
          logctl(c, "", "-o", "json", "group", "reset-offsets", "g", "--topic", "t", "--to-latest").out());
      assertEquals(2, latest.get("partitions").size(), latest.toString());
      assertEquals(900, latest.get("partitions").get(0).get("committed").asLong()
          + latest.get("partitions").get(1).get("committed").asLong(), "to the log ends: " + latest);

      LogCtlRun pushedGroup = logctl(c, "", "consume", "t", "--group", "gp", "--push", "--from-beginning",
          "--max-records", "900", "--timeout-ms", "15000");
      assertEquals(0, pushedGroup.exit(), pushedGroup.err());
      assertEquals(900, pushedGroup.lines().size(), "a group member consuming by push");
    }
  }
}
