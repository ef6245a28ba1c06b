package io.ratislog.client;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.ratislog.proto.ErrorCode;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one exception type of the client: an error a server reported (its {@link ErrorCode} and
 * message), a request that could not reach any server (a transport failure, see
 * {@link #transportStatus()}), or a condition detected by the client itself (e.g. a CRC mismatch,
 * reported as {@link ErrorCode#CORRUPT_BATCH}).
 */
public class RatislogException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final transient Status.Code transportStatus;

  /**
   * Creates an exception for an error code.
   *
   * @param code    the error code
   * @param message a human-readable message
   */
  public RatislogException(ErrorCode code, String message) {
    this(code, message, null);
  }

  /**
   * Creates an exception for an error code with a cause.
   *
   * @param code    the error code
   * @param message a human-readable message
   * @param cause   the underlying cause, may be null
   */
  public RatislogException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code == null ? ErrorCode.INTERNAL_ERROR : code;
    this.transportStatus = null;
  }

  private RatislogException(Status.Code transportStatus, String message, Throwable cause) {
    super(message, cause);
    this.code = ErrorCode.TIMEOUT;
    this.transportStatus = transportStatus;
  }

  /**
   * Creates an exception for a request that did not get an answer from a server (a gRPC status other
   * than OK). Its {@link #code()} is {@link ErrorCode#TIMEOUT}: the outcome of a write is unknown.
   *
   * @param status  the gRPC status of the failed call
   * @param message a human-readable message
   * @param cause   the underlying cause, may be null
   * @return the exception
   */
  public static RatislogException transport(Status status, String message, Throwable cause) {
    String desc = status.getDescription();
    String msg = message + ": " + status.getCode() + (desc == null ? "" : " (" + desc + ")");
    return new RatislogException(status.getCode(), msg, cause);
  }

  /**
   * Converts any throwable into a {@code RatislogException}: unwraps {@link CompletionException}
   * and {@link ExecutionException}, maps gRPC failures to transport errors and anything else to
   * {@link ErrorCode#INTERNAL_ERROR}.
   *
   * @param t the throwable
   * @return {@code t} itself when it already is a {@code RatislogException}, else a wrapper
   */
  public static RatislogException wrap(Throwable t) {
    Throwable c = unwrap(t);
    if (c instanceof RatislogException re) {
      return re;
    }
    if (c instanceof StatusRuntimeException sre) {
      return transport(sre.getStatus(), "request failed", sre);
    }
    if (c instanceof StatusException se) {
      return transport(se.getStatus(), "request failed", se);
    }
    return new RatislogException(ErrorCode.INTERNAL_ERROR, String.valueOf(c), c);
  }

  /**
   * Strips {@link CompletionException} and {@link ExecutionException} wrappers.
   *
   * @param t a throwable
   * @return the innermost meaningful cause
   */
  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /**
   * The error code. Transport failures report {@link ErrorCode#TIMEOUT}.
   *
   * @return the error code, never null
   */
  public ErrorCode code() {
    return code;
  }

  /**
   * The gRPC status code when the request never got an answer from a server, else null.
   *
   * @return the gRPC status code of a transport failure, or null
   */
  public Status.Code transportStatus() {
    return transportStatus;
  }

  /**
   * The name to show a person: the gRPC status name (e.g. {@code UNAVAILABLE}) for a transport
   * failure, else the error code's name (e.g. {@code NOT_LEADER}).
   *
   * @return the code name
   */
  public String codeName() {
    return transportStatus != null ? transportStatus.name() : code.name();
  }

  /**
   * Whether retrying the same request may succeed; see {@link RetryPolicy#isRetriable(Throwable)}.
   *
   * @return true when retriable
   */
  public boolean isRetriable() {
    return RetryPolicy.isRetriable(this);
  }
}
