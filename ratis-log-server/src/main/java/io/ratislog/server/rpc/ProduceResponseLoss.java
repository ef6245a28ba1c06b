package io.ratislog.server.rpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.ProduceResponse;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TEST ONLY (config key {@code unsafe.test.lose.every.nth.produce.response}): loses every n-th successful
 * Produce answer after the batch was committed and applied; the client sees the call fail (UNAVAILABLE) and
 * cannot know the batch was written. It makes the difference between the delivery modes visible on a real
 * cluster: at-least-once writes such a batch again, exactly-once is answered with the original offsets.
 */
public final class ProduceResponseLoss implements ServerInterceptor {
  private final long every;
  private final AtomicLong successes = new AtomicLong();

  public ProduceResponseLoss(long every) {
    if (every < 1) {
      throw new IllegalArgumentException("every must be >= 1");
    }
    this.every = every;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor().getFullMethodName().equals(LogServiceGrpc.getProduceMethod().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private boolean lost;

      @Override
      public void sendMessage(R message) {
        if (((ProduceResponse) message).getError().getCode() == ErrorCode.NONE
            && successes.incrementAndGet() % every == 0) {
          lost = true;
          return;
        }
        super.sendMessage(message);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        super.close(lost ? Status.UNAVAILABLE.withDescription("answer lost after the write (unsafe.test fault)") : status,
            lost ? new Metadata() : trailers);
      }
    }, headers);
  }
}
