package io.ratislog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of a process and its threads from Linux's {@code /proc/PID/stat} and {@code /proc/PID/task/TID/stat}
 * (fields 14 and 15, utime and stime, in clock ticks).
 */
final class ProcStat {
  private ProcStat() {}

  /**
   * utime + stime, in clock ticks, from the text of a {@code stat} file. The command name (field 2) is in
   * parentheses and may itself hold spaces and parentheses, so fields are counted after the last ')'.
   */
  static long cpuTicks(String statLine) {
    int close = statLine.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException("not a /proc stat line: " + statLine);
    }
    // After ')': field 3 (state) is the first token; utime is field 14, stime field 15.
    String[] f = statLine.substring(close + 2).trim().split(" +");
    if (f.length < 13) {
      throw new IllegalArgumentException("too few fields in /proc stat line: " + statLine);
    }
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** The name of a thread or process (field 2) from its stat line. */
  static String name(String statLine) {
    int open = statLine.indexOf('(');
    int close = statLine.lastIndexOf(')');
    return open >= 0 && close > open ? statLine.substring(open + 1, close) : "?";
  }

  /** utime + stime of a whole process, in clock ticks. */
  static long processTicks(long pid) throws IOException {
    return cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8));
  }

  /** Per thread of a process: "name (tid)" to utime + stime in clock ticks. Threads that exit while read are skipped. */
  static Map<String, Long> threadTicks(long pid) throws IOException {
    Map<String, Long> out = new HashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks) {
        try {
          String line = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
          out.put(name(line) + " (" + task.getFileName() + ")", cpuTicks(line));
        } catch (IOException gone) {
          // the thread ended between listing and reading
        }
      }
    }
    return out;
  }
}
