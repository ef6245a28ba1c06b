package io.ratislog.client;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Honours the servers' quota answers: a response carrying {@code throttle_time_ms > 0} holds back the next
 * calls on this channel (one node) until that time has passed. A held-back call is started later, with
 * everything the caller did to it meanwhile replayed in order; the caller is never blocked. One instance per
 * channel.
 */
final class ThrottleInterceptor implements ClientInterceptor {
  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ratislog-throttle");
    t.setDaemon(true);
    return t;
  });
  private volatile long notBeforeNanos = System.nanoTime();

  /**
   * Nanoseconds the next call would wait now.
   *
   * @return the delay, 0 when not throttled
   */
  long delayNanos() {
    return Math.max(0, notBeforeNanos - System.nanoTime());
  }

  void onThrottle(int throttleMs) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(throttleMs);
    synchronized (this) {
      if (until > notBeforeNanos) {
        notBeforeNanos = until;
      }
    }
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    ClientCall<Q, R> call = new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onMessage(R message) {
            observe(message);
            super.onMessage(message);
          }
        }, headers);
      }
    };
    long delay = delayNanos();
    return delay <= 0 ? call : new DelayedCall<>(call, delay);
  }

  private void observe(Object message) {
    if (message instanceof Message m) {
      FieldDescriptor f = m.getDescriptorForType().findFieldByName("throttle_time_ms");
      if (f != null && f.getJavaType() == FieldDescriptor.JavaType.INT) {
        int ms = (Integer) m.getField(f);
        if (ms > 0) {
          onThrottle(ms);
        }
      }
    }
  }

  /** A call whose start, and everything after it, waits for a delay. */
  private static final class DelayedCall<Q, R> extends ClientCall<Q, R> {
    private final ClientCall<Q, R> delegate;
    private final List<Runnable> pending = new ArrayList<>();
    private boolean passThrough;

    DelayedCall(ClientCall<Q, R> delegate, long delayNanos) {
      this.delegate = delegate;
      TIMER.schedule(this::drain, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void drain() {
      while (true) {
        List<Runnable> batch;
        synchronized (this) {
          if (pending.isEmpty()) {
            passThrough = true;
            return;
          }
          batch = new ArrayList<>(pending);
          pending.clear();
        }
        batch.forEach(Runnable::run);
      }
    }

    private void run(Runnable r) {
      synchronized (this) {
        if (!passThrough) {
          pending.add(r);
          return;
        }
      }
      r.run();
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      run(() -> delegate.start(listener, headers));
    }

    @Override
    public void request(int n) {
      run(() -> delegate.request(n));
    }

    @Override
    public void cancel(String message, Throwable cause) {
      run(() -> delegate.cancel(message, cause));
    }

    @Override
    public void halfClose() {
      run(delegate::halfClose);
    }

    @Override
    public void sendMessage(Q message) {
      run(() -> delegate.sendMessage(message));
    }

    @Override
    public boolean isReady() {
      synchronized (this) {
        return passThrough && delegate.isReady();
      }
    }
  }
}
