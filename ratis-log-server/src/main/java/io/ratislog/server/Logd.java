package io.ratislog.server;

import io.ratislog.server.config.ConfigException;
import io.ratislog.server.config.NodeConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The node process: {@code logd --config logd.properties}. Runs until SIGTERM/SIGINT. */
@Command(name = "logd", mixinStandardHelpOptions = true, description = "Runs one ratislog node.")
public final class Logd implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "the node's properties file")
  Path configFile;

  @Override
  public Integer call() throws Exception {
    NodeConfig config;
    try {
      config = NodeConfig.load(configFile);
    } catch (ConfigException e) {
      System.err.println("logd: " + configFile + ": " + e.getMessage());
      return 2;
    } catch (java.io.IOException e) {
      System.err.println("logd: cannot read " + configFile + ": " + e);
      return 2;
    }
    LogNode node = new LogNode(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
      } catch (Exception e) {
        System.err.println("logd: shutdown: " + e);
      } finally {
        stopped.countDown();
      }
    }, "logd-shutdown"));
    node.start();
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Logd()).execute(args));
  }
}
