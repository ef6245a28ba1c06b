package io.ratislog.server.metrics;

import com.codahale.metrics.Timer;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchResponse;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import io.ratislog.proto.SubscribeRequest;
import io.ratislog.proto.SubscribeResponse;
import java.util.List;

/**
 * Counts every client RPC: requests and latency per method ({@code ratislog.rpc.*}), errors by method and
 * code (the {@code error} field every ratislog response carries, or the gRPC status when the call failed),
 * and the payload of the data path: produced and fetched (pulled or pushed) bytes and records per topic.
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private final NodeMetrics metrics;

  public MetricsInterceptor(NodeMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    boolean unary = call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY;
    metrics.meter("ratislog.rpc.requests", "method", method).mark();
    Timer.Context timing = unary ? metrics.timer("ratislog.rpc.latency", "method", method).time() : null;
    CallState state = new CallState();
    ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void sendMessage(R message) {
        onResponse(method, state, message);
        super.sendMessage(message);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        if (!status.isOk()) {
          metrics.counter("ratislog.rpc.errors_total", "method", method, "code", "GRPC_" + status.getCode()).inc();
        }
        if (timing != null) {
          timing.stop();
        }
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<Q> listener = next.startCall(counted, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        if (message instanceof ProduceRequest p) {
          state.produce = p;
        } else if (message instanceof SubscribeRequest s && s.hasStart()) {
          state.topic = s.getStart().getTopic();
        } else if (message instanceof io.ratislog.proto.FetchRequest f) {
          state.topic = f.getTopic();
        }
        super.onMessage(message);
      }
    };
  }

  /** What the request said that the response alone does not (unary calls see one request, streams a start). */
  private static final class CallState {
    volatile ProduceRequest produce;
    volatile String topic = "";
  }

  private void onResponse(String method, CallState state, Object message) {
    ErrorCode code = errorCode(message);
    if (code != null && code != ErrorCode.NONE) {
      metrics.counter("ratislog.rpc.errors_total", "method", method, "code", code.name()).inc();
      return;
    }
    if (message instanceof ProduceResponse r && state.produce != null && !r.getDuplicate()) {
      ProduceRequest p = state.produce;
      metrics.meter("ratislog.produce.bytes", "topic", p.getTopic()).mark(p.getRecords().size());
      metrics.meter("ratislog.produce.records", "topic", p.getTopic()).mark(p.getRecordCount());
    } else if (message instanceof FetchResponse r) {
      countFetched(state.topic, r.getBatchesList());
    } else if (message instanceof SubscribeResponse r) {
      countFetched(state.topic, r.getBatchesList());
    }
  }

  private void countFetched(String topic, List<FetchedBatch> batches) {
    if (batches.isEmpty()) {
      return;
    }
    long bytes = 0;
    long records = 0;
    for (FetchedBatch b : batches) {
      bytes += b.getRecords().size();
      records += b.getRecordCount();
    }
    metrics.meter("ratislog.fetch.bytes", "topic", topic).mark(bytes);
    metrics.meter("ratislog.fetch.records", "topic", topic).mark(records);
  }

  /** The code in a response's {@code error} field, or null when it has none. */
  static ErrorCode errorCode(Object message) {
    if (!(message instanceof Message m)) {
      return null;
    }
    FieldDescriptor f = m.getDescriptorForType().findFieldByName("error");
    if (f == null || f.getType() != FieldDescriptor.Type.MESSAGE || !m.hasField(f)) {
      return null;
    }
    Object error = m.getField(f);
    return error instanceof io.ratislog.proto.Error e ? e.getCode() : null;
  }
}
