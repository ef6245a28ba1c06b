package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.client.AutoOffsetReset;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.GroupConsumer;
import io.ratislog.client.GroupConsumerConfig;
import io.ratislog.client.RatislogException;
import io.ratislog.client.TopicPartition;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * One member process of the consumer-group workload, at-least-once: poll (a {@code group-poll} with the
 * member id, the generation and every record), "process" the records (they are in the history), then
 * commit each polled partition's next offset on its own (one {@code commit} per partition, so each
 * outcome is known). When asked to {@link #crash()}, the member is abandoned without leaving the group
 * (a {@code crash} event: stops heartbeating, closes its connections) either right after a poll, before
 * committing it, or after the commit, and a fresh member with a new id takes its place: the group
 * expires the old one after its session timeout and hands its partitions over.
 */
public final class GroupMember implements Runnable {
  private static final int MAX_POLL_FAILURES = 3;

  private final String process;
  private final String bootstrap;
  private final String topic;
  private final GroupConfig cfg;
  private final History history;
  private final Random random;
  private volatile boolean stopped;
  private volatile boolean crashRequested;

  /**
   * Creates the member process.
   *
   * @param number    its number ({@code member-<number>})
   * @param bootstrap the cluster
   * @param topic     the subscribed topic
   * @param cfg       settings
   * @param history   the history
   * @param seed      random seed (where a crash strikes)
   */
  public GroupMember(int number, String bootstrap, String topic, GroupConfig cfg, History history, long seed) {
    this.process = "member-" + number;
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.cfg = cfg;
    this.history = history;
    this.random = new Random(seed);
  }

  /** Asks {@link #run()} to leave the group and return after the current poll and commits. */
  public void stop() {
    stopped = true;
  }

  /** Asks the member to crash at its next opportunity (after a poll or after a commit). */
  public void crash() {
    crashRequested = true;
  }

  /**
   * The member's process name.
   *
   * @return e.g. {@code member-1}
   */
  public String process() {
    return process;
  }

  private GroupConsumer newConsumer() {
    ConsumerConfig cc = ConsumerConfig.builder(bootstrap).maxWaitMs(250)
        .requestTimeoutMs(cfg.requestTimeout().toMillis()).autoOffsetReset(AutoOffsetReset.EARLIEST).build();
    return new GroupConsumer(GroupConsumerConfig.of(cc, cfg.group(), List.of(topic), DeliveryMode.AT_LEAST_ONCE)
        .withSession((int) cfg.sessionTimeout().toMillis(), (int) cfg.heartbeat().toMillis()));
  }

  @Override
  public void run() {
    GroupConsumer c = null;
    int failures = 0;
    try {
      while (!stopped) {
        if (c == null) {
          c = newConsumer();
        }
        long id = history.nextId();
        history.add(Op.of(process, OpKind.GROUP_POLL, Phase.INVOKE).id(id).group(cfg.group()).member(c.memberId())
            .generation(generation(c)));
        List<ConsumerRecord> records;
        try {
          records = c.poll(Duration.ofMillis(500));
          history.add(Op.of(process, OpKind.GROUP_POLL, Phase.OK).id(id).group(cfg.group()).member(c.memberId())
              .generation(generation(c)).reads(PollReader.reads(records)));
          failures = 0;
        } catch (RuntimeException e) {
          history.add(Op.of(process, OpKind.GROUP_POLL, Phase.INFO).id(id).group(cfg.group()).member(c.memberId())
              .generation(generation(c)).error(SendOutcomes.describe(e)));
          if (++failures >= MAX_POLL_FAILURES) {
            c.closeWithoutLeaving(); // a stuck member is replaced as a crashed one would be
            c = null;
            failures = 0;
          }
          Thread.sleep(500);
          continue;
        }
        if (crashRequested && random.nextBoolean()) {
          crash(c, "after a poll, before committing it");
          c = null;
          continue;
        }
        commit(c, records);
        if (crashRequested) {
          crash(c, "after a commit");
          c = null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (c != null) {
        c.close(); // leaves the group
      }
    }
  }

  private void commit(GroupConsumer c, List<ConsumerRecord> records) {
    Map<Integer, Long> next = new TreeMap<>();
    for (ConsumerRecord r : records) {
      next.merge(r.partition(), r.offset() + 1, Math::max);
    }
    for (Map.Entry<Integer, Long> e : next.entrySet()) {
      long id = history.nextId();
      String member = c.memberId();
      Long gen = generation(c);
      history.add(Op.of(process, OpKind.COMMIT, Phase.INVOKE).id(id).group(cfg.group()).member(member)
          .generation(gen).partition(e.getKey()).offset(e.getValue()));
      try {
        c.commit(Map.of(new TopicPartition(topic, e.getKey()), e.getValue()));
        history.add(Op.of(process, OpKind.COMMIT, Phase.OK).id(id).group(cfg.group()).member(member)
            .generation(gen).partition(e.getKey()).offset(e.getValue()));
      } catch (RuntimeException ex) {
        history.add(Op.of(process, OpKind.COMMIT, classify(ex)).id(id).group(cfg.group()).member(member)
            .generation(gen).partition(e.getKey()).offset(e.getValue()).error(SendOutcomes.describe(ex)));
      }
    }
  }

  /**
   * A commit the partition refused by its applied verdict is {@code fail}; a timeout or transport error
   * is {@code info} (the commit may have been applied). The checker relies on {@code ok} only.
   */
  static Phase classify(Throwable t) {
    RatislogException e = RatislogException.wrap(t);
    if (e.transportStatus() != null) {
      return Phase.INFO;
    }
    return switch (e.code()) {
      case FENCED_GENERATION, UNKNOWN_MEMBER_ID, INVALID_COMMIT, OFFSET_OUT_OF_RANGE, INVALID_REQUEST,
          NOT_LEADER, LEADER_NOT_AVAILABLE -> Phase.FAIL;
      default -> Phase.INFO;
    };
  }

  private void crash(GroupConsumer c, String where) {
    crashRequested = false;
    long id = history.nextId();
    history.add(Op.of(process, OpKind.CRASH, Phase.INVOKE).id(id).group(cfg.group()).member(c.memberId())
        .generation(generation(c)).value(where));
    c.closeWithoutLeaving();
    history.add(Op.of(process, OpKind.CRASH, Phase.OK).id(id).group(cfg.group()).member(c.memberId())
        .generation(generation(c)).value(where));
  }

  private static Long generation(GroupConsumer c) {
    return c.generation() < 0 ? null : c.generation();
  }
}
