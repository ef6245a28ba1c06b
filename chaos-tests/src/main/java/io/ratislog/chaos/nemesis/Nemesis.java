package io.ratislog.chaos.nemesis;

/**
 * A kind of fault. {@link #plan} chooses the targets (it may ask the cluster who leads what) and
 * returns a {@link Fault} that the scheduler injects and heals.
 *
 * <p>Process faults ({@link KillNemesis}, {@link PauseNemesis}, {@link KillAllNemesis}) need only
 * {@link io.ratislog.chaos.cluster.ClusterControl}. Network faults ({@link PartitionNemesis}) need
 * its {@link io.ratislog.chaos.cluster.ClusterControl#network()} capability, i.e. nodes in network
 * namespaces; they say so with {@link #needsNetwork()}.
 */
public interface Nemesis {
  /**
   * The nemesis' name, as given on the command line, e.g. {@code kill}.
   *
   * @return the name
   */
  String name();

  /**
   * Chooses targets for the next fault.
   *
   * @param ctx the cluster, topic and randomness
   * @return the fault, or null when nothing can be done now (e.g. no node running)
   */
  Fault plan(NemesisContext ctx);

  /**
   * Whether this nemesis needs {@link io.ratislog.chaos.cluster.ClusterControl#network()}.
   *
   * @return true for network faults
   */
  default boolean needsNetwork() {
    return false;
  }

  /**
   * Whether this nemesis needs {@link io.ratislog.chaos.cluster.ClusterControl#setClock} (libfaketime).
   *
   * @return true for clock faults
   */
  default boolean needsClock() {
    return false;
  }
}
