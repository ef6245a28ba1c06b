package io.ratislog.client;

import java.util.Objects;

/**
 * What a transactional producer needs to commit a group member's offsets in its transaction (see
 * {@link Producer#sendOffsetsToTransaction}): the commit is fenced like the member's own commits would be.
 *
 * @param group      the consumer group
 * @param generation the member's generation
 * @param memberId   the member id
 */
public record ConsumerGroupMetadata(String group, long generation, String memberId) {
  /**
   * Validates.
   *
   * @param group      not empty
   * @param generation the generation
   * @param memberId   not empty
   */
  public ConsumerGroupMetadata {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(memberId, "memberId");
    if (group.isEmpty() || memberId.isEmpty()) {
      throw new IllegalArgumentException("group and member id must not be empty (has the consumer joined yet?)");
    }
  }
}
