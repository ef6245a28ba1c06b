package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.cli.LineParser;
import io.ratislog.client.cli.LogCtl;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** logctl argument handling, output formats and exit codes (against {@link FakeCluster}). */
class LogCtlTest {

  /** Result of one logctl run. */
  record Run(int exit, String out, String err) {}

  static Run run(ChannelFactory channels, String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = LogCtl.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        channels);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A channel factory that counts uses: argument errors must not contact anything. */
  static final class Counting implements ChannelFactory {
    final AtomicInteger created = new AtomicInteger();

    @Override
    public io.grpc.ManagedChannel create(HostPort address) {
      created.incrementAndGet();
      return io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", 1).usePlaintext().build();
    }
  }

  @Test
  void lineParsing() {
    LineParser.Parsed p = LineParser.parse("k1:v:1", ":");
    assertEquals("k1", p.keyString());
    assertEquals("v:1", p.valueString());
    p = LineParser.parse("novalue", ":");
    assertNull(p.key());
    assertEquals("novalue", p.valueString());
    p = LineParser.parse("a::b", "::");
    assertEquals("a", p.keyString());
    assertEquals("b", p.valueString());
    p = LineParser.parse(":v", ":");
    assertEquals("", p.keyString());
    p = LineParser.parse("k:v", null);
    assertNull(p.key());
    assertEquals("k:v", p.valueString());
    assertEquals("", LineParser.parse("", ":").valueString());
  }

