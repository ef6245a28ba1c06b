package io.ratislog.server;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.ProduceResponse;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Loses successful Produce responses after the server acted on them: the batch is committed and applied, but
 * the client sees the call fail (UNAVAILABLE) and cannot know it was written. A node's interceptor reports
 * which node lost the response, so a test can also kill that node at that moment.
 */
final class ResponseLoss implements ServerInterceptor {
  private final int nodeId;
  private final AtomicInteger skipBeforeLoss;
  private final AtomicInteger toLose;
  private final AtomicInteger lost;
  private final IntConsumer onLoss;

  /** Lets {@code skip} successful responses through (counted over every node sharing the counters), then loses {@code count}. */
  ResponseLoss(int nodeId, AtomicInteger skip, AtomicInteger count, AtomicInteger lost, IntConsumer onLoss) {
    this.nodeId = nodeId;
    this.skipBeforeLoss = skip;
    this.toLose = count;
    this.lost = lost;
    this.onLoss = onLoss;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor().getFullMethodName().equals(LogServiceGrpc.getProduceMethod().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private boolean losing;

      @Override
      public void sendMessage(R message) {
        ProduceResponse r = (ProduceResponse) message;
        if (r.getError().getCode() == ErrorCode.NONE && skipBeforeLoss.getAndDecrement() <= 0 && toLose.getAndDecrement() > 0) {
          losing = true;
          lost.incrementAndGet();
          onLoss.accept(nodeId);
          return;
        }
        super.sendMessage(message);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        super.close(losing ? Status.UNAVAILABLE.withDescription("response lost after the write (test fault)") : status,
            losing ? new Metadata() : trailers);
      }
    }, headers);
  }
}
