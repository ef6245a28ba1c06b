package io.ratislog.server.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AlterTopicConfigCommand;
import io.ratislog.server.entries.CreateTopicCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.MetadataResult;
import io.ratislog.server.entries.PartitionPlacement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Topic configs are validated when a create or alter command is applied, and alters merge atomically. */
class TopicConfigAlterTest {
  private static MetadataCommand create(String name, Map<String, String> configs) {
    return MetadataCommand.newBuilder().setCreateTopic(CreateTopicCommand.newBuilder().setName(name)
        .setReplicationFactor(1).addPartitions(PartitionPlacement.newBuilder().addReplicas(1)).putAllConfigs(configs))
        .build();
  }

  private static MetadataCommand alter(String name, Map<String, String> set, String... remove) {
    return MetadataCommand.newBuilder().setAlterTopicConfig(AlterTopicConfigCommand.newBuilder().setName(name)
        .putAllSet(set).addAllRemove(java.util.List.of(remove))).build();
  }

  @Test
  void configsAreValidatedByName() {
    assertEquals(null, TopicConfigs.problem(Map.of("retention.ms", "60000", "retention.bytes", "-1")));
    assertEquals("retention.ms is not a number: 'x'", TopicConfigs.problem(Map.of("retention.ms", "x")));
    assertEquals("retention.bytes must be -1 (unlimited) or >= 0, got -2",
        TopicConfigs.problem(Map.of("retention.bytes", "-2")));
    assertEquals("unknown topic config 'segment.ms' (known: retention.bytes, retention.ms)",
        TopicConfigs.problem(Map.of("segment.ms", "1")));
  }

  @Test
  void aCreateEntryFromBeforeValidationStillReplays() {
    MetadataState s = new MetadataState();
    assertEquals(0, s.apply(create("old", Map.of("cleanup.policy", "compact", "retention.ms", "soon"))).getErrorCode());
    assertEquals(TopicConfigs.UNLIMITED, TopicConfigs.retentionMs(s.topic("old").orElseThrow().getConfigsMap()));
  }

  @Test
  void alterSetsAndRemovesAtomically() {
    MetadataState s = new MetadataState();
    s.apply(create("t", Map.of("retention.ms", "60000")));
    MetadataResult r = s.apply(alter("t", Map.of("retention.bytes", "1000"), "retention.ms"));
    assertEquals(0, r.getErrorCode(), r.getErrorMessage());
    assertEquals(Map.of("retention.bytes", "1000"), s.topic("t").orElseThrow().getConfigsMap());
    assertEquals(ErrorCode.INVALID_CONFIG.getNumber(),
        s.apply(alter("t", Map.of("retention.ms", "5", "bogus", "1"))).getErrorCode());
    assertEquals(Map.of("retention.bytes", "1000"), s.topic("t").orElseThrow().getConfigsMap(), "nothing applied");
    assertEquals(ErrorCode.INVALID_CONFIG.getNumber(),
        s.apply(alter("t", Map.of("retention.ms", "5"), "retention.ms")).getErrorCode());
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.getNumber(),
        s.apply(alter("nope", Map.of("retention.ms", "5"))).getErrorCode());
    assertEquals(1000, TopicConfigs.retentionBytes(s.topic("t").orElseThrow().getConfigsMap()));
    assertEquals(TopicConfigs.UNLIMITED, TopicConfigs.retentionMs(s.topic("t").orElseThrow().getConfigsMap()));
  }
}