  @Test
  void usageErrorsExitTwoWithOneLine() {
    Counting c = new Counting();
    for (String[] args : new String[][] {
        {"topic", "create", "t"},                       // missing --partitions
        {"topic", "create", "t", "--partitions", "x"},  // not a number
        {"nosuchcommand"},
        {"topic"},
        {},
        {"consume"},
        {"consume", "t", "--offset", "-1"},
        {"consume", "t", "--offset", "3", "--from-beginning"},
        {"consume", "t", "--max-records", "-2"},
        {"produce", "t", "--partition", "-1"},
        {"produce", "t", "--compression", "snappy"},
        {"--bootstrap", "nonsense", "topic", "list"},
    }) {
      Run r = run(c, "", args);
      assertEquals(2, r.exit(), String.join(" ", args) + " -> " + r.err());
      assertTrue(r.err().startsWith("error: INVALID_REQUEST: "), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      assertEquals("", r.out());
    }
    Run neg = run(c, "", "consume", "t", "--offset", "-5");
    assertEquals("error: INVALID_REQUEST: --offset must be >= 0, got -5\n", neg.err());
    assertEquals(0, c.created.get(), "nothing contacted");
  }

  @Test
  void helpExitsZero() {
    Run r = run(new Counting(), "", "--help");
    assertEquals(0, r.exit());
    assertTrue(r.out().contains("produce"));
  }

  @Test
  void topicCommandsAndFormats() throws Exception {
    try (FakeCluster cluster = new FakeCluster(3)) {
      ChannelFactory ch = cluster.channels();
      String bs = cluster.bootstrap(1);
      Run r = run(ch, "", "--bootstrap", bs, "topic", "create", "orders", "--partitions", "3", "--replication", "3");
      assertEquals(0, r.exit(), r.err());
      assertEquals("created topic orders (3 partitions, replication 3)\n", r.out());
      r = run(ch, "", "topic", "create", "logs", "--partitions", "1", "--replication", "2", "--bootstrap", bs);
      assertEquals(0, r.exit(), r.err());

      r = run(ch, "", "--bootstrap", bs, "topic", "list");
      assertEquals("logs  partitions=1  replication=2\norders  partitions=3  replication=3\n", r.out());

      cluster.topics.get("orders").leader[1] = 3;
      cluster.reportedLeaderOverride = -1;
      r = run(ch, "", "--bootstrap", bs, "topic", "describe", "orders");
      assertEquals("PARTITION  LEADER  REPLICAS\n0  1  1,2,3\n1  3  2,3,1\n2  3  3,1,2\n", r.out());
      cluster.reportedLeaderOverride = -1;
      cluster.topics.get("orders").leader[0] = -1; // unknown leader shows as "-"
      r = run(ch, "", "--bootstrap", bs, "topic", "describe", "orders");
      assertTrue(r.out().contains("\n0  -  1,2,3\n"), r.out());
      cluster.topics.get("orders").leader[0] = 1;

      r = run(ch, "", "--bootstrap", bs, "topic", "create", "orders", "--partitions", "3");
      assertEquals(1, r.exit());
      assertEquals("error: TOPIC_ALREADY_EXISTS: topic orders already exists\n", r.err());

      r = run(ch, "", "--bootstrap", bs, "topic", "delete", "logs");
      assertEquals("deleted topic logs\n", r.out());
      r = run(ch, "", "--bootstrap", bs, "topic", "describe", "logs");
      assertEquals(1, r.exit());
      assertTrue(r.err().startsWith("error: UNKNOWN_TOPIC_OR_PARTITION: "), r.err());
    }
  }

  @Test
  void jsonOutputForScripts() throws Exception {
    try (FakeCluster cluster = new FakeCluster(3)) {
      ChannelFactory ch = cluster.channels();
      String bs = cluster.bootstrap(1);
      cluster.createTopic("orders", 2, 3);
      cluster.createTopic("logs", 1, 2);
      cluster.topics.get("orders").leader[1] = -1;
      Run r = run(ch, "", "--bootstrap", bs, "--output", "json", "topic", "list");
      assertEquals(0, r.exit(), r.err());
      assertEquals("[{\"name\":\"logs\",\"topic_id\":" + "logs".hashCode() + ",\"partitions\":1,\"replication_factor\":2,"
          + "\"configs\":{}},{\"name\":\"orders\",\"topic_id\":" + "orders".hashCode() + ",\"partitions\":2,"
          + "\"replication_factor\":3,\"configs\":{}}]\n", r.out());

      // A global option: after the subcommand too, short form -o.
      r = run(ch, "", "topic", "describe", "orders", "--bootstrap", bs, "-o", "json");
      assertEquals(0, r.exit(), r.err());
      assertEquals("{\"name\":\"orders\",\"topic_id\":" + "orders".hashCode() + ",\"replication_factor\":3,\"configs\":{},"
          + "\"partitions\":[{\"partition\":0,\"leader\":1,\"replicas\":[1,2,3]},"
          + "{\"partition\":1,\"leader\":null,\"replicas\":[2,3,1]}]}\n", r.out());

      r = run(ch, "", "--bootstrap", bs, "-o", "json", "topic", "alter", "orders", "--config", "retention.ms=60000");
      assertEquals(0, r.exit(), r.err());
      assertTrue(r.out().contains("\"configs\":{\"retention.ms\":\"60000\"}"), r.out());
      r = run(ch, "", "--bootstrap", bs, "topic", "alter", "orders", "--config", "retention.bytes=10", "--delete-config", "retention.ms");
      assertEquals("altered topic orders: retention.bytes=10\n", r.out());
      r = run(ch, "", "--bootstrap", bs, "topic", "alter", "orders", "--config", "cleanup.policy=compact");
      assertEquals(1, r.exit());
      assertEquals("error: INVALID_CONFIG: unknown topic config\n", r.err());
      r = run(ch, "", "--bootstrap", bs, "topic", "alter", "orders");
      assertEquals(2, r.exit(), "nothing to change is a usage error");

      cluster.metadataLeader = 2;
      r = run(ch, "", "--bootstrap", bs, "--output", "json", "cluster", "status");
      assertEquals(0, r.exit(), r.err());
      assertEquals("{\"answered_by\":1,\"metadata_leader\":2,\"nodes\":["
          + "{\"id\":1,\"host\":\"node1\",\"client_port\":1,\"up\":true,\"metadata_voter\":true,\"replicas\":0,\"max_replicas\":null},"
          + "{\"id\":2,\"host\":\"node2\",\"client_port\":2,\"up\":true,\"metadata_voter\":true,\"replicas\":0,\"max_replicas\":null},"
          + "{\"id\":3,\"host\":\"node3\",\"client_port\":3,\"up\":true,\"metadata_voter\":true,\"replicas\":0,\"max_replicas\":null}]}\n", r.out());
      cluster.metadataLeader = -1;
      r = run(ch, "", "--bootstrap", bs, "--output", "json", "cluster", "status");
      assertEquals(1, r.exit(), "no metadata leader: exit 1 in JSON too");
      assertTrue(r.out().contains("\"metadata_leader\":null"), r.out());

      r = run(ch, "", "--bootstrap", bs, "--output", "yaml", "topic", "list");
      assertEquals(2, r.exit());
      assertEquals("error: INVALID_REQUEST: --output must be table or json, got 'yaml'\n", r.err());
    }
  }

  @Test
  void produceThenConsume() throws Exception {
    try (FakeCluster cluster = new FakeCluster(3)) {
      ChannelFactory ch = cluster.channels();
      String bs = cluster.bootstrap(1);
      cluster.createTopic("t", 2, 3);
      Run r = run(ch, "a\nb\nc\n", "--bootstrap", bs, "produce", "t", "--partition", "1");
      assertEquals(0, r.exit(), r.err());
      assertEquals("", r.out());
      assertEquals("acknowledged 3 records\npartition 1: offsets 0..2 (count 3)\n", r.err());

      r = run(ch, "k1:x\nk2:y\n", "--bootstrap", bs, "produce", "t", "--key-separator", ":");
      assertEquals(0, r.exit(), r.err());
      assertTrue(r.err().startsWith("acknowledged 2 records\n"), r.err());

      r = run(ch, "", "--bootstrap", bs, "consume", "t", "--partition", "1", "--from-beginning", "--timeout-ms", "500");
      assertEquals(0, r.exit(), r.err());
      String p1 = r.out();
      assertTrue(p1.startsWith("a\nb\nc\n"), p1);

      r = run(ch, "", "--bootstrap", bs, "consume", "t", "--partition", "1", "--offset", "1", "--max-records", "2",
          "--print-offsets");
      assertEquals(0, r.exit(), r.err());
      assertEquals("1\t1\tb\n1\t2\tc\n", r.out());

      r = run(ch, "z1\nz2\n", "--bootstrap", bs, "produce", "t", "--partition", "0", "--compression", "zstd");
      assertEquals(0, r.exit(), r.err());
      assertTrue(cluster.values("t", 0).containsAll(java.util.List.of("z1", "z2")), cluster.values("t", 0).toString());

      r = run(ch, "", "--bootstrap", bs, "consume", "t", "--from-beginning", "--timeout-ms", "500");
      assertEquals(0, r.exit(), r.err());
      assertEquals(7, r.out().lines().count(), r.out());
      assertTrue(r.out().lines().toList().containsAll(java.util.List.of("a", "b", "c", "x", "y", "z1", "z2")));

      // Default start is the end: nothing old is printed.
      r = run(ch, "", "--bootstrap", bs, "consume", "t", "--timeout-ms", "300");
      assertEquals(0, r.exit(), r.err());
      assertEquals("", r.out());

      r = run(ch, "", "--bootstrap", bs, "consume", "t", "--partition", "0", "--offset", "99", "--timeout-ms", "300");
      assertEquals(1, r.exit());
      assertTrue(r.err().startsWith("error: OFFSET_OUT_OF_RANGE: "), r.err());
    }
  }

  @Test
  void produceReportsFailures() throws Exception {
    try (FakeCluster cluster = new FakeCluster(1)) {
      cluster.createTopic("t", 1, 1);
      Run r = run(cluster.channels(), "a\nb\n", "--bootstrap", cluster.bootstrap(1), "produce", "t", "--partition", "5");
      assertEquals(1, r.exit());
      assertEquals("acknowledged 0 records\nfailed 2 records\n"
          + "error: UNKNOWN_TOPIC_OR_PARTITION: topic t has 1 partitions, no partition 5\n", r.err());
    }
  }

  @Test
  void clusterStatus() throws Exception {
    try (FakeCluster cluster = new FakeCluster(3)) {
      Run r = run(cluster.channels(), "", "--bootstrap", cluster.bootstrap(2), "cluster", "status");
      assertEquals(0, r.exit(), r.err());
      assertEquals("NODE  ADDRESS  UP  VOTER  REPLICAS\n1  node1:1  yes  yes  0\n2  node2:2  yes  yes  0\n3  node3:3  yes  yes  0\n"
          + "metadata leader: 1\n", r.out());
      cluster.metadataLeader = -1;
      r = run(cluster.channels(), "", "--bootstrap", cluster.bootstrap(2), "cluster", "status");
      assertEquals(1, r.exit());
      assertTrue(r.out().endsWith("metadata leader: none\n"), r.out());
      cluster.close();
      r = run(cluster.channels(), "", "--bootstrap", cluster.bootstrap(2), "cluster", "status", "--timeout-ms", "300");
      assertEquals(1, r.exit());
      assertTrue(r.err().startsWith("error: UNAVAILABLE: "), r.err());
      assertEquals(1, r.err().lines().count());
    }
  }
}
