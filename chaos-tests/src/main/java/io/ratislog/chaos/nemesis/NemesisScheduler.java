package io.ratislog.chaos.nemesis;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs faults one at a time for a time limit: a quiet period, then a fault (the nemeses in turn,
 * starting at a random one) held for a random duration, healed, and so on. At the end, or when
 * stopped, everything is healed ({@code heal-all}). Every fault is one {@code nemesis} operation in
 * the history: invoked when injected, completed (ok, or info if an action threw) when healed.
 */
public final class NemesisScheduler implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(NemesisScheduler.class);
  /** The history's process name of every fault. */
  public static final String PROCESS = "nemesis";

  private final NemesisContext ctx;
  private final History history;
  private final List<Nemesis> nemeses;
  private final Timing timing;
  private volatile boolean stopped;

  /**
   * Fault timing.
   *
   * @param timeLimit total time of the fault phase (quiet periods included)
   * @param quietMin  shortest quiet period before a fault
   * @param quietMax  longest quiet period
   * @param faultMin  shortest fault
   * @param faultMax  longest fault
   */
  public record Timing(Duration timeLimit, Duration quietMin, Duration quietMax, Duration faultMin,
      Duration faultMax) {}

  /**
   * Creates the scheduler.
   *
   * @param ctx     cluster, topic, randomness
   * @param history where faults are recorded
   * @param nemeses the faults to cycle through
   * @param timing  timing
   */
  public NemesisScheduler(NemesisContext ctx, History history, List<Nemesis> nemeses, Timing timing) {
    this.ctx = ctx;
    this.history = history;
    this.nemeses = List.copyOf(nemeses);
    this.timing = timing;
  }

  /** Asks {@link #run()} to heal and return soon. */
  public void stop() {
    stopped = true;
  }

  @Override
  public void run() {
    long end = System.nanoTime() + timing.timeLimit().toNanos();
    int next = nemeses.isEmpty() ? 0 : ctx.random().nextInt(nemeses.size());
    try {
      while (!stopped && !nemeses.isEmpty()) {
        long quiet = between(timing.quietMin(), timing.quietMax());
        long hold = between(timing.faultMin(), timing.faultMax());
        if (System.nanoTime() + quiet + hold > end) {
          break;
        }
        sleepNanos(quiet);
        if (stopped) {
          break;
        }
        Nemesis n = nemeses.get(next++ % nemeses.size());
        runFault(n, hold);
      }
    } finally {
      healAll();
    }
  }

  private void runFault(Nemesis n, long holdNanos) {
    Fault f;
    try {
      f = n.plan(ctx);
    } catch (RuntimeException e) {
      LOG.warn("nemesis {} could not plan a fault: {}", n.name(), e.toString());
      return;
    }
    if (f == null) {
      return;
    }
    long id = history.nextId();
    history.add(Op.of(PROCESS, OpKind.NEMESIS, Phase.INVOKE).id(id).value(f.name()).nodes(f.nodes())
        .error(f.note().isEmpty() ? null : f.note()));
    LOG.info("fault {} on {} ({}) for {} ms", f.name(), f.nodes(), f.note(), holdNanos / 1_000_000);
    String problem = null;
    try {
      f.inject();
    } catch (RuntimeException e) {
      problem = "inject: " + e;
    }
    sleepNanos(holdNanos);
    try {
      f.heal();
    } catch (RuntimeException e) {
      problem = (problem == null ? "" : problem + "; ") + "heal: " + e;
    }
    String result = f.result();
    String note = problem == null ? (result == null || result.isEmpty() ? null : result)
        : (result == null || result.isEmpty() ? problem : problem + "; did: " + result);
    history.add(Op.of(PROCESS, OpKind.NEMESIS, problem == null ? Phase.OK : Phase.INFO).id(id)
        .value(f.name()).nodes(f.nodes()).error(note));
  }

  /** Resumes and restarts every node, recorded as a {@code heal-all} fault interval. */
  public void healAll() {
    long id = history.nextId();
    history.add(Op.of(PROCESS, OpKind.NEMESIS, Phase.INVOKE).id(id).value("heal-all")
        .nodes(ctx.cluster().nodeIds()));
    String problem = null;
    try {
      ctx.cluster().healAll();
    } catch (RuntimeException e) {
      problem = e.toString();
    }
    history.add(Op.of(PROCESS, OpKind.NEMESIS, problem == null ? Phase.OK : Phase.INFO).id(id)
        .value("heal-all").nodes(ctx.cluster().nodeIds()).error(problem));
  }

  private long between(Duration min, Duration max) {
    long lo = min.toNanos();
    long hi = Math.max(lo, max.toNanos());
    return lo == hi ? lo : lo + (long) (ctx.random().nextDouble() * (hi - lo));
  }

  private void sleepNanos(long nanos) {
    long end = System.nanoTime() + nanos;
    while (!stopped) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return;
      }
      try {
        Thread.sleep(Math.min(200, Math.max(1, left / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped = true;
      }
    }
  }
}
