package io.ratislog.chaos.cluster;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the built server lives: the repository root holds {@code ratis-log-server/target/classes}
 * and {@code ratis-log-server/target/lib}. The root is the system property {@code ratislog.root}
 * when set, else the working directory or its parent (tests run in {@code chaos-tests/}).
 *
 * @param root the repository root
 */
public record RepoLayout(Path root) {

  /**
   * Locates the repository root.
   *
   * @return the layout
   * @throws IllegalStateException when no root is found or the server is not built
   */
  public static RepoLayout locate() {
    String prop = System.getProperty("ratislog.root");
    Path cwd = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    Path root = prop != null ? Path.of(prop).toAbsolutePath()
        : Files.isDirectory(cwd.resolve("ratis-log-server")) ? cwd
        : cwd.getParent() != null && Files.isDirectory(cwd.getParent().resolve("ratis-log-server"))
            ? cwd.getParent() : null;
    if (root == null) {
      throw new IllegalStateException("cannot find the ratislog repository root from " + cwd
          + " (run from the root or chaos-tests/, or set -Dratislog.root=DIR)");
    }
    RepoLayout layout = new RepoLayout(root);
    if (!Files.isDirectory(layout.serverLib()) || !Files.isDirectory(layout.serverClasses())) {
      throw new IllegalStateException(layout.serverLib() + " or " + layout.serverClasses()
          + " is missing: build the server first (cd " + root + " && mvn -B -DskipTests install)");
    }
    return layout;
  }

  /**
   * The server's compiled classes.
   *
   * @return {@code ratis-log-server/target/classes}
   */
  public Path serverClasses() {
    return root.resolve("ratis-log-server/target/classes");
  }

  /**
   * The server's runtime dependencies.
   *
   * @return {@code ratis-log-server/target/lib}
   */
  public Path serverLib() {
    return root.resolve("ratis-log-server/target/lib");
  }

  /**
   * The classpath of a {@code logd} JVM.
   *
   * @return {@code classes:lib/*}
   */
  public String serverClasspath() {
    return serverClasses() + java.io.File.pathSeparator + serverLib() + java.io.File.separator + "*";
  }
}
