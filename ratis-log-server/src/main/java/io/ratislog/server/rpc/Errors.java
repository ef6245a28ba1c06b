package io.ratislog.server.rpc;

import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;

/** Builds the typed errors every response carries. */
final class Errors {
  static final Error NONE = Error.newBuilder().setCode(ErrorCode.NONE).build();

  private Errors() {
  }

  static Error of(ErrorCode code, String message) {
    return Error.newBuilder().setCode(code).setMessage(message).build();
  }

  static Error fromNumber(int code, String message) {
    ErrorCode c = ErrorCode.forNumber(code);
    return of(c == null ? ErrorCode.INTERNAL_ERROR : c, message);
  }
}
