package io.ratislog.chaos.workload;

import io.ratislog.chaos.history.Phase;
import io.ratislog.client.RatislogException;

/**
 * Classifies a failed send. Only errors proving the record was not written are {@code fail}:
 * NOT_LEADER and LEADER_NOT_AVAILABLE (the leader refused before proposing) and validation errors
 * (the record or request was rejected up front). Everything else, TIMEOUT and the delivery timeout
 * in particular, and every transport failure, is {@code info}: the record may have been written.
 */
public final class SendOutcomes {
  private SendOutcomes() {}

  /**
   * The completion phase of a send that completed exceptionally.
   *
   * @param t the failure
   * @return {@link Phase#FAIL} or {@link Phase#INFO}
   */
  public static Phase classify(Throwable t) {
    RatislogException e = RatislogException.wrap(t);
    if (e.transportStatus() != null) {
      return Phase.INFO;
    }
    return switch (e.code()) {
      case NOT_LEADER, LEADER_NOT_AVAILABLE, RECORD_TOO_LARGE, INVALID_REQUEST, INVALID_TOPIC,
          UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_BATCH -> Phase.FAIL;
      default -> Phase.INFO;
    };
  }

  /**
   * A short description of a failure for the history.
   *
   * @param t the failure
   * @return {@code CODE: message}
   */
  public static String describe(Throwable t) {
    RatislogException e = RatislogException.wrap(t);
    String msg = e.getMessage();
    if (msg != null && msg.length() > 300) {
      msg = msg.substring(0, 300) + "...";
    }
    return e.codeName() + ": " + msg;
  }
}
