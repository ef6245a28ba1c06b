package io.ratislog.client;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/** Bridges gRPC async unary calls to {@link CompletableFuture}s. */
final class GrpcCalls {
  private GrpcCalls() {}

  /**
   * Starts a unary call.
   *
   * @param method  the async stub method, e.g. {@code stub::produce}
   * @param request the request
   * @param <Q>     request type
   * @param <R>     response type
   * @return a future completed with the response, or exceptionally with the gRPC failure
   */
  static <Q, R> CompletableFuture<R> unary(BiConsumer<Q, StreamObserver<R>> method, Q request) {
    CompletableFuture<R> f = new CompletableFuture<>();
    try {
      method.accept(request, new StreamObserver<R>() {
        @Override
        public void onNext(R value) {
          f.complete(value);
        }

        @Override
        public void onError(Throwable t) {
          f.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
          if (!f.isDone()) {
            f.completeExceptionally(new IllegalStateException("call completed without a response"));
          }
        }
      });
    } catch (RuntimeException e) {
      f.completeExceptionally(e);
    }
    return f;
  }
}
