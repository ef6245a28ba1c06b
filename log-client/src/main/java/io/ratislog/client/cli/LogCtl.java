package io.ratislog.client.cli;

import io.ratislog.client.Admin;
import io.ratislog.client.AutoOffsetReset;
import io.ratislog.client.ChannelFactory;
import io.ratislog.client.ClientSecurity;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.GroupAdmin;
import io.ratislog.client.GroupConsumer;
import io.ratislog.client.GroupConsumerConfig;
import io.ratislog.client.Subscription;
import io.ratislog.client.PartitionInfo;
import io.ratislog.client.CompressionType;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.RecordMetadata;
import io.ratislog.client.TopicDescription;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.DescribeClusterResponse;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.IsolationLevel;
import io.ratislog.proto.NodeStatus;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code logctl}: the ratislog command-line tool (topics, produce, consume, cluster status).
 *
 * <p>Exit codes: 0 success, 1 an error reported by the cluster or a failed record (one line
 * {@code error: <CODE>: <message>} on stderr), 2 a usage error (same one-line format with code
 * {@code INVALID_REQUEST}).
 */
@Command(name = "logctl", mixinStandardHelpOptions = true, version = "logctl 0.1.0",
    description = "Administer and use a ratislog cluster.",
    subcommands = {LogCtl.TopicCommand.class, LogCtl.ProduceCommand.class, LogCtl.ConsumeCommand.class,
        LogCtl.ClusterCommand.class, LogCtl.GroupCommand.class, MembershipCommands.PartitionCommand.class,
        ProcessCommand.class, AclCommands.class})
public final class LogCtl implements Callable<Integer> {
  /** The bootstrap used when none is given. */
  public static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9091";
  /** Exit code of an error reported by the cluster or a failed record. */
  public static final int EXIT_ERROR = 1;
  /** Exit code of a usage error. */
  public static final int EXIT_USAGE = 2;

