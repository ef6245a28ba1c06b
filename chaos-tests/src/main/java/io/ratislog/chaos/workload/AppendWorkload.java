package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.History;
import java.util.ArrayList;
import java.util.List;

/**
 * The append workload: producers appending unique values and readers polling every partition, on
 * their own threads, until {@link #stopAndAwait()}; then {@link FinalReader} reads everything.
 */
public final class AppendWorkload {
  private final List<AppendProducer> producers = new ArrayList<>();
  private final List<PollReader> readers = new ArrayList<>();
  private final List<Thread> producerThreads = new ArrayList<>();
  private final List<Thread> readerThreads = new ArrayList<>();

  /**
   * Creates the processes (nothing runs yet).
   *
   * @param bootstrap the cluster
   * @param cfg       settings
   * @param history   the history
   * @param seed      random seed
   */
  public AppendWorkload(String bootstrap, WorkloadConfig cfg, History history, long seed) {
    for (int i = 0; i < cfg.producers(); i++) {
      producers.add(new AppendProducer(i, bootstrap, cfg, history, seed * 31 + i));
    }
    for (int i = 0; i < cfg.readers(); i++) {
      readers.add(new PollReader(i, bootstrap, cfg, history));
    }
  }

  /** Starts every producer and reader thread. */
  public void start() {
    for (int i = 0; i < producers.size(); i++) {
      Thread t = new Thread(producers.get(i), "producer-" + i);
      t.setDaemon(true);
      producerThreads.add(t);
      t.start();
    }
    for (int i = 0; i < readers.size(); i++) {
      Thread t = new Thread(readers.get(i), "reader-" + i);
      t.setDaemon(true);
      readerThreads.add(t);
      t.start();
    }
  }

  /**
   * Stops sending, waits until every outstanding send completed (bounded by the delivery timeout),
   * then stops the readers.
   *
   * @throws InterruptedException when interrupted
   */
  public void stopAndAwait() throws InterruptedException {
    producers.forEach(AppendProducer::stop);
    for (Thread t : producerThreads) {
      t.join(120_000);
    }
    readers.forEach(PollReader::stop);
    for (Thread t : readerThreads) {
      t.join(30_000);
    }
  }
}
