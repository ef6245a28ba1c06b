package io.ratislog.server.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.ratislog.proto.ErrorCode;
import java.io.InputStream;

/**
 * Answers a request that does not decode (malformed protobuf, over-deep nesting, ...) like any other bad request:
 * INVALID_REQUEST in the response's {@code error}, saying what failed, instead of gRPC's bare UNKNOWN status and a
 * logged stack trace per request.
 *
 * <p>{@link #lenient} swaps each method's request parser for one that, when decoding fails, hands on a marker: an
 * empty request carrying the failure in unknown field {@value #MARKER_FIELD} (the highest field number protobuf
 * allows, never part of the protocol); {@link #INTERCEPTOR}, outermost, answers every marked request.
 *
 * <p>A client may send that field number itself, in any wire type: the marker's payload starts with a random
 * per-process {@link #NONCE}, so only a marker this node's parser made refuses a request; any other field
 * {@value #MARKER_FIELD} is an ordinary unknown field and ignored.
 */
public final class MalformedRequests {
  public static final int MARKER_FIELD = 536_870_911;
  private static final ByteString NONCE = randomNonce();

  /** Refuses marked (undecodable) requests; install it as the outermost interceptor. */
  public static final ServerInterceptor INTERCEPTOR = new ServerInterceptor() {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          String problem = problem(message);
          if (problem != null) {
            refused = true;
            ErrorResponses.refuse(call, ErrorCode.INVALID_REQUEST, problem);
            return;
          }
          super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }
      };
    }
  };

  private MalformedRequests() {
  }

  /** Why a request did not decode, or null when it did. */
  static String problem(Object request) {
    if (!(request instanceof Message m) || !m.getUnknownFields().hasField(MARKER_FIELD)) {
      return null;
    }
    for (ByteString payload : m.getUnknownFields().getField(MARKER_FIELD).getLengthDelimitedList()) {
      if (payload.startsWith(NONCE)) {
        return payload.substring(NONCE.size()).toStringUtf8();
      }
    }
    return null;
  }

  private static ByteString randomNonce() {
    byte[] nonce = new byte[16];
    new java.security.SecureRandom().nextBytes(nonce);
    return ByteString.copyFrom(nonce);
  }

  /** The service with lenient request parsers (see the class comment). */
  public static ServerServiceDefinition lenient(ServerServiceDefinition service) {
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      b.addMethod(lenient(m));
    }
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> lenient(ServerMethodDefinition<Q, R> m) {
    MethodDescriptor<Q, R> d = m.getMethodDescriptor();
    if (!(d.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> pm)
        || !(pm.getMessagePrototype() instanceof Message)) {
      return m;
    }
    MethodDescriptor<Q, R> lenient = d.toBuilder(new Lenient<>(pm, d.getFullMethodName()), d.getResponseMarshaller()).build();
    return ServerMethodDefinition.create(lenient, m.getServerCallHandler());
  }

  private static final class Lenient<Q> implements MethodDescriptor.PrototypeMarshaller<Q> {
    private final MethodDescriptor.PrototypeMarshaller<Q> delegate;
    private final String method;

    Lenient(MethodDescriptor.PrototypeMarshaller<Q> delegate, String method) {
      this.delegate = delegate;
      this.method = method;
    }

    @Override
    public Q getMessagePrototype() {
      return delegate.getMessagePrototype();
    }

    @Override
    public Class<Q> getMessageClass() {
      return delegate.getMessageClass();
    }

    @Override
    public InputStream stream(Q value) {
      return delegate.stream(value);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Q parse(InputStream stream) {
      try {
        return delegate.parse(stream);
      } catch (StatusRuntimeException e) {
        String why = e.getCause() != null ? e.getCause().getMessage() : e.getStatus().getDescription();
        String text = "the request does not decode as " + method.substring(method.lastIndexOf('/') + 1)
            + "'s request: " + why;
        Message marker = ((Message) delegate.getMessagePrototype()).toBuilder()
            .setUnknownFields(UnknownFieldSet.newBuilder().addField(MARKER_FIELD, UnknownFieldSet.Field.newBuilder()
                .addLengthDelimited(NONCE.concat(ByteString.copyFromUtf8(text))).build()).build())
            .build();
        return (Q) marker;
      }
    }
  }
}
