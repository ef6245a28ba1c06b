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

  /** A call to the metadata group that failed: TIMEOUT (outcome unknown) or LEADER_NOT_AVAILABLE. */
  static Error metadataUnavailable(Throwable t) {
    Throwable cause = t.getCause() != null ? t.getCause() : t;
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return of(ErrorCode.TIMEOUT, "the metadata group did not answer in time (no quorum?)");
    }
    return of(ErrorCode.LEADER_NOT_AVAILABLE, "metadata group unavailable: " + cause.getMessage());
  }

  /** The outcome of a proposed metadata command: NONE when it applied, else why not. */
  static Error metadataOutcome(io.ratislog.server.entries.MetadataResult result, Throwable t) {
    if (t != null) {
      return metadataUnavailable(t);
    }
    return result.getErrorCode() != 0 ? fromNumber(result.getErrorCode(), result.getErrorMessage()) : NONE;
  }
}
