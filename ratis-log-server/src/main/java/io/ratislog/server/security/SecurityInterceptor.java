package io.ratislog.server.security;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.ratislog.proto.AclOperation;
import io.ratislog.server.rpc.ErrorResponses;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchResponse;
import io.ratislog.proto.FetchedBatch;
import io.ratislog.proto.GroupSummary;
import io.ratislog.proto.ListGroupsResponse;
import io.ratislog.proto.ListTopicsResponse;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.SubscribeResponse;
import io.ratislog.proto.TopicDescription;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The security front of every client-facing RPC, outermost: authenticates the call ({@link Authenticator}) and
 * puts the principal in the gRPC {@link Context} ({@link Principals#PRINCIPAL}); checks every request message
 * against the ACLs ({@link RequestRights}, {@link Authorizer}); records quota use ({@link QuotaManager}) and puts
 * the throttle time into the answer. A refused call is answered like any other error, in the response's
 * {@code error} field (AUTHENTICATION_FAILED, AUTHORIZATION_FAILED), and never reaches the service.
 *
 * <p>Node to node: nodes call each other's client ports only for Ping, which needs no principal. Everything else
 * between nodes travels on the Raft peer links, which accept node certificates only ({@link NodeTrustManager}):
 * a request is authorized once, by the node whose client sent it, before it is proposed to a Raft group.
 */
public final class SecurityInterceptor implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(SecurityInterceptor.class);

  private final Authenticator authenticator;
  private final Authorizer authorizer;
  private final QuotaManager quotas;

  /**
   * @param quotas null when no quota is configured
   */
  public SecurityInterceptor(Authenticator authenticator, Authorizer authorizer, QuotaManager quotas) {
    this.authenticator = authenticator;
    this.authorizer = authorizer;
    this.quotas = quotas;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String principal;
    try {
      principal = authenticator.principal(call, headers);
    } catch (Authenticator.Failure e) {
      if (RequestRights.unauthenticated(method)) {
        principal = Principals.ANONYMOUS;
      } else {
        ErrorResponses.refuse(call, ErrorCode.AUTHENTICATION_FAILED, e.getMessage());
        return new ServerCall.Listener<>() {
        };
      }
    }
    String who = principal;
    SecuredCall<Q, R> secured = new SecuredCall<>(call, who);
    Context context = Context.current().withValue(Principals.PRINCIPAL, who);
    ServerCall.Listener<Q> delegate = Contexts.interceptCall(context, secured, headers, next);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        String denial = authorizer.denial(who, RequestRights.of(method, message));
        if (denial != null) {
          refused = true;
          LOG.debug("refused {} for {}: {}", method, who, denial);
          ErrorResponses.refuse(call, ErrorCode.AUTHORIZATION_FAILED, denial);
          return;
        }
        if (quotas != null) {
          long t = quotas.recordRequest(who);
          if (message instanceof ProduceRequest p) {
            t = Math.max(t, quotas.recordProduce(who, p.getRecords().size()));
          }
          secured.throttle(t);
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onReady() {
        if (!refused) {
          super.onReady();
        }
      }
    };
  }

  /** The call as the service sees it: answers get their throttle time, lists are filtered to what may be seen. */
  private final class SecuredCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final String principal;
    private volatile long throttleMs;

    SecuredCall(ServerCall<Q, R> call, String principal) {
      super(call);
      this.principal = principal;
    }

    void throttle(long ms) {
      throttleMs = Math.max(throttleMs, ms);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void sendMessage(R message) {
      Object m = message;
      if (authorizer.enabled()) {
        m = filter(principal, m);
      }
      if (quotas != null) {
        long t = throttleMs;
        if (m instanceof FetchResponse f) {
          t = Math.max(t, quotas.recordFetch(principal, bytes(f.getBatchesList())));
        } else if (m instanceof SubscribeResponse s) {
          t = Math.max(t, quotas.recordFetch(principal, bytes(s.getBatchesList())));
        }
        throttleMs = 0;
        m = withThrottle(m, t);
      }
      super.sendMessage((R) m);
    }
  }

  private Object filter(String principal, Object m) {
    if (m instanceof ListTopicsResponse l) {
      List<TopicDescription> visible = l.getTopicsList().stream()
          .filter(t -> authorizer.allowed(principal, RequestRights.topic(t.getName(), AclOperation.DESCRIBE))).toList();
      return visible.size() == l.getTopicsCount() ? m : l.toBuilder().clearTopics().addAllTopics(visible).build();
    }
    if (m instanceof ListGroupsResponse l) {
      List<GroupSummary> visible = l.getGroupsList().stream()
          .filter(g -> authorizer.allowed(principal, RequestRights.group(g.getGroup(), AclOperation.DESCRIBE))).toList();
      return visible.size() == l.getGroupsCount() ? m : l.toBuilder().clearGroups().addAllGroups(visible).build();
    }
    return m;
  }

  private static long bytes(List<FetchedBatch> batches) {
    long n = 0;
    for (FetchedBatch b : batches) {
      n += b.getRecords().size();
    }
    return n;
  }

  private static Object withThrottle(Object m, long ms) {
    if (ms <= 0 || !(m instanceof Message msg)) {
      return m;
    }
    FieldDescriptor f = msg.getDescriptorForType().findFieldByName("throttle_time_ms");
    return f == null ? m : msg.toBuilder().setField(f, (int) Math.min(Integer.MAX_VALUE, ms)).build();
  }
}
