package io.ratislog.client;

import java.util.Objects;

/**
 * Producer settings; build with {@link #builder(String)}.
 *
 * @param bootstrap               {@code host:port,...} of some nodes
 * @param batchSizeBytes          a partition's batch is sent once it reaches this size
 * @param lingerMs                ...or once its first record waited this long and no batch of its partition is
 *                                in flight (only full batches are pipelined)
 * @param requestTimeoutMs        deadline of one Produce RPC
 * @param deliveryTimeoutMs       upper bound from send() to the future's completion, retries
 *                                included; also bounds send()'s blocking on metadata and memory
 * @param maxInFlightPerPartition batches of one partition sent without waiting for the previous
 *                                one. Default 5 in EXACTLY_ONCE (the partition accepts a session's batches
 *                                in sequence order only, so send order is kept), 1 otherwise (more may
 *                                reorder batches when one is retried)
 * @param delivery                the delivery mode (see {@link DeliveryMode}); default EXACTLY_ONCE
 * @param bufferMemoryBytes       memory for unsent records; send() blocks when it is used up
 * @param unknownTopicRetryMs     how long UNKNOWN_TOPIC_OR_PARTITION is retried (metadata
 *                                propagation right after topic creation)
 * @param channelFactory          opens the channel to a node
 * @param transactionalId         null, or the id of a transactional producer
 * @param transactionTimeoutMs    how long the coordinator lets a transaction stay open
 * @param compression             how batches are compressed (Kafka's {@code compression.type})
 */