  private static final List<Logger> QUIETED = new ArrayList<>();

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Nodes to contact first (default: " + DEFAULT_BOOTSTRAP + ").")
  String bootstrap;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
      scope = CommandLine.ScopeType.INHERIT,
      description = "table (for people, the default) or json (one JSON document, for scripts) for listings,"
          + " descriptions and changes: topic list|describe|create|alter|delete, group list|describe|reset-offsets,"
          + " cluster status|add-node|"
          + "remove-node, partition reassign|transfer-leader|status, acl add|remove|list (progress goes to stderr).")
  String output = "table";
  @Mixin
  SecurityOptions security = new SecurityOptions();

  @Spec
  CommandLine.Model.CommandSpec spec;

  InputStream in = System.in;
  PrintWriter out;
  PrintWriter err;
  ChannelFactory channelFactory = ChannelFactory.plaintext();

  /** Creates the root command (used by picocli). */
  public LogCtl() {}

  /**
   * Runs logctl and exits with its exit code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    quietLogging();
    System.exit(run(args, System.in, System.out, System.err));
  }

  /**
   * Runs logctl with the given streams.
   *
   * @param args the command line
   * @param in   standard input (records for {@code produce})
   * @param out  standard output
   * @param err  standard error
   * @return the exit code
   */
  public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
    return run(args, in, out, err, ChannelFactory.plaintext());
  }

  /**
   * Runs logctl with the given streams and channel factory (tests use in-process channels).
   *
   * @param args           the command line
   * @param in             standard input
   * @param out            standard output
   * @param err            standard error
   * @param channelFactory opens channels to nodes
   * @return the exit code
   */
  public static int run(String[] args, InputStream in, PrintStream out, PrintStream err,
      ChannelFactory channelFactory) {
    LogCtl root = new LogCtl();
    root.in = in;
    root.out = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    root.err = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    root.channelFactory = channelFactory;
    CommandLine cl = new CommandLine(root);
    cl.setOut(root.out);
    cl.setErr(root.err);
    cl.setParameterExceptionHandler((ex, a) -> {
      root.err.println("error: " + ErrorCode.INVALID_REQUEST.name() + ": " + oneLine(ex.getMessage()));
      root.err.flush();
      return EXIT_USAGE;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      int code = EXIT_ERROR;
      String name;
      String msg;
      if (ex instanceof UsageException) {
        name = ErrorCode.INVALID_REQUEST.name();
        msg = ex.getMessage();
        code = EXIT_USAGE;
      } else if (ex instanceof IllegalArgumentException) {
        name = ErrorCode.INVALID_REQUEST.name();
        msg = ex.getMessage();
        code = EXIT_USAGE;
      } else {
        RatislogException re = RatislogException.wrap(ex);
        name = re.codeName();
        msg = re.getMessage();
      }
      root.err.println("error: " + name + ": " + oneLine(msg));
      root.err.flush();
      return code;
    });
    try {
      return cl.execute(args);
    } finally {
      root.out.flush();
      root.err.flush();
    }
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ').trim();
  }

  /** Keeps library logging off stdout and stderr (gRPC uses java.util.logging). */
  private static void quietLogging() {
    if (System.getProperty("logback.configurationFile") == null && System.getProperty("slf4j.provider") == null
        && System.getenv("LOGCTL_LOG") == null) {
      System.setProperty("slf4j.provider", "org.slf4j.helpers.NOPServiceProvider");
      for (String name : new String[] {"io.grpc", "io.netty", "io.grpc.netty.shaded"}) {
        Logger l = Logger.getLogger(name);
        l.setLevel(Level.OFF);
        QUIETED.add(l);
      }
    }
  }

  /** Without a subcommand: a usage error. */
  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: topic, produce, consume or cluster");
  }

  /** Whether {@code --output json} was given; a format other than table or json is a usage error. */
  boolean json() {
    return switch (output) {
      case "json" -> true;
      case "table" -> false;
      default -> throw new UsageException("--output must be table or json, got '" + output + "'");
    };
  }

  String bootstrap(BootstrapOption local) {
    if (local != null && local.bootstrap != null) {
      return local.bootstrap;
    }
    return bootstrap != null ? bootstrap : DEFAULT_BOOTSTRAP;
  }

  /** A usage error detected after parsing (exit 2). */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** {@code --bootstrap} and the security options, accepted after a subcommand too. */
  static final class BootstrapOption {
    @Option(names = "--bootstrap", paramLabel = "HOST:PORT[,HOST:PORT...]",
        description = "Nodes to contact first (default: " + DEFAULT_BOOTSTRAP + ").")
    String bootstrap;
    @Mixin
    SecurityOptions security = new SecurityOptions();
  }

  /** TLS and token options. */
  static final class SecurityOptions {
    @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM CA certificate: connect with TLS 1.3.")
    Path ca;
    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM client certificate (mutual TLS; its CN is the principal).")
    Path cert;
    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 key of --tls-cert.")
    Path key;
    @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token (visible in the process list: prefer --token-file).")
    String token;
    @Option(names = "--token-file", paramLabel = "FILE", description = "File whose first line is the bearer token.")
    Path tokenFile;

    boolean any() {
      return ca != null || cert != null || key != null || token != null || tokenFile != null;
    }

    /** These options over {@code outer}'s: an option given after the subcommand wins. */
    ClientSecurity merged(SecurityOptions outer) {
      Path c = ca != null ? ca : outer.ca;
      Path ce = cert != null ? cert : outer.cert;
      Path k = key != null ? key : outer.key;
      String t = token != null ? token : outer.token;
      Path tf = tokenFile != null ? tokenFile : outer.tokenFile;
      if (t == null && tf != null) {
        try {
          t = ClientSecurity.readToken(tf);
        } catch (java.io.IOException e) {
          throw new UsageException("cannot read --token-file " + tf + ": " + e.getMessage());
        }
      }
      return new ClientSecurity(c, ce, k, t);
    }
  }

  /** The channel factory for a subcommand: the security options when any is given, else the default. */
  ChannelFactory channels(BootstrapOption local) {
    SecurityOptions inner = local != null ? local.security : new SecurityOptions();
    if (!inner.any() && !security.any()) {
      return channelFactory;
    }
    return ChannelFactory.secure(inner.merged(security));
  }

  // ------------------------------------------------------------------ topic

  /** {@code logctl topic create|list|describe|delete}. */
  @Command(name = "topic", mixinStandardHelpOptions = true, description = "Manage topics.",
      subcommands = {TopicCreate.class, TopicList.class, TopicDescribe.class, TopicDelete.class, TopicAlter.class})
  static final class TopicCommand implements Callable<Integer> {
    @ParentCommand
    LogCtl root;
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: create, list, describe, alter or delete");
    }

    Admin admin(BootstrapOption b, Duration timeout) {
      return Admin.create(root.bootstrap(b), timeout, root.channels(b));
    }
  }

  /** {@code logctl topic create NAME --partitions P --replication R}. */
  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a topic.")
  static final class TopicCreate implements Callable<Integer> {
    @ParentCommand
    TopicCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "NAME")
    String name;
    @Option(names = "--partitions", required = true, paramLabel = "P")
    int partitions;
    @Option(names = "--replication", paramLabel = "R", defaultValue = "0",
        description = "Replication factor (0 = the server's default).")
    int replication;
    @Option(names = "--config", paramLabel = "KEY=VALUE", description = "Topic config override (repeatable).")
    Map<String, String> configs = new LinkedHashMap<>();
    @Option(names = "--timeout-ms", defaultValue = "30000")
    long timeoutMs;

    @Override
    public Integer call() {
      try (Admin admin = parent.admin(bootstrap, Duration.ofMillis(timeoutMs))) {
        TopicDescription t = admin.createTopic(name, partitions, replication, configs);
        if (parent.root.json()) {
          parent.root.out.print(JsonOutput.write(JsonOutput.topic(t)));
          return 0;
        }
        int p = t.partitionCount() > 0 ? t.partitionCount() : partitions;
        int r = t.replicationFactor() > 0 ? t.replicationFactor() : replication;
        parent.root.out.printf("created topic %s (%d partitions, replication %d)%n", name, p, r);
      }
      return 0;
    }
  }

  /** {@code logctl topic list}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "List topics.")
  static final class TopicList implements Callable<Integer> {
    @ParentCommand
    TopicCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Option(names = "--timeout-ms", defaultValue = "30000")
    long timeoutMs;

    @Override
    public Integer call() {
      try (Admin admin = parent.admin(bootstrap, Duration.ofMillis(timeoutMs))) {
        List<TopicDescription> topics = new ArrayList<>(admin.listTopics());
        topics.sort(Comparator.comparing(TopicDescription::name));
        if (parent.root.json()) {
          parent.root.out.print(JsonOutput.write(JsonOutput.topicList(topics)));
          return 0;
        }
        for (TopicDescription t : topics) {
          parent.root.out.printf("%s  partitions=%d  replication=%d%n", t.name(), t.partitionCount(),
              t.replicationFactor());
        }
      }
      return 0;
    }
  }

  /** {@code logctl topic describe NAME}. */
  @Command(name = "describe", mixinStandardHelpOptions = true, description = "Show a topic's partitions.")
  static final class TopicDescribe implements Callable<Integer> {
    @ParentCommand
    TopicCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "NAME")
    String name;
    @Option(names = "--timeout-ms", defaultValue = "30000")
    long timeoutMs;

    @Override
    public Integer call() {
      try (Admin admin = parent.admin(bootstrap, Duration.ofMillis(timeoutMs))) {
        TopicDescription t = admin.describeTopic(name);
        parent.root.out.print(parent.root.json() ? JsonOutput.write(JsonOutput.topic(t)) : formatDescribe(t));
      }
      return 0;
    }
  }

  /**
   * The output of {@code topic describe}: a header line {@code PARTITION  LEADER  REPLICAS}, then per
   * partition {@code <partition>  <leader id or ->  <replica,replica,...>}.
   *
   * @param t the topic
   * @return the lines, each ending with a newline
   */
  public static String formatDescribe(TopicDescription t) {
    StringBuilder sb = new StringBuilder("PARTITION  LEADER  REPLICAS").append(System.lineSeparator());
    for (PartitionInfo p : t.partitions()) {
      sb.append(p.partition()).append("  ").append(p.hasLeader() ? String.valueOf(p.leader()) : "-")
          .append("  ")
          .append(p.replicas().isEmpty() ? "-"
              : p.replicas().stream().map(String::valueOf).collect(Collectors.joining(",")))
          .append(System.lineSeparator());
    }
    return sb.toString();
  }

  /** {@code logctl topic alter NAME --config k=v [--delete-config k]}. */
  @Command(name = "alter", mixinStandardHelpOptions = true,
      description = "Change a topic's configs (retention.ms, retention.bytes; -1 = unlimited).")
  static final class TopicAlter implements Callable<Integer> {
    @ParentCommand
    TopicCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "NAME")
    String name;
    @Option(names = "--config", paramLabel = "KEY=VALUE", description = "Config to set (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();
    @Option(names = "--delete-config", paramLabel = "KEY", description = "Config to remove, back to its default (repeatable).")
    List<String> remove = new ArrayList<>();
    @Option(names = "--timeout-ms", defaultValue = "30000")
    long timeoutMs;

    @Override
    public Integer call() {
      if (set.isEmpty() && remove.isEmpty()) {
        throw new UsageException("give --config KEY=VALUE or --delete-config KEY");
      }
      try (Admin admin = parent.admin(bootstrap, Duration.ofMillis(timeoutMs))) {
        TopicDescription t = admin.alterTopicConfig(name, set, remove);
        if (parent.root.json()) {
          parent.root.out.print(JsonOutput.write(JsonOutput.topic(t)));
          return 0;
        }
        parent.root.out.printf("altered topic %s: %s%n", name, t.configs().isEmpty() ? "(no configs)"
            : new TreeMap<>(t.configs()).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", ")));
      }
      return 0;
    }
  }

  /** {@code logctl topic delete NAME}. */
  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a topic.")
  static final class TopicDelete implements Callable<Integer> {
    @ParentCommand
    TopicCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "NAME")
    String name;
    @Option(names = "--timeout-ms", defaultValue = "30000")
    long timeoutMs;

    @Override
    public Integer call() {
      try (Admin admin = parent.admin(bootstrap, Duration.ofMillis(timeoutMs))) {
        admin.deleteTopic(name);
        if (parent.root.json()) {
          parent.root.out.print(JsonOutput.write(java.util.Map.of("deleted", name)));
        } else {
          parent.root.out.printf("deleted topic %s%n", name);
        }
      }
      return 0;
    }
  }

  // ------------------------------------------------------------------ produce

  /** {@code logctl produce NAME [--partition N] [--key-separator SEP]}. */
  @Command(name = "produce", mixinStandardHelpOptions = true,
      description = "Send stdin, one record per line; report acknowledged offsets on stderr.")
  static final class ProduceCommand implements Callable<Integer> {
    @ParentCommand
    LogCtl root;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "NAME")
    String topic;
    @Option(names = "--partition", paramLabel = "N")
    Integer partition;
    @Option(names = "--key-separator", paramLabel = "SEP",
        description = "Split each line at the first SEP into key and value.")
    String keySeparator;
    @Option(names = "--linger-ms", defaultValue = "5")
    long lingerMs;
    @Option(names = "--compression", defaultValue = "none",
        description = "Batch compression: none (default), gzip, lz4 or zstd.")
    String compression;

    @Option(names = "--batch-bytes", defaultValue = "262144", description = "Batch size per partition (default 256 KiB).")
    int batchBytes;
    @Option(names = "--delivery-timeout-ms", defaultValue = "60000")
    long deliveryTimeoutMs;
    @Option(names = "--delivery", paramLabel = "MODE", defaultValue = "exactly-once",
        description = "at-most-once, at-least-once or exactly-once (default).")
    String delivery;

    @Override
    public Integer call() throws Exception {
      DeliveryMode mode = parseDelivery(delivery);
      if (partition != null && partition < 0) {
        throw new UsageException("--partition must be >= 0, got " + partition);
      }
      if (keySeparator != null && keySeparator.isEmpty()) {
        throw new UsageException("--key-separator must not be empty");
      }
      if (batchBytes < 1) {
        throw new UsageException("--batch-bytes must be >= 1, got " + batchBytes);
      }
      CompressionType codec;
      try {
        codec = CompressionType.parse(compression);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--compression: " + e.getMessage());
      }
      ProducerConfig cfg = ProducerConfig.builder(root.bootstrap(bootstrap)).lingerMs(lingerMs).delivery(mode)
          .batchSizeBytes(batchBytes).compression(codec)
          .deliveryTimeoutMs(deliveryTimeoutMs).channelFactory(root.channels(bootstrap)).build();
      ProduceStats stats = new ProduceStats();
      try (Producer producer = new Producer(cfg);
           BufferedReader reader = new BufferedReader(new InputStreamReader(root.in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          LineParser.Parsed p = LineParser.parse(line, keySeparator);
          producer.send(new ProducerRecord(topic, partition, p.key(), p.value()))
              .whenComplete(stats::record);
        }
        producer.flush();
      }
      stats.report(root.err);
      return stats.failed() > 0 ? EXIT_ERROR : 0;
    }
  }

  /** Tally of a produce run. */
  static final class ProduceStats {
    private final Map<Integer, long[]> perPartition = new TreeMap<>(); // min, max, count
    private long acknowledged;
    private long failed;
    private RatislogException firstError;

    synchronized void record(RecordMetadata md, Throwable t) {
      if (t != null) {
        failed++;
        if (firstError == null) {
          firstError = RatislogException.wrap(t);
        }
        return;
      }
      acknowledged++;
      long[] s = perPartition.computeIfAbsent(md.partition(), k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0});
      s[0] = Math.min(s[0], md.offset());
      s[1] = Math.max(s[1], md.offset());
      s[2]++;
    }

    synchronized long failed() {
      return failed;
    }

    /** {@code acknowledged N records}, per partition {@code partition P: offsets A..B (count C)}. */
    synchronized void report(PrintWriter err) {
      err.printf("acknowledged %d records%n", acknowledged);
      for (Map.Entry<Integer, long[]> e : perPartition.entrySet()) {
        long[] s = e.getValue();
        err.printf("partition %d: offsets %d..%d (count %d)%n", e.getKey(), s[0], s[1], s[2]);
      }
      if (failed > 0) {
        err.printf("failed %d records%n", failed);
        err.printf("error: %s: %s%n", firstError.codeName(), oneLine(firstError.getMessage()));
      }
      err.flush();
    }
  }

  // ------------------------------------------------------------------ consume

  /** {@code logctl consume NAME ...}. */
  @Command(name = "consume", mixinStandardHelpOptions = true,
      description = "Print record values, one per line, until --max-records or --timeout-ms without records.")
  static final class ConsumeCommand implements Callable<Integer> {
    @ParentCommand
    LogCtl root;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "NAME")
    String topic;
    @Option(names = "--partition", paramLabel = "N", description = "Read only this partition (default: all).")
    Integer partition;
    @Option(names = "--from-beginning", description = "Start at the log start (default: the end).")
    boolean fromBeginning;
    @Option(names = "--offset", paramLabel = "O", description = "Start at this offset.")
    Long offset;
    @Option(names = "--max-records", paramLabel = "N")
    Long maxRecords;
    @Option(names = "--timeout-ms", paramLabel = "T", defaultValue = "5000",
        description = "Stop after this long without a new record (default 5000).")
    long timeoutMs;
    @Option(names = "--print-offsets", description = "Print partition<TAB>offset<TAB>value.")
    boolean printOffsets;
    @Option(names = "--group", paramLabel = "G",
        description = "Consume as a member of group G: partitions are shared with the group's other members and"
            + " offsets are committed (start: the committed offset, else the end, or the beginning with --from-beginning).")
    String group;
    @Option(names = "--delivery", paramLabel = "MODE", defaultValue = "at-least-once",
        description = "With --group: at-most-once (commit, then print) or at-least-once (print, then commit; default).")
    String delivery;
    @Option(names = "--push", description = "Have the partition leaders push records (Subscribe stream) instead of polling.")
    boolean push;
    @Option(names = "--sleep-per-record-ms", paramLabel = "MS", defaultValue = "0",
        description = "Pause after printing each record, as slow processing would (for demos and tests).")
    long sleepPerRecordMs;
    @Option(names = "--isolation", paramLabel = "LEVEL", defaultValue = "read-committed",
        description = "read-committed (default: no record of an open or aborted transaction) or read-uncommitted.")
    String isolation;

    @Override
    public Integer call() {
      DeliveryMode mode = parseDelivery(delivery);
      if (group != null && (offset != null || partition != null)) {
        throw new UsageException("--group assigns partitions and starts at the committed offset:"
            + " it cannot be combined with --offset or --partition");
      }
      if (group != null && mode == DeliveryMode.EXACTLY_ONCE) {
        throw new UsageException("consume --delivery exactly-once would need the printed lines and the offsets in one"
            + " transaction: use `logctl process` to copy into a topic exactly once, or at-least-once with the"
            + " record's (topic, partition, offset) as the sink's idempotency key");
      }
      IsolationLevel level = switch (isolation) {
        case "read-committed" -> IsolationLevel.READ_COMMITTED;
        case "read-uncommitted" -> IsolationLevel.READ_UNCOMMITTED;
        default -> throw new UsageException("--isolation must be read-committed or read-uncommitted, got " + isolation);
      };
      if (offset != null && offset < 0) {
        throw new UsageException("--offset must be >= 0, got " + offset);
      }
      if (offset != null && fromBeginning) {
        throw new UsageException("--from-beginning and --offset are mutually exclusive");
      }
      if (partition != null && partition < 0) {
        throw new UsageException("--partition must be >= 0, got " + partition);
      }
      if (maxRecords != null && maxRecords < 0) {
        throw new UsageException("--max-records must be >= 0, got " + maxRecords);
      }
      if (timeoutMs < 0) {
        throw new UsageException("--timeout-ms must be >= 0, got " + timeoutMs);
      }
      if (sleepPerRecordMs < 0) {
        throw new UsageException("--sleep-per-record-ms must be >= 0, got " + sleepPerRecordMs);
      }
      if (maxRecords != null && maxRecords == 0) {
        return 0;
      }
      ConsumerConfig cfg = ConsumerConfig.builder(root.bootstrap(bootstrap))
          .autoOffsetReset(offset != null ? AutoOffsetReset.NONE
              : group != null && !fromBeginning ? AutoOffsetReset.LATEST : AutoOffsetReset.EARLIEST)
          .channelFactory(root.channels(bootstrap)).isolationLevel(level).build();
      try (RecordSource source = group != null ? groupSource(cfg, mode) : push ? pushSource(cfg) : pollSource(cfg)) {
        long printed = 0;
        long lastRecord = System.nanoTime();
        PrintWriter out = root.out;
        while (maxRecords == null || printed < maxRecords) {
          long idleLeft = timeoutMs - (System.nanoTime() - lastRecord) / 1_000_000;
          if (idleLeft <= 0) {
            break;
          }
          List<ConsumerRecord> records = source.poll(Duration.ofMillis(idleLeft));
          Map<TopicPartition, Long> printedUpTo = new LinkedHashMap<>();
          for (ConsumerRecord r : records) {
            if (maxRecords != null && printed >= maxRecords) {
              break;
            }
            if (printOffsets) {
              out.print(r.partition());
              out.print('\t');
              out.print(r.offset());
              out.print('\t');
            }
            out.print(r.valueAsString());
            out.print('\n');
            printed++;
            printedUpTo.put(r.topicPartition(), r.offset() + 1);
            if (sleepPerRecordMs > 0) {
              out.flush();
              try {
                Thread.sleep(sleepPerRecordMs);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
              }
            }
          }
          if (!records.isEmpty()) {
            out.flush();
            source.processed(printedUpTo);
            lastRecord = System.nanoTime();
          }
        }
        out.flush();
      }
      return 0;
    }

    /** Where consumed records come from; {@link #processed} names what was printed of the last poll. */
    interface RecordSource extends AutoCloseable {
      List<ConsumerRecord> poll(Duration timeout);

      /** The records printed: per partition, the offset after the last one. */
      default void processed(Map<TopicPartition, Long> nextOffsets) {
      }

      @Override
      void close();
    }

    private List<TopicPartition> partitions(Consumer consumer) {
      return partition != null ? List.of(new TopicPartition(topic, partition)) : consumer.partitionsFor(topic);
    }

    private RecordSource pollSource(ConsumerConfig cfg) {
      Consumer consumer = new Consumer(cfg);
      try {
        List<TopicPartition> tps = partitions(consumer);
        consumer.assign(tps);
        if (offset != null) {
          tps.forEach(tp -> consumer.seek(tp, offset));
        } else if (fromBeginning) {
          consumer.seekToBeginning(tps);
        } else {
          consumer.seekToEnd(tps);
        }
        for (TopicPartition tp : tps) {
          consumer.position(tp); // resolve now: "the end" is the end at start-up
        }
      } catch (RuntimeException e) {
        consumer.close();
        throw e;
      }
      return new RecordSource() {
        @Override
        public List<ConsumerRecord> poll(Duration timeout) {
          return consumer.poll(timeout);
        }

        @Override
        public void close() {
          consumer.close();
        }
      };
    }

    /** One push subscription per partition, starting where a poll consumer would. */
    private RecordSource pushSource(ConsumerConfig cfg) {
      List<Subscription> subs = new ArrayList<>();
      try (Consumer positions = new Consumer(cfg)) {
        List<TopicPartition> tps = partitions(positions);
        positions.assign(tps);
        if (offset != null) {
          tps.forEach(tp -> positions.seek(tp, offset));
        } else if (fromBeginning) {
          positions.seekToBeginning(tps);
        } else {
          positions.seekToEnd(tps);
        }
        for (TopicPartition tp : tps) {
          subs.add(new Subscription(root.bootstrap(bootstrap), root.channels(bootstrap), tp, positions.position(tp), 1000));
        }
      } catch (RuntimeException e) {
        subs.forEach(Subscription::close);
        throw e;
      }
      return new RecordSource() {
        @Override
        public List<ConsumerRecord> poll(Duration timeout) {
          long deadline = System.nanoTime() + timeout.toNanos();
          List<ConsumerRecord> got = new ArrayList<>();
          while (got.isEmpty() && System.nanoTime() < deadline) {
            for (Subscription s : subs) {
              got.addAll(s.poll(Duration.ofMillis(subs.size() == 1 ? 200 : 10), 500));
            }
          }
          return got;
        }

        @Override
        public void close() {
          subs.forEach(Subscription::close);
        }
      };
    }

    private RecordSource groupSource(ConsumerConfig cfg, DeliveryMode mode) {
      GroupConsumerConfig gcc = GroupConsumerConfig.of(cfg, group, List.of(topic), mode);
      GroupConsumer gc = new GroupConsumer(push ? gcc.withPush(1000) : gcc);
      return new RecordSource() {
        @Override
        public List<ConsumerRecord> poll(Duration timeout) {
          return gc.poll(timeout);
        }

        @Override
        public void processed(Map<TopicPartition, Long> nextOffsets) {
          if (mode == DeliveryMode.AT_LEAST_ONCE) {
            gc.commit(nextOffsets); // only what was printed: records cut off by --max-records stay uncommitted
          }
        }

        @Override
        public void close() {
          gc.close();
        }
      };
    }
  }

  static DeliveryMode parseDelivery(String s) {
    try {
      return DeliveryMode.valueOf(s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--delivery must be at-most-once, at-least-once or exactly-once, got '" + s + "'");
    }
  }

  // ------------------------------------------------------------------ group

  /** {@code logctl group list | describe G | reset-offsets G ...}. */
  @Command(name = "group", mixinStandardHelpOptions = true, description = "Manage consumer groups.",
      subcommands = {GroupList.class, GroupDescribe.class, GroupResetOffsets.class})
  static final class GroupCommand implements Callable<Integer> {
    @ParentCommand
    LogCtl root;
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: list, describe, reset-offsets");
    }

    GroupAdmin admin(BootstrapOption b) {
      return new GroupAdmin(root.bootstrap(b), 30_000, root.channels(b));
    }
  }

  /** {@code logctl group list}: {@code GROUP  GENERATION  MEMBERS}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "List consumer groups.")
  static final class GroupList implements Callable<Integer> {
    @ParentCommand
    GroupCommand parent;
    @Mixin
    BootstrapOption bootstrap;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      try (GroupAdmin admin = parent.admin(bootstrap)) {
        if (root.json()) {
          root.out.print(JsonOutput.write(JsonOutput.groupList(admin.listGroups())));
          return 0;
        }
        root.out.println("GROUP  GENERATION  MEMBERS");
        for (io.ratislog.proto.GroupSummary g : admin.listGroups()) {
          root.out.printf("%s  %d  %d%n", g.getGroup(), g.getGeneration(), g.getMembers());
        }
        root.out.flush();
      }
      return 0;
    }
  }

  /** {@code logctl group describe G}: generation, members, then {@code TOPIC PARTITION MEMBER COMMITTED END LAG}. */
  @Command(name = "describe", mixinStandardHelpOptions = true,
      description = "Show a group's members, assignment, committed offsets and lag.")
  static final class GroupDescribe implements Callable<Integer> {
    @ParentCommand
    GroupCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "G")
    String group;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      try (GroupAdmin admin = parent.admin(bootstrap)) {
        GroupAdmin.GroupDescription d = admin.describeGroup(group);
        if (root.json()) {
          root.out.print(JsonOutput.write(JsonOutput.group(d)));
          return 0;
        }
        root.out.printf("group %s  generation %d  assignor %s  members %d%n", d.group(), d.generation(),
            d.assignor(), d.members().size());
        for (String m : d.members()) {
          root.out.printf("member %s%n", m);
        }
        root.out.println("TOPIC  PARTITION  MEMBER  COMMITTED  END  LAG");
        for (GroupAdmin.PartitionOffsets p : d.partitions()) {
          root.out.printf("%s  %d  %s  %s  %d  %d%n", p.topic(), p.partition(), p.member(),
              p.committed() < 0 ? "-" : Long.toString(p.committed()), p.logEnd(), p.lag());
        }
        root.out.flush();
      }
      return 0;
    }
  }

  /** {@code logctl group reset-offsets G --topic T --to-earliest|--to-latest|--to-offset O}. */
  @Command(name = "reset-offsets", mixinStandardHelpOptions = true,
      description = "Set a group's committed offsets on every partition of a topic.")
  static final class GroupResetOffsets implements Callable<Integer> {
    @ParentCommand
    GroupCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Parameters(index = "0", paramLabel = "G")
    String group;
    @Option(names = "--topic", required = true, paramLabel = "T")
    String topic;
    @Option(names = "--to-earliest")
    boolean earliest;
    @Option(names = "--to-latest")
    boolean latest;
    @Option(names = "--to-offset", paramLabel = "O")
    Long toOffset;

    @Override
    public Integer call() {
      int chosen = (earliest ? 1 : 0) + (latest ? 1 : 0) + (toOffset != null ? 1 : 0);
      if (chosen != 1) {
        throw new UsageException("give exactly one of --to-earliest, --to-latest, --to-offset O");
      }
      if (toOffset != null && toOffset < 0) {
        throw new UsageException("--to-offset must be >= 0, got " + toOffset);
      }
      io.ratislog.proto.ResetTarget target = earliest ? io.ratislog.proto.ResetTarget.TO_EARLIEST
          : latest ? io.ratislog.proto.ResetTarget.TO_LATEST : io.ratislog.proto.ResetTarget.TO_OFFSET;
      LogCtl root = parent.root;
      try (GroupAdmin admin = parent.admin(bootstrap)) {
        Map<Integer, Long> committed = admin.resetOffsets(group, topic, target, toOffset == null ? 0 : toOffset);
        if (root.json()) {
          root.out.print(JsonOutput.write(JsonOutput.resetOffsets(group, topic, committed)));
        } else {
          committed.forEach((p, o) -> root.out.printf("partition %d: committed offset %d%n", p, o));
        }
        root.out.flush();
      }
      return 0;
    }
  }

  // ------------------------------------------------------------------ cluster

  /** {@code logctl cluster status}. */
  @Command(name = "cluster", mixinStandardHelpOptions = true, description = "Cluster information.",
      subcommands = {ClusterStatus.class, MembershipCommands.AddNode.class, MembershipCommands.RemoveNode.class})
  static final class ClusterCommand implements Callable<Integer> {
    @ParentCommand
    LogCtl root;
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: status, add-node or remove-node");
    }
  }

  /** {@code logctl cluster status}: exit 0 only when a metadata leader is known. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show nodes and the metadata leader; exit 0 only when a metadata leader is known.")
  static final class ClusterStatus implements Callable<Integer> {
    @ParentCommand
    ClusterCommand parent;
    @Mixin
    BootstrapOption bootstrap;
    @Option(names = "--timeout-ms", defaultValue = "5000", description = "Give up after this long (default 5000).")
    long timeoutMs;

    @Override
    public Integer call() {
      LogCtl root = parent.root;
      try (Admin admin = Admin.create(root.bootstrap(bootstrap), Duration.ofMillis(timeoutMs), root.channels(bootstrap))) {
        DescribeClusterResponse r = admin.describeCluster();
        root.out.print(root.json() ? JsonOutput.write(JsonOutput.cluster(r)) : formatClusterStatus(r));
        return r.getMetadataLeader() >= 0 ? 0 : EXIT_ERROR;
      }
    }
  }

  /**
   * The output of {@code cluster status}: header {@code NODE  ADDRESS  UP  VOTER  REPLICAS}, per node
   * {@code <id>  <host:port>  <yes|no>  <yes|no>  <replicas>[/<max>]} (partition replicas placed on it, and the most
   * it takes when it registered a limit), then {@code metadata leader: <id|none>}.
   *
   * @param r the cluster description
   * @return the lines, each ending with a newline
   */
  public static String formatClusterStatus(DescribeClusterResponse r) {
    String nl = System.lineSeparator();
    StringBuilder sb = new StringBuilder("NODE  ADDRESS  UP  VOTER  REPLICAS").append(nl);
    List<NodeStatus> nodes = new ArrayList<>(r.getNodesList());
    nodes.sort(Comparator.comparingInt(n -> n.getNode().getId()));
    for (NodeStatus n : nodes) {
      sb.append(n.getNode().getId()).append("  ").append(n.getNode().getHost()).append(':')
          .append(n.getNode().getClientPort()).append("  ").append(n.getUp() ? "yes" : "no").append("  ")
          .append(n.getMetadataVoter() ? "yes" : "no").append("  ").append(n.getReplicaCount())
          .append(n.getMaxReplicas() > 0 ? "/" + n.getMaxReplicas() : "").append(nl);
    }
    sb.append("metadata leader: ").append(r.getMetadataLeader() >= 0 ? String.valueOf(r.getMetadataLeader()) : "none")
        .append(nl);
    return sb.toString();
  }
}
