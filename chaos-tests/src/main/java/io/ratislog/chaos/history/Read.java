package io.ratislog.chaos.history;

/**
 * One record a reader observed.
 *
 * @param partition the partition
 * @param offset    the record's offset
 * @param value     the record's value (UTF-8)
 */
public record Read(int partition, long offset, String value) {}