public record ProducerConfig(String bootstrap, int batchSizeBytes, long lingerMs, long requestTimeoutMs,
    long deliveryTimeoutMs, int maxInFlightPerPartition, DeliveryMode delivery, long bufferMemoryBytes,
    long unknownTopicRetryMs, ChannelFactory channelFactory, String transactionalId, int transactionTimeoutMs,
    CompressionType compression) {

  /** Batches in flight per partition by default in EXACTLY_ONCE (the partitions' dedup window). */
  public static final int DEFAULT_IN_FLIGHT_EXACTLY_ONCE = 5;

  /**
   * Validates the settings.
   *
   * @param bootstrap               bootstrap list
   * @param batchSizeBytes          &gt; 0
   * @param lingerMs                &gt;= 0
   * @param requestTimeoutMs        &gt; 0
   * @param deliveryTimeoutMs       &gt; 0
   * @param maxInFlightPerPartition &gt; 0
   * @param delivery                delivery mode, not null
   * @param bufferMemoryBytes       &gt; 0
   * @param unknownTopicRetryMs     &gt;= 0
   * @param channelFactory          not null
   * @param transactionalId         null, or the transactional id (EXACTLY_ONCE only)
   * @param transactionTimeoutMs    1000..900000
   * @param compression             not null
   */
  public ProducerConfig {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(channelFactory, "channelFactory");
    Objects.requireNonNull(delivery, "delivery");
    Objects.requireNonNull(compression, "compression");
    if (delivery == DeliveryMode.EXACTLY_ONCE && maxInFlightPerPartition > 5) {
      throw new IllegalArgumentException("EXACTLY_ONCE allows at most 5 batches in flight per partition"
          + " (the partitions' dedup window), got " + maxInFlightPerPartition);
    }
    if (transactionalId != null && (transactionalId.isEmpty() || delivery != DeliveryMode.EXACTLY_ONCE)) {
      throw new IllegalArgumentException("a transactional id must not be empty and needs EXACTLY_ONCE delivery");
    }
    if (transactionTimeoutMs < 1_000 || transactionTimeoutMs > 900_000) {
      throw new IllegalArgumentException("transactionTimeoutMs must be in 1000..900000, got " + transactionTimeoutMs);
    }
    if (batchSizeBytes <= 0 || lingerMs < 0 || requestTimeoutMs <= 0 || deliveryTimeoutMs <= 0
        || maxInFlightPerPartition <= 0 || bufferMemoryBytes <= 0 || unknownTopicRetryMs < 0) {
      throw new IllegalArgumentException("invalid producer config");
    }
  }

  /**
   * Whether failed batches are retried (every mode but {@link DeliveryMode#AT_MOST_ONCE}). Even without
   * retries a batch is resent after answers that prove it was not appended (NOT_LEADER,
   * LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION during the grace).
   *
   * @return the retry switch
   */
  public boolean retries() {
    return delivery != DeliveryMode.AT_MOST_ONCE;
  }

  /** Whether batches are sent inside an idempotent producer session. */
  public boolean idempotent() {
    return delivery == DeliveryMode.EXACTLY_ONCE;
  }

  /**
   * A builder with the defaults: batch 256 KiB, linger 5 ms, request timeout 10 s, delivery timeout
   * 60 s, 1 in-flight batch per partition, EXACTLY_ONCE, 64 MiB buffer memory, unknown-topic retry 5 s.
   *
   * @param bootstrap {@code host:port,...}
   * @return the builder
   */
  public static Builder builder(String bootstrap) {
    return new Builder().bootstrap(bootstrap);
  }

  /** Builder of {@link ProducerConfig}. */
  public static final class Builder {
    private String bootstrap = "127.0.0.1:9091";
    private int batchSizeBytes = 256 * 1024;
    private long lingerMs = 5;
    private long requestTimeoutMs = 10_000;
    private long deliveryTimeoutMs = 60_000;
    /** Null: {@link #DEFAULT_IN_FLIGHT_EXACTLY_ONCE} in EXACTLY_ONCE, else 1. */
    private Integer maxInFlightPerPartition;
    private DeliveryMode delivery = DeliveryMode.EXACTLY_ONCE;
    private long bufferMemoryBytes = 64L * 1024 * 1024;
    private long unknownTopicRetryMs = 5_000;
    private ChannelFactory channelFactory = ChannelFactory.plaintext();
    private String transactionalId;
    private int transactionTimeoutMs = 60_000;
    private CompressionType compression = CompressionType.NONE;

    private Builder() {}

    /**
     * How batches are compressed (default {@link CompressionType#NONE}). Batches fill up to the batch size before
     * compression; the server checks the uncompressed size against its {@code max.batch.bytes} too.
     *
     * @param v the codec
     * @return this builder
     */
    public Builder compression(CompressionType v) {
      compression = v;
      return this;
    }

    /**
     * Makes the producer transactional (EXACTLY_ONCE): its sends happen inside transactions
     * ({@link Producer#beginTransaction} ... {@link Producer#commitTransaction}). A new producer with the same id
     * fences this one and aborts its open transaction.
     *
     * @param v the transactional id ([A-Za-z0-9._:-], at most 249 characters)
     * @return this builder
     */
    public Builder transactionalId(String v) {
      transactionalId = v;
      return this;
    }

    /**
     * How long a transaction may stay open before the coordinator aborts it (default 60 s).
     *
     * @param v 1000..900000 ms
     * @return this builder
     */
    public Builder transactionTimeoutMs(int v) {
      transactionTimeoutMs = v;
      return this;
    }

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
     * Sets the batch size in bytes.
     *
     * @param v the batch size in bytes
     * @return this builder
     */
    public Builder batchSizeBytes(int v) {
      batchSizeBytes = v;
      return this;
    }

    /**
     * Sets the linger in ms.
     *
     * @param v the linger in ms
     * @return this builder
     */
    public Builder lingerMs(long v) {
      lingerMs = v;
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
     * Sets the delivery timeout in ms.
     *
     * @param v the delivery timeout in ms
     * @return this builder
     */
    public Builder deliveryTimeoutMs(long v) {
      deliveryTimeoutMs = v;
      return this;
    }

    /**
     * Sets the max in-flight batches per partition.
     *
     * @param v the max in-flight batches per partition
     * @return this builder
     */
    public Builder maxInFlightPerPartition(int v) {
      maxInFlightPerPartition = v;
      return this;
    }

    /**
     * Shorthand for the delivery mode: false means {@link DeliveryMode#AT_MOST_ONCE}; true keeps a retrying
     * mode (or picks {@link DeliveryMode#AT_LEAST_ONCE} after AT_MOST_ONCE).
     *
     * @param v whether to retry
     * @return this builder
     */
    public Builder retries(boolean v) {
      if (!v) {
        delivery = DeliveryMode.AT_MOST_ONCE;
      } else if (delivery == DeliveryMode.AT_MOST_ONCE) {
        delivery = DeliveryMode.AT_LEAST_ONCE;
      }
      return this;
    }

    /**
     * Sets the delivery mode.
     *
     * @param v the mode
     * @return this builder
     */
    public Builder delivery(DeliveryMode v) {
      delivery = v;
      return this;
    }

    /**
     * Sets the buffer memory in bytes.
     *
     * @param v the buffer memory in bytes
     * @return this builder
     */
    public Builder bufferMemoryBytes(long v) {
      bufferMemoryBytes = v;
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
    public ProducerConfig build() {
      int inFlight = maxInFlightPerPartition != null ? maxInFlightPerPartition
          : delivery == DeliveryMode.EXACTLY_ONCE ? DEFAULT_IN_FLIGHT_EXACTLY_ONCE : 1;
      return new ProducerConfig(bootstrap, batchSizeBytes, lingerMs, requestTimeoutMs, deliveryTimeoutMs,
          inFlight, delivery, bufferMemoryBytes, unknownTopicRetryMs, channelFactory, transactionalId,
          transactionTimeoutMs, compression);
    }
  }
}
