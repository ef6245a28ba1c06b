package io.ratislog.chaos.nemesis;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code clock-skew}: moves one node's wall clock with libfaketime (preloaded into every node when this
 * nemesis is selected, see {@link io.ratislog.chaos.cluster.ClusterSpec#withFakeTime}) for the fault's
 * duration, then back. The target is the metadata leader (it stamps group session times), the leader of
 * a random partition (it stamps append times, which drive producer expiry) or a random node; the skew is
 * a jump of minutes to an hour either way or a drift (the clock running 0.5x or 2x). Only the wall
 * clock moves: monotonic time (JVM timers, Ratis election timeouts) stays real, as on a machine whose NTP
 * steps or slews its clock. Since every time a state machine uses is stamped by the leader into the entry,
 * a skewed leader must change no decision on the others, and producer or member expiry must not fire
 * early because one node's clock jumped.
 */
public final class ClockSkewNemesis implements Nemesis {
  /** Where libfaketime lives on Debian/Ubuntu (x86_64 and arm64). */
  private static final List<String> CANDIDATES = List.of(
      "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
      "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
      "/usr/lib/faketime/libfaketimeMT.so.1");
  private static final List<String> SKEWS = List.of("+5m", "-5m", "+1h", "-1h", "+90s", "-90s", "+0 x2",
      "+0 x0.5");

  /**
   * The installed libfaketime (package {@code libfaketime}), if any.
   *
   * @return its path
   */
  public static Optional<Path> library() {
    return CANDIDATES.stream().map(Path::of).filter(Files::isReadable).findFirst();
  }

  @Override
  public String name() {
    return "clock-skew";
  }

  /**
   * Needs libfaketime in the nodes.
   *
   * @return true
   */
  @Override
  public boolean needsClock() {
    return true;
  }

  @Override
  public Fault plan(NemesisContext ctx) {
    if (!ctx.cluster().hasClockControl()) {
      return null;
    }
    NemesisContext.Target t = switch (ctx.random().nextInt(3)) {
      case 0 -> ctx.metadataLeaderOrRandom();
      case 1 -> ctx.leaderOrRandom();
      default -> new NemesisContext.Target(ctx.randomLiveNode(), "random node");
    };
    if (t.node() < 0) {
      return null;
    }
    int id = t.node();
    String skew = SKEWS.get(ctx.random().nextInt(SKEWS.size()));
    return new SimpleFault(name(), List.of(id), t.note() + ", clock " + skew,
        () -> ctx.cluster().setClock(id, skew), () -> ctx.cluster().setClock(id, "+0"));
  }
}
