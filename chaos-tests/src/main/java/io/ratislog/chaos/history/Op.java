package io.ratislog.chaos.history;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One event of a history: the invocation or the completion of an operation. An invocation and its
 * completion share {@link #process} and {@link #id}; a process runs one operation at a time per
 * {@code id}, so pairs are matched by {@code id}.
 *
 * @param index     position in the history (0, 1, 2, ... in recording order)
 * @param id        the operation's id, shared by its invocation and its completion
 * @param timeNs    nanoseconds since the run started
 * @param process   the logical actor: {@code producer-0}, {@code reader-1}, {@code final}, {@code nemesis}
 * @param thread    the Java thread that recorded the event
 * @param kind      what the operation does
 * @param phase     invoke, ok, fail or info
 * @param nodes     nodes involved (faults), or null
 * @param partition the partition (send, final-read), or null
 * @param key       the record key (send), or null
 * @param value     the value sent, or the fault's name (nemesis), or null
 * @param offset    the acknowledged offset (send ok), or the log end offset (final-read), or null
 * @param reads     records observed (poll, final-read), or null
 * @param positions partition to offset a seek resolved to, or null
 * @param error     the error of a fail/info completion, or a fault's note, or null
 * @param group      the consumer group (group-poll, commit, committed, reset), or null
 * @param member     the group member id a group-poll or commit ran as (known after the first join), or null
 * @param generation the group generation a group-poll read in or a commit was made with, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Op(long index, long id, long timeNs, String process, String thread, OpKind kind, Phase phase,
    List<Integer> nodes, Integer partition, String key, String value, Long offset, List<Read> reads,
    Map<Integer, Long> positions, String error, String group, String member, Long generation) {

  /**
   * A builder for an event; {@link History} fills in index and time.
   *
   * @param process the process
   * @param kind    the kind
   * @param phase   the phase
   * @return the builder
   */
  public static Builder of(String process, OpKind kind, Phase phase) {
    return new Builder(process, kind, phase);
  }

  /**
   * A copy with another index and time (used when recording and by hand-made test histories).
   *
   * @param newIndex  the index
   * @param newTimeNs the time
   * @return the copy
   */
  public Op at(long newIndex, long newTimeNs) {
    return new Op(newIndex, id, newTimeNs, process, thread, kind, phase, nodes, partition, key, value, offset,
        reads, positions, error, group, member, generation);
  }

  /** Builder of {@link Op}. */
  public static final class Builder {
    private final String process;
    private final OpKind kind;
    private final Phase phase;
    private long id;
    private long timeNs = -1;
    private List<Integer> nodes;
    private Integer partition;
    private String key;
    private String value;
    private Long offset;
    private List<Read> reads;
    private Map<Integer, Long> positions;
    private String error;
    private String group;
    private String member;
    private Long generation;

    private Builder(String process, OpKind kind, Phase phase) {
      this.process = process;
      this.kind = kind;
      this.phase = phase;
    }

    /**
     * Sets the operation id.
     *
     * @param v id
     * @return this
     */
    public Builder id(long v) {
      id = v;
      return this;
    }

    /**
     * Sets the time (hand-made histories; {@link History} stamps recorded events itself).
     *
     * @param v ns since start
     * @return this
     */
    public Builder time(long v) {
      timeNs = v;
      return this;
    }

    /**
     * Sets the nodes.
     *
     * @param v nodes
     * @return this
     */
    public Builder nodes(List<Integer> v) {
      nodes = v == null ? null : List.copyOf(v);
      return this;
    }

    /**
     * Sets the partition.
     *
     * @param v partition
     * @return this
     */
    public Builder partition(Integer v) {
      partition = v;
      return this;
    }

    /**
     * Sets the key.
     *
     * @param v key
     * @return this
     */
    public Builder key(String v) {
      key = v;
      return this;
    }

    /**
     * Sets the value.
     *
     * @param v value
     * @return this
     */
    public Builder value(String v) {
      value = v;
      return this;
    }

    /**
     * Sets the offset.
     *
     * @param v offset
     * @return this
     */
    public Builder offset(Long v) {
      offset = v;
      return this;
    }

    /**
     * Sets the reads.
     *
     * @param v reads
     * @return this
     */
    public Builder reads(List<Read> v) {
      reads = v == null ? null : List.copyOf(v);
      return this;
    }

    /**
     * Sets the seek positions.
     *
     * @param v positions
     * @return this
     */
    public Builder positions(Map<Integer, Long> v) {
      positions = v == null ? null : Map.copyOf(v);
      return this;
    }

    /**
     * Sets the error.
     *
     * @param v error
     * @return this
     */
    public Builder error(String v) {
      error = v;
      return this;
    }

    /**
     * Sets the consumer group.
     *
     * @param v group
     * @return this
     */
    public Builder group(String v) {
      group = v;
      return this;
    }

    /**
     * Sets the group member id.
     *
     * @param v member id
     * @return this
     */
    public Builder member(String v) {
      member = v;
      return this;
    }

    /**
     * Sets the group generation.
     *
     * @param v generation
     * @return this
     */
    public Builder generation(Long v) {
      generation = v;
      return this;
    }

    /**
     * Builds the event with index -1 (set when recorded).
     *
     * @return the event
     */
    public Op build() {
      return new Op(-1, id, timeNs, process, Thread.currentThread().getName(), kind, phase, nodes, partition,
          key, value, offset, reads, positions, error, group, member, generation);
    }
  }
}
