package io.ratislog.client;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.SubscribeRequest;
import io.ratislog.proto.SubscribeResponse;
import io.ratislog.proto.SubscribeStart;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Push consumption of one partition: the partition leader streams committed records from an offset
 * ({@code LogService.Subscribe}) and this class hands them to the application through {@link #poll}.
 *
 * <p>Flow control is credit-based: the server may send at most {@code window} records the application has
 * not taken yet; each time the application has taken half a window, that many credits are granted again. So
 * a slow application holds at most about one window of records in memory, and the server stops reading.
 *
 * <p>When the stream ends with a retriable error (NOT_LEADER with a hint, LEADER_NOT_AVAILABLE, a lost
 * connection), the subscription reconnects to the (new) leader from the next offset after a backoff. A
 * non-retriable error (OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_BATCH) is thrown from the next
 * {@link #poll}. Offsets handed out are contiguous and increasing. {@link #poll} is for one thread.
 */
public final class Subscription implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);

  private final TopicPartition tp;
  private final int window;
  private final ClusterConnection conn;
  private final boolean ownsConnection;
  private final LinkedBlockingQueue<ConsumerRecord> queue = new LinkedBlockingQueue<>();
  private final ScheduledExecutorService reconnects;
  private final Object lock = new Object();
  /** Next offset to ask the server for: after the last record received. */
  private long nextOffset;
  private int takenSinceGrant;
  private int attempts;
  private ClientCallStreamObserver<SubscribeRequest> stream;
  private volatile RatislogException failure;
  private volatile boolean closed;

  /**
   * Opens a subscription.
   *
   * @param bootstrap   {@code host:port,...}
   * @param tp          the partition
   * @param startOffset the first offset wanted
   * @param window      records the server may push ahead of the application (&gt; 1)
   */
  public Subscription(String bootstrap, TopicPartition tp, long startOffset, int window) {
    this(new ClusterConnection(bootstrap), true, tp, startOffset, window);
  }

  /**
   * Opens a subscription over channels from {@code channelFactory} (TLS, tokens).
   *
   * @param bootstrap      {@code host:port,...}
   * @param channelFactory opens the channel to a node
   * @param tp             the partition
   * @param startOffset    the first offset wanted
   * @param window         records the server may push ahead of the application (&gt; 1)
   */
  public Subscription(String bootstrap, ChannelFactory channelFactory, TopicPartition tp, long startOffset, int window) {
    this(new ClusterConnection(bootstrap, 10_000, channelFactory), true, tp, startOffset, window);
  }

  Subscription(ClusterConnection conn, boolean ownsConnection, TopicPartition tp, long startOffset, int window) {
    if (startOffset < 0 || window < 2) {
      throw new RatislogException(ErrorCode.INVALID_REQUEST, "start offset must be >= 0 and window >= 2");
    }
    this.conn = conn;
    this.ownsConnection = ownsConnection;
    this.tp = tp;
    this.window = window;
    this.nextOffset = startOffset;
    this.reconnects = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ratislog-subscription-" + tp);
      t.setDaemon(true);
      return t;
    });
    reconnects.execute(this::connect);
  }

  /**
   * Waits up to {@code timeout} for records and returns those available (at most {@code max}).
   *
   * @param timeout how long to wait for the first record
   * @param max     the most records to return
   * @return records in offset order; empty when none arrived in time
   * @throws RatislogException when the subscription failed for good
   */
  public List<ConsumerRecord> poll(Duration timeout, int max) {
    List<ConsumerRecord> out = new ArrayList<>();
    try {
      ConsumerRecord first = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      if (first != null) {
        out.add(first);
        queue.drainTo(out, max - 1);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (out.isEmpty() && failure != null) {
      throw failure;
    }
    taken(out.size());
    return out;
  }

  /** Grants credits for what the application took, half a window at a time. */
  private void taken(int n) {
    ClientCallStreamObserver<SubscribeRequest> s;
    int grant = 0;
    synchronized (lock) {
      takenSinceGrant += n;
      if (takenSinceGrant >= window / 2) {
        grant = takenSinceGrant;
        takenSinceGrant = 0;
      }
      s = stream;
    }
    if (grant > 0 && s != null) {
      try {
        synchronized (s) {
          s.onNext(SubscribeRequest.newBuilder().setCredits(grant).build());
        }
      } catch (RuntimeException e) {
        LOG.debug("credit grant failed (stream ending): {}", e.toString());
      }
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    conn.route(tp, attempts).whenComplete((hp, err) -> {
      if (err != null) {
        retryLater(RatislogException.wrap(err));
        return;
      }
      long from;
      int credits;
      synchronized (lock) {
        from = nextOffset;
        // Whatever the application has not taken yet still counts against the window.
        credits = Math.max(1, window - queue.size());
        takenSinceGrant = 0;
      }
      io.grpc.stub.StreamObserver<SubscribeRequest> requests =
          LogServiceGrpc.newStub(conn.channel(hp)).subscribe(new Observer(from));
      synchronized (requests) {
        requests.onNext(SubscribeRequest.newBuilder().setStart(SubscribeStart.newBuilder().setTopic(tp.topic())
            .setPartition(tp.partition()).setOffset(from).setCredits(credits)).build());
      }
    });
  }

  private void retryLater(RatislogException e) {
    if (closed) {
      return;
    }
    if (!RetryPolicy.isRetriable(e) && e.code() != ErrorCode.NOT_LEADER) {
      failure = e;
      return;
    }
    long delay = RetryPolicy.backoffMs(++attempts);
    LOG.debug("subscription to {} resumes in {} ms after {}", tp, delay, e.getMessage());
    try {
      reconnects.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    } catch (RuntimeException rejected) {
      // closed meanwhile
    }
  }

  /** One stream: sends the start, receives batches, and decides what an end means. */
  private final class Observer implements ClientResponseObserver<SubscribeRequest, SubscribeResponse> {
    private long expected;

    Observer(long from) {
      this.expected = from;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
      synchronized (lock) {
        stream = requestStream;
      }
    }

    @Override
    public void onNext(SubscribeResponse r) {
      if (r.getError().getCode() != ErrorCode.NONE) {
        RatislogException e = new RatislogException(r.getError().getCode(), r.getError().getMessage());
        if (r.getError().getCode() == ErrorCode.NOT_LEADER) {
          conn.onNotLeader(tp, r.hasLeader() ? r.getLeader() : null);
        } else if (RetryPolicy.isRetriable(e)) {
          conn.onLeaderUnknown(tp);
        }
        retryLater(e);
        return;
      }
      try {
        for (FetchedBatch b : r.getBatchesList()) {
          for (ConsumerRecord rec : RecordCodec.toConsumerRecords(tp, b, expected)) {
            queue.add(rec);
            expected = rec.offset() + 1;
          }
        }
        if (r.getNextOffset() > expected) {
          expected = r.getNextOffset(); // past aborted transactions' batches the server skipped
        }
        synchronized (lock) {
          nextOffset = expected;
          attempts = 0;
        }
      } catch (RatislogException corrupt) {
        failure = corrupt;
        close();
      }
    }

    @Override
    public void onError(Throwable t) {
      conn.onLeaderUnknown(tp);
      retryLater(RatislogException.wrap(t));
    }

    @Override
    public void onCompleted() {
      // Every end the server chooses comes with an error response, handled in onNext.
    }
  }

  /** Records received and not yet taken by {@link #poll}: at most about one window (plus one batch). */
  public int buffered() {
    return queue.size();
  }

  /** The partition. */
  public TopicPartition topicPartition() {
    return tp;
  }

  @Override
  public void close() {
    closed = true;
    ClientCallStreamObserver<SubscribeRequest> s;
    synchronized (lock) {
      s = stream;
      stream = null;
    }
    if (s != null) {
      try {
        s.cancel("subscription closed", null);
      } catch (RuntimeException e) {
        LOG.debug("cancel failed: {}", e.toString());
      }
    }
    reconnects.shutdownNow();
    if (ownsConnection) {
      conn.close();
    }
  }
}
