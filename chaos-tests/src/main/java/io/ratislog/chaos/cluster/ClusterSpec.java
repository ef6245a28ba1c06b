package io.ratislog.chaos.cluster;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to run a {@link ProcessCluster}.
 *
 * @param nodes       3 or 5 (any count from 1 works)
 * @param runDir      directory holding one {@code n<ID>/} per node (config, data, logs)
 * @param heap        the JVM heap of each node, e.g. {@code 384m}
 * @param jvmOptions  extra JVM options of each node
 * @param serverProps extra {@code logd.properties} keys (e.g. {@code snapshot.threshold.entries})
 * @param fakeTimeLib libfaketime to preload into every node so that its wall clock can be moved at run
 *                    time ({@link ProcessCluster#setClock}), or null
 */
public record ClusterSpec(int nodes, Path runDir, String heap, List<String> jvmOptions,
    Map<String, String> serverProps, Path fakeTimeLib) {

  /**
   * Validates and copies.
   *
   * @param nodes       node count
   * @param runDir      run directory
   * @param heap        heap size
   * @param jvmOptions  extra JVM options
   * @param serverProps extra server keys
   * @param fakeTimeLib libfaketime, or null
   */
  public ClusterSpec {
    if (nodes < 1 || nodes > 9) {
      throw new IllegalArgumentException("nodes must be 1..9: " + nodes);
    }
    jvmOptions = List.copyOf(jvmOptions);
    serverProps = Map.copyOf(serverProps);
  }

  /**
   * Defaults for a small machine: 384 MiB heap, serial GC, C1 only (quick start, little CPU).
   *
   * @param nodes  node count
   * @param runDir run directory
   * @return the spec
   */
  public static ClusterSpec small(int nodes, Path runDir) {
    return new ClusterSpec(nodes, runDir, "384m",
        List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k"), Map.of(), null);
  }

  /**
   * A copy with other server properties.
   *
   * @param props the properties
   * @return the copy
   */
  public ClusterSpec withServerProps(Map<String, String> props) {
    return new ClusterSpec(nodes, runDir, heap, jvmOptions, props, fakeTimeLib);
  }

  /**
   * A copy whose nodes run with libfaketime preloaded (wall clock only; monotonic time stays real).
   *
   * @param lib the library, e.g. {@code /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1}
   * @return the copy
   */
  public ClusterSpec withFakeTime(Path lib) {
    return new ClusterSpec(nodes, runDir, heap, jvmOptions, serverProps, lib);
  }
}
