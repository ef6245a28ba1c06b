package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.client.ChannelFactory;
import io.ratislog.client.GroupAdmin;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The consumer-group workload (c): {@link GroupMember}s of one group consume the topic at least once
 * while a crasher abandons a random member now and then (it is replaced by a fresh member) and an
 * observer records the group's committed offsets ({@code committed} events). After the producers
 * stopped and the final read found each partition's end, {@link #drain} keeps the members running until
 * the group has committed up to every end (or a bound expires), then they leave and the committed
 * offsets are observed one last time.
 */
public final class GroupWorkload {
  /** The history's process name of the committed-offset observer. */
  public static final String OBSERVER = "group-observer";

  private final String bootstrap;
  private final String topic;
  private final GroupConfig cfg;
  private final History history;
  private final Random random;
  private final List<GroupMember> members = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final GroupAdmin admin;
  private volatile boolean crashing = true;
  private volatile boolean observing = true;
  private Thread crasher;
  private Thread observer;

  /**
   * Creates the member processes (nothing runs yet).
   *
   * @param bootstrap the cluster
   * @param topic     the topic to consume
   * @param cfg       settings
   * @param history   the history
   * @param seed      random seed
   */
  public GroupWorkload(String bootstrap, String topic, GroupConfig cfg, History history, long seed) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.cfg = cfg;
    this.history = history;
    this.random = new Random(seed);
    for (int i = 0; i < cfg.members(); i++) {
      members.add(new GroupMember(i, bootstrap, topic, cfg, history, seed * 17 + i));
    }
    this.admin = new GroupAdmin(bootstrap, cfg.requestTimeout().toMillis(), ChannelFactory.plaintext());
  }

  /** Starts the members, the crasher (when crashes are configured) and the observer. */
  public void start() {
    for (GroupMember m : members) {
      Thread t = new Thread(m, m.process());
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    if (!cfg.crashMax().isZero()) {
      crasher = new Thread(this::crashLoop, "group-crasher");
      crasher.setDaemon(true);
      crasher.start();
    }
    if (!cfg.observeEvery().isZero()) {
      observer = new Thread(this::observeLoop, OBSERVER);
      observer.setDaemon(true);
      observer.start();
    }
  }

  private void crashLoop() {
    try {
      while (crashing) {
        long min = cfg.crashMin().toMillis();
        long wait = min + (long) (random.nextDouble() * (cfg.crashMax().toMillis() - min));
        long end = System.currentTimeMillis() + wait;
        while (crashing && System.currentTimeMillis() < end) {
          Thread.sleep(Math.min(200, Math.max(1, end - System.currentTimeMillis())));
        }
        if (crashing) {
          members.get(random.nextInt(members.size())).crash();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void observeLoop() {
    try {
      while (observing) {
        observe("periodic");
        long end = System.currentTimeMillis() + cfg.observeEvery().toMillis();
        while (observing && System.currentTimeMillis() < end) {
          Thread.sleep(100);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Reads the group's committed offset of every partition and records it as a {@code committed} event.
   *
   * @param why the event's value, e.g. {@code final}
   * @return partition to committed offset (-1: never committed), or null when the read failed
   */
  public Map<Integer, Long> observe(String why) {
    long id = history.nextId();
    history.add(Op.of(OBSERVER, OpKind.COMMITTED, Phase.INVOKE).id(id).group(cfg.group()).value(why));
    try {
      Map<Integer, Long> committed = new TreeMap<>();
      for (GroupAdmin.PartitionOffsets p : admin.describeGroup(cfg.group()).partitions()) {
        if (p.topic().equals(topic)) {
          committed.put(p.partition(), p.committed());
        }
      }
      history.add(Op.of(OBSERVER, OpKind.COMMITTED, Phase.OK).id(id).group(cfg.group()).value(why)
          .positions(committed));
      return committed;
    } catch (RuntimeException e) {
      history.add(Op.of(OBSERVER, OpKind.COMMITTED, Phase.INFO).id(id).group(cfg.group()).value(why)
          .error(SendOutcomes.describe(e)));
      return null;
    }
  }

  /**
   * Stops the crashes, lets the members consume until the group committed each partition's end
   * offset (bounded), then stops them (they leave the group) and observes the committed offsets a last
   * time.
   *
   * @param ends  partition to log end offset, from the final read
   * @param bound how long the group may take
   * @return true when the group committed every end within the bound
   * @throws InterruptedException when interrupted
   */
  public boolean drain(Map<Integer, Long> ends, Duration bound) throws InterruptedException {
    crashing = false;
    observing = false;
    if (crasher != null) {
      crasher.interrupt();
      crasher.join(5_000);
    }
    if (observer != null) {
      observer.join(30_000);
    }
    long deadline = System.nanoTime() + bound.toNanos();
    boolean done = false;
    while (!done && System.nanoTime() - deadline < 0) {
      Map<Integer, Long> c = observe("drain");
      done = c != null && ends.entrySet().stream().allMatch(e -> c.getOrDefault(e.getKey(), -1L) >= e.getValue());
      if (!done) {
        Thread.sleep(1_000);
      }
    }
    stopMembers();
    observe("final");
    admin.close();
    return done;
  }

  /**
   * Stops every thread (members leave the group) and closes the observer's connection; for a run cut
   * short (after {@link #drain} it has nothing left to do).
   *
   * @throws InterruptedException when interrupted
   */
  public void stop() throws InterruptedException {
    stopMembers();
    admin.close();
  }

  private void stopMembers() throws InterruptedException {
    crashing = false;
    observing = false;
    if (crasher != null) {
      crasher.interrupt();
    }
    members.forEach(GroupMember::stop);
    for (Thread t : threads) {
      t.join(30_000);
    }
  }
}
