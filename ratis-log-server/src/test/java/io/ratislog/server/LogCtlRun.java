package io.ratislog.server;

import io.ratislog.client.cli.LogCtl;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** One in-JVM run of logctl against a {@link MiniCluster} (its bootstrap first): exit code, stdout, stderr. */
record LogCtlRun(int exit, String out, String err) {
  /** Stdout's lines. */
  List<String> lines() {
    return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n"));
  }

  /** Runs {@code logctl --bootstrap <cluster> args...} with {@code stdin} as standard input. */
  static LogCtlRun of(MiniCluster c, String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = new String[args.length + 2];
    all[0] = "--bootstrap";
    all[1] = c.bootstrap();
    System.arraycopy(args, 0, all, 2, args.length);
    int exit = LogCtl.run(all, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new LogCtlRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
