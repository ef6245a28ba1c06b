package io.ratislog.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs {@code scripts/multihost-test.sh}: the packaged tarball installed on three "hosts" (network namespaces with
 * their own addresses), started with its {@code bin/logd}, a topic produced to and consumed from, a rolling
 * restart with records produced while each host is down, and nothing acknowledged lost or duplicated. Skipped
 * (JUnit assumption) unless running as root with {@code ip} available and the tarball built
 * ({@code dist/target/ratislog-*.tar.gz}, which the reactor builds before this module). The script's output goes
 * to {@code target/multihost-test.log}; the test checks that no namespace of the run is left behind.
 * {@code -Dratislog.multihost=off} skips it (it takes 1.5 to 3 minutes, most of it JVM starts).
 */
class MultiHostIT {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void tarballAcrossThreeHostsSurvivesARollingRestart() throws Exception {
    assumeTrue(!"off".equals(System.getProperty("ratislog.multihost")), "multi-host test off (-Dratislog.multihost=off)");
    assumeTrue("0".equals(run("id", "-u").trim()), "multi-host test skipped: needs root");
    assumeTrue(!run("sh", "-c", "command -v ip || true").isBlank(), "multi-host test skipped: needs iproute2 (ip)");
    Path tarball;
    try (Stream<Path> files = Files.list(REPO.resolve("dist/target"))) {
      tarball = files.filter(f -> f.getFileName().toString().matches("ratislog-.*\\.tar\\.gz")).findFirst().orElse(null);
    } catch (IOException e) {
      tarball = null;
    }
    assumeTrue(tarball != null, "multi-host test skipped: no dist/target/ratislog-*.tar.gz (mvn package builds it)");
    Set<String> before = ourNamespaces();

    Path log = Path.of("target", "multihost-test.log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    Process p = new ProcessBuilder("bash", REPO.resolve("scripts/multihost-test.sh").toString(), tarball.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done = p.waitFor(240, TimeUnit.SECONDS);
    if (!done) {
      p.destroy(); // SIGTERM: the script stops its nodes and deletes its namespaces
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertTrue(done, "multihost-test.sh did not finish in 240 s:\n" + out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("multihost-test: OK:") && out.contains("missing 0, duplicated 0"), out);
    assertEquals(before, ourNamespaces(), "every namespace of the run is deleted");
  }

  private static Set<String> ourNamespaces() throws Exception {
    Set<String> out = new TreeSet<>();
    for (String line : run("ip", "netns", "list").split("\n")) {
      String name = line.trim().split("\\s+")[0];
      if (name.matches("rlo[0-9a-f]{4}.*")) {
        out.add(name);
      }
    }
    return out;
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return out;
  }
}
