package io.ratislog.client;

import io.ratislog.proto.IsolationLevel;
import java.util.Objects;

/**
 * Consumer settings; build with {@link #builder(String)}.
 *
 * @param bootstrap           {@code host:port,...} of some nodes
 * @param maxBytesPerFetch    soft size limit of one partition's fetch response
 * @param maxWaitMs           how long a fetch long-polls the leader when nothing new is committed
 * @param requestTimeoutMs    deadline of one RPC, added to {@code maxWaitMs} for fetches
 * @param autoOffsetReset     where to start without a position, and what to do on
 *                            OFFSET_OUT_OF_RANGE
 * @param unknownTopicRetryMs how long UNKNOWN_TOPIC_OR_PARTITION is retried before poll throws
 * @param channelFactory      opens the channel to a node
 * @param isolationLevel      READ_COMMITTED (default: no record of an open or aborted transaction) or
 *                            READ_UNCOMMITTED
 */
public record ConsumerConfig(String bootstrap, int maxBytesPerFetch, int maxWaitMs, long requestTimeoutMs,
    AutoOffsetReset autoOffsetReset, long unknownTopicRetryMs, ChannelFactory channelFactory,
    IsolationLevel isolationLevel) {

  /**
   * Validates the settings.
   *
   * @param bootstrap           bootstrap list
   * @param maxBytesPerFetch    &gt; 0
   * @param maxWaitMs           &gt;= 0
   * @param requestTimeoutMs    &gt; 0
   * @param autoOffsetReset     not null
   * @param unknownTopicRetryMs &gt;= 0
   * @param channelFactory      not null
   * @param isolationLevel      not null
   */
  public ConsumerConfig {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(isolationLevel, "isolationLevel");
    if (isolationLevel == IsolationLevel.UNRECOGNIZED) {
      throw new IllegalArgumentException("isolationLevel must be READ_COMMITTED or READ_UNCOMMITTED");
    }
    Objects.requireNonNull(autoOffsetReset, "autoOffsetReset");
    Objects.requireNonNull(channelFactory, "channelFactory");
    if (maxBytesPerFetch <= 0 || maxWaitMs < 0 || requestTimeoutMs <= 0 || unknownTopicRetryMs < 0) {
      throw new IllegalArgumentException("invalid consumer config");
    }
  }

  /**
   * A builder with the defaults: 1 MiB per fetch, 500 ms long-poll, 10 s request timeout,
   * autoOffsetReset EARLIEST, unknown-topic retry 5 s.
   *
   * @param bootstrap {@code host:port,...}
   * @return the builder
   */
  public static Builder builder(String bootstrap) {
    return new Builder().bootstrap(bootstrap);
  }

  /** Builder of {@link ConsumerConfig}. */
  public static final class Builder {
    private String bootstrap = "127.0.0.1:9091";
    private int maxBytesPerFetch = 1024 * 1024;
    private int maxWaitMs = 500;
    private long requestTimeoutMs = 10_000;
    private AutoOffsetReset autoOffsetReset = AutoOffsetReset.EARLIEST;
    private long unknownTopicRetryMs = 5_000;
    private ChannelFactory channelFactory = ChannelFactory.plaintext();
    private IsolationLevel isolationLevel = IsolationLevel.READ_COMMITTED;

    /**
     * What the consumer sees of transactions: READ_COMMITTED (the default) reads below the last stable offset
     * and skips aborted transactions' records; READ_UNCOMMITTED reads every committed (replicated) record.
     *
     * @param v the isolation level
     * @return this builder
     */
    public Builder isolationLevel(IsolationLevel v) {
      isolationLevel = v;
      return this;
    }

    private Builder() {}

    /**
     * Sets the bootstrap list.
     *
     * @param v the bootstrap list
     * @return this builder
     */
    public Builder bootstrap(String v) {
      bootstrap = v;
      return this;
    }

    /**
     * Sets the max bytes per fetch.
     *
     * @param v the max bytes per fetch
     * @return this builder
     */
    public Builder maxBytesPerFetch(int v) {
      maxBytesPerFetch = v;
      return this;
    }

    /**
     * Sets the long-poll wait in ms.
     *
     * @param v the long-poll wait in ms
     * @return this builder
     */
    public Builder maxWaitMs(int v) {
      maxWaitMs = v;
      return this;
    }

    /**
     * Sets the request timeout in ms.
     *
     * @param v the request timeout in ms
     * @return this builder
     */
    public Builder requestTimeoutMs(long v) {
      requestTimeoutMs = v;
      return this;
    }

    /**
     * Sets the reset policy.
     *
     * @param v the reset policy
     * @return this builder
     */
    public Builder autoOffsetReset(AutoOffsetReset v) {
      autoOffsetReset = v;
      return this;
    }

    /**
     * Sets the unknown-topic retry period in ms.
     *
     * @param v the unknown-topic retry period in ms
     * @return this builder
     */
    public Builder unknownTopicRetryMs(long v) {
      unknownTopicRetryMs = v;
      return this;
    }

    /**
     * Sets the channel factory.
     *
     * @param v the channel factory
     * @return this builder
     */
    public Builder channelFactory(ChannelFactory v) {
      channelFactory = v;
      return this;
    }

    /**
     * Builds the config.
     *
     * @return the config
     */
    public ConsumerConfig build() {
      return new ConsumerConfig(bootstrap, maxBytesPerFetch, maxWaitMs, requestTimeoutMs, autoOffsetReset,
          unknownTopicRetryMs, channelFactory, isolationLevel);
    }
  }
}
