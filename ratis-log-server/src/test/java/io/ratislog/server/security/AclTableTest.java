package io.ratislog.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclPatternType;
import io.ratislog.proto.AclPermission;
import io.ratislog.proto.AclResourceType;
import io.ratislog.server.entries.AclRecord;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.metadata.MetadataState;
import org.junit.jupiter.api.Test;

/** ACL matching (literal, prefix, wildcard, implied DESCRIBE, deny wins) and ACLs in metadata snapshots. */
class AclTableTest {
  private static AclRecord b(String principal, AclResourceType type, String name, AclPatternType pattern, AclOperation op,
                             AclPermission perm) {
    return AclRecord.newBuilder().setPrincipal(principal).setResourceType(type.getNumber()).setResourceName(name)
        .setPatternType(pattern.getNumber()).setOperation(op.getNumber()).setPermission(perm.getNumber()).build();
  }

  @Test
  void matchesLiteralPrefixWildcardAndDenyWins() {
    AclTable t = new AclTable();
    t.add(b("alice", AclResourceType.TOPIC, "orders", AclPatternType.PREFIXED, AclOperation.READ, AclPermission.ALLOW));
    t.add(b("alice", AclResourceType.TOPIC, "orders-secret", AclPatternType.LITERAL, AclOperation.ALL, AclPermission.DENY));
    t.add(b("*", AclResourceType.GROUP, "*", AclPatternType.LITERAL, AclOperation.READ, AclPermission.ALLOW));
    t.add(b("bob", AclResourceType.CLUSTER, "cluster", AclPatternType.LITERAL, AclOperation.ALTER, AclPermission.ALLOW));

    assertTrue(t.allows("alice", AclResourceType.TOPIC, "orders-eu", AclOperation.READ));
    assertTrue(t.allows("alice", AclResourceType.TOPIC, "orders", AclOperation.DESCRIBE), "READ implies DESCRIBE");
    assertFalse(t.allows("alice", AclResourceType.TOPIC, "orders", AclOperation.WRITE));
    assertFalse(t.allows("alice", AclResourceType.TOPIC, "order", AclOperation.READ), "a prefix, not a substring");
    assertFalse(t.allows("alice", AclResourceType.TOPIC, "orders-secret", AclOperation.READ), "deny wins");
    assertFalse(t.allows("alice", AclResourceType.GROUP, "orders", AclOperation.WRITE));
    assertTrue(t.allows("carol", AclResourceType.GROUP, "anything", AclOperation.READ), "* principal, * name");
    assertFalse(t.allows("carol", AclResourceType.TOPIC, "orders", AclOperation.READ), "deny by default");
    assertTrue(t.allows("bob", AclResourceType.CLUSTER, "cluster", AclOperation.DESCRIBE), "ALTER implies DESCRIBE");
    assertFalse(t.allows("bob", AclResourceType.CLUSTER, "cluster", AclOperation.CREATE));
    assertFalse(t.allowsAny("alice", AclResourceType.TOPIC, AclOperation.WRITE));
    assertTrue(t.allowsAny("alice", AclResourceType.TOPIC, AclOperation.READ));

    assertEquals(1, t.remove(b("alice", AclResourceType.TOPIC, "orders-secret", AclPatternType.LITERAL, AclOperation.ALL,
        AclPermission.DENY)).getAclsRemoved());
    assertTrue(t.allows("alice", AclResourceType.TOPIC, "orders-secret", AclOperation.READ));
    assertNotEquals(0, t.add(AclRecord.newBuilder().setPrincipal("x").build()).getErrorCode(), "invalid binding refused");
  }

  @Test
  void aclsSurviveASnapshot() {
    MetadataState s = new MetadataState();
    AclRecord grant = b("alice", AclResourceType.TOPIC, "t", AclPatternType.LITERAL, AclOperation.WRITE, AclPermission.ALLOW);
    assertEquals(0, s.apply(MetadataCommand.newBuilder().setAddAcl(grant).build()).getErrorCode());
    MetadataState restored = new MetadataState();
    restored.restore(s.toSnapshot());
    assertEquals(s.acls().list(), restored.acls().list());
    assertTrue(restored.acls().allows("alice", AclResourceType.TOPIC, "t", AclOperation.WRITE));
  }
}
