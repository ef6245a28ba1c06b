package io.ratislog.server.security;

import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclResourceType;
import io.ratislog.server.config.SecurityConfig;
import java.util.Set;

/**
 * Decides whether a principal may do what a request needs ({@link RequestRights}), from the ACL bindings of this
 * node's metadata replica. Off: everything is allowed. On: super users may do everything; everyone else needs a
 * matching ALLOW binding and no matching DENY (see {@link AclTable}).
 *
 * <p>A node decides from its own replica of the metadata group, so an ACL change takes effect on each node when
 * that node applies it (normally milliseconds after the AddAcl/RemoveAcl answer).
 */
public final class Authorizer {
  private final boolean enabled;
  private final Set<String> superUsers;
  private final AclTable acls;

  public Authorizer(SecurityConfig config, AclTable acls) {
    this.enabled = config.authorizationEnabled();
    this.superUsers = config.superUsers();
    this.acls = acls;
  }

  public boolean enabled() {
    return enabled;
  }

  /** Why the principal may not make a request with these needs, or null when it may. */
  public String denial(String principal, RequestRights.Need need) {
    if (!enabled || superUsers.contains(principal)) {
      return null;
    }
    if (need instanceof RequestRights.Unknown u) {
      return "no authorization rule for " + u.method() + ": refused while authorization is on";
    }
    if (need instanceof RequestRights.AnyTopicWrite) {
      return acls.allowsAny(principal, AclResourceType.TOPIC, AclOperation.WRITE) ? null
          : "principal '" + principal + "' may WRITE no topic, so it may not start an idempotent producer session";
    }
    if (need instanceof RequestRights.Rights r) {
      for (RequestRights.Right right : r.rights()) {
        if (!allowed(principal, right)) {
          return "principal '" + principal + "' is not allowed " + right;
        }
      }
    }
    return null;
  }

  /** Whether one right is granted (CREATE on a topic is also granted by CREATE on the cluster). */
  public boolean allowed(String principal, RequestRights.Right right) {
    if (!enabled || superUsers.contains(principal)) {
      return true;
    }
    if (acls.allows(principal, right.type(), right.name(), right.op())) {
      return true;
    }
    return right.type() == AclResourceType.TOPIC && right.op() == AclOperation.CREATE
        && acls.allows(principal, AclResourceType.CLUSTER, RequestRights.CLUSTER, AclOperation.CREATE);
  }
}
