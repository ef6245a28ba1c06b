package io.ratislog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.ratislog.proto.ErrorCode;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  @Test
  void errorCodeClassification() {
    Set<ErrorCode> retriable = EnumSet.of(ErrorCode.NOT_LEADER, ErrorCode.LEADER_NOT_AVAILABLE,
        ErrorCode.TIMEOUT, ErrorCode.INTERNAL_ERROR, ErrorCode.CONCURRENT_TRANSACTIONS,
        ErrorCode.UNSTABLE_OFFSET_COMMIT);
    for (ErrorCode c : ErrorCode.values()) {
      if (c == ErrorCode.UNRECOGNIZED) {
        continue;
      }
      assertEquals(retriable.contains(c), RetryPolicy.isRetriable(c), c.name());
      assertEquals(c == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, RetryPolicy.isRetriableWithinGrace(c), c.name());
    }
    assertFalse(RetryPolicy.isRetriable(ErrorCode.UNRECOGNIZED));
    assertFalse(RetryPolicy.isRetriable((ErrorCode) null));
  }

  @Test
  void transportClassification() {
    assertTrue(RetryPolicy.isRetriable(Status.Code.UNAVAILABLE));
    assertTrue(RetryPolicy.isRetriable(Status.Code.DEADLINE_EXCEEDED));
    assertTrue(RetryPolicy.isRetriable(Status.Code.CANCELLED), "a node killed mid-call resets the stream");
    assertFalse(RetryPolicy.isRetriable(Status.Code.UNIMPLEMENTED));
    assertFalse(RetryPolicy.isRetriable(Status.Code.INVALID_ARGUMENT));
    assertTrue(RetryPolicy.isRetriable(new CompletionException(Status.UNAVAILABLE.asRuntimeException())));
    assertFalse(RetryPolicy.isRetriable(Status.PERMISSION_DENIED.asRuntimeException()));
    RatislogException t = RatislogException.wrap(Status.DEADLINE_EXCEEDED.asRuntimeException());
    assertEquals("DEADLINE_EXCEEDED", t.codeName());
    assertEquals(ErrorCode.TIMEOUT, t.code());
    assertTrue(t.isRetriable());
  }

  @Test
  void exceptionClassification() {
    assertTrue(new RatislogException(ErrorCode.NOT_LEADER, "x").isRetriable());
    assertFalse(new RatislogException(ErrorCode.CORRUPT_BATCH, "x").isRetriable());
    assertFalse(new RatislogException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "x").isRetriable());
    assertFalse(RetryPolicy.isRetriable(new IllegalStateException("bug")));
    assertEquals(ErrorCode.INTERNAL_ERROR, RatislogException.wrap(new IllegalStateException("bug")).code());
    assertEquals("NOT_LEADER", new RatislogException(ErrorCode.NOT_LEADER, "x").codeName());
  }

  @Test
  void backoffDoublesUpToOneSecond() {
    assertEquals(50, RetryPolicy.backoffMs(1));
    assertEquals(100, RetryPolicy.backoffMs(2));
    assertEquals(200, RetryPolicy.backoffMs(3));
    assertEquals(400, RetryPolicy.backoffMs(4));
    assertEquals(800, RetryPolicy.backoffMs(5));
    assertEquals(1000, RetryPolicy.backoffMs(6));
    assertEquals(1000, RetryPolicy.backoffMs(1000));
    assertEquals(50, RetryPolicy.backoffMs(0));
  }

  @Test
  void leaderChangeBackoffDoublesUpTo200Ms() {
    assertEquals(20, RetryPolicy.leaderChangeBackoffMs(1));
    assertEquals(40, RetryPolicy.leaderChangeBackoffMs(2));
    assertEquals(80, RetryPolicy.leaderChangeBackoffMs(3));
    assertEquals(100, RetryPolicy.leaderChangeBackoffMs(4));
    assertEquals(100, RetryPolicy.leaderChangeBackoffMs(1000));
    assertEquals(20, RetryPolicy.leaderChangeBackoffMs(0));
  }
}
