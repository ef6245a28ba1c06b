package io.ratislog.server.rpc;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;

/** Answers a call with an error before (or instead of) its service: for interceptors. */
public final class ErrorResponses {
  private ErrorResponses() {
  }

  /** Answers a call with an error response of its own type and ends it (a no-op when it already ended). */
  public static <Q, R> void refuse(ServerCall<Q, R> call, ErrorCode code, String message) {
    try {
      R response = errorResponse(call.getMethodDescriptor(), Error.newBuilder().setCode(code).setMessage(message).build());
      if (response == null) {
        call.close(Status.INVALID_ARGUMENT.withDescription(code + ": " + message), new Metadata());
        return;
      }
      call.sendHeaders(new Metadata());
      call.sendMessage(response);
      call.close(Status.OK, new Metadata());
    } catch (IllegalStateException e) {
      // already answered or closed
    }
  }

  /** A response of the method's type with {@code error} set, or null when the type has no such field. */
  @SuppressWarnings("unchecked")
  public static <R> R errorResponse(MethodDescriptor<?, R> method, Error error) {
    if (!(method.getResponseMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<R> pm)
        || !(pm.getMessagePrototype() instanceof Message prototype)) {
      return null;
    }
    FieldDescriptor f = prototype.getDescriptorForType().findFieldByName("error");
    if (f == null || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE
        || !f.getMessageType().getFullName().equals(Error.getDescriptor().getFullName())) {
      return null;
    }
    return (R) prototype.newBuilderForType().setField(f, error).build();
  }
}
