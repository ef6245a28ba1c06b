package io.ratislog.server.security;

import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclPatternType;
import io.ratislog.proto.AclPermission;
import io.ratislog.proto.AclResourceType;
import io.ratislog.proto.ErrorCode;
import io.ratislog.server.entries.AclRecord;
import io.ratislog.server.entries.MetadataResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ACL bindings held by the metadata group. Changes come only from applied commands ({@link #add},
 * {@link #remove}, {@link #restore}), in log order, so every replica holds the same bindings; the decision
 * ({@link #allows}) reads an immutable copy without locking, from any thread.
 *
 * <p>A binding matches a request when its principal is the request's or {@code *}, its resource type is the
 * resource's, its name is the resource's (LITERAL; {@code *} matches every name) or a prefix of it (PREFIXED),
 * and its operation is the request's or ALL. An ALLOW for READ, WRITE, DELETE or ALTER also allows DESCRIBE.
 * A matching DENY wins over every ALLOW; with no matching ALLOW the request is denied.
 */
public final class AclTable {
  public static final int MAX_NAME_LENGTH = 1024;
  public static final int MAX_BINDINGS = 100_000;
  private final Map<String, AclRecord> bindings = new TreeMap<>();
  private volatile List<AclRecord> view = List.of();

  /** Why a binding is not acceptable, or null. */
  public static String problem(AclRecord b) {
    if (b.getPrincipal().isEmpty() || b.getPrincipal().length() > MAX_NAME_LENGTH) {
      return "principal must have 1.." + MAX_NAME_LENGTH + " characters";
    }
    AclResourceType type = AclResourceType.forNumber(b.getResourceType());
    if (type == null || type == AclResourceType.RESOURCE_UNSPECIFIED) {
      return "resource type must be TOPIC, GROUP or CLUSTER";
    }
    if (b.getResourceName().isEmpty() || b.getResourceName().length() > MAX_NAME_LENGTH) {
      return "resource name must have 1.." + MAX_NAME_LENGTH + " characters";
    }
    if (AclPatternType.forNumber(b.getPatternType()) == null) {
      return "pattern type must be LITERAL or PREFIXED";
    }
    AclOperation op = AclOperation.forNumber(b.getOperation());
    if (op == null || op == AclOperation.OPERATION_UNSPECIFIED) {
      return "operation must be one of ALL, READ, WRITE, CREATE, DELETE, DESCRIBE, ALTER";
    }
    if (AclPermission.forNumber(b.getPermission()) == null) {
      return "permission must be ALLOW or DENY";
    }
    return null;
  }

  private static String key(AclRecord b) {
    return b.getPrincipal() + '\u0000' + b.getResourceType() + '\u0000' + b.getResourceName() + '\u0000'
        + b.getPatternType() + '\u0000' + b.getOperation() + '\u0000' + b.getPermission();
  }

  /** Adds a binding (adding one that exists changes nothing). */
  public synchronized MetadataResult add(AclRecord b) {
    String problem = problem(b);
    if (problem != null) {
      return error(problem);
    }
    if (bindings.size() >= MAX_BINDINGS && !bindings.containsKey(key(b))) {
      return error("too many ACL bindings (" + MAX_BINDINGS + ")");
    }
    bindings.put(key(b), b);
    publish();
    return MetadataResult.getDefaultInstance();
  }

  /** Removes the binding equal to {@code b}; the result says how many were removed (0 or 1). */
  public synchronized MetadataResult remove(AclRecord b) {
    String problem = problem(b);
    if (problem != null) {
      return error(problem);
    }
    boolean removed = bindings.remove(key(b)) != null;
    publish();
    return MetadataResult.newBuilder().setAclsRemoved(removed ? 1 : 0).build();
  }

  /** Every binding, in a stable order. */
  public List<AclRecord> list() {
    return view;
  }

  public synchronized void restore(List<AclRecord> list) {
    bindings.clear();
    for (AclRecord b : list) {
      bindings.put(key(b), b);
    }
    publish();
  }

  private void publish() {
    view = List.copyOf(new ArrayList<>(bindings.values()));
  }

  /** Whether the bindings allow {@code principal} to perform {@code op} on the resource. */
  public boolean allows(String principal, AclResourceType type, String name, AclOperation op) {
    boolean allowed = false;
    for (AclRecord b : view) {
      if (!matches(b, principal, type, name)) {
        continue;
      }
      boolean deny = b.getPermission() == AclPermission.DENY_VALUE;
      if (deny && (b.getOperation() == op.getNumber() || b.getOperation() == AclOperation.ALL_VALUE)) {
        return false;
      }
      if (!deny && grants(b.getOperation(), op)) {
        allowed = true;
      }
    }
    return allowed;
  }

  /** Whether some ALLOW binding of the principal grants {@code op} on some resource of the type. */
  public boolean allowsAny(String principal, AclResourceType type, AclOperation op) {
    for (AclRecord b : view) {
      if ((b.getPrincipal().equals(principal) || b.getPrincipal().equals("*")) && b.getResourceType() == type.getNumber()
          && b.getPermission() == AclPermission.ALLOW_VALUE && grants(b.getOperation(), op)) {
        return true;
      }
    }
    return false;
  }

  private static boolean grants(int bound, AclOperation wanted) {
    if (bound == wanted.getNumber() || bound == AclOperation.ALL_VALUE) {
      return true;
    }
    return wanted == AclOperation.DESCRIBE && (bound == AclOperation.READ_VALUE || bound == AclOperation.WRITE_VALUE
        || bound == AclOperation.DELETE_VALUE || bound == AclOperation.ALTER_VALUE);
  }

  private static boolean matches(AclRecord b, String principal, AclResourceType type, String name) {
    if (b.getResourceType() != type.getNumber()) {
      return false;
    }
    if (!b.getPrincipal().equals(principal) && !b.getPrincipal().equals("*")) {
      return false;
    }
    if (b.getPatternType() == AclPatternType.PREFIXED_VALUE) {
      return name.startsWith(b.getResourceName());
    }
    return b.getResourceName().equals(name) || b.getResourceName().equals("*");
  }

  private static MetadataResult error(String message) {
    return MetadataResult.newBuilder().setErrorCode(ErrorCode.INVALID_REQUEST.getNumber()).setErrorMessage(message).build();
  }
}
