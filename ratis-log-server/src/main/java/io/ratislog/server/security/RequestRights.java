package io.ratislog.server.security;

import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclResourceType;
import io.ratislog.proto.CommitOffsetRequest;
import io.ratislog.proto.CreateTopicRequest;
import io.ratislog.proto.DeleteTopicRequest;
import io.ratislog.proto.DescribeGroupRequest;
import io.ratislog.proto.DescribeTopicRequest;
import io.ratislog.proto.FetchCommittedOffsetRequest;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.HeartbeatRequest;
import io.ratislog.proto.JoinGroupRequest;
import io.ratislog.proto.LeaveGroupRequest;
import io.ratislog.proto.ListOffsetsRequest;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ResetOffsetsRequest;
import io.ratislog.proto.SubscribeRequest;
import io.ratislog.proto.SyncGroupRequest;
import java.util.List;

/**
 * What each RPC needs: the (resource, operation) pairs a request must be allowed, all of them. The single table of
 * the authorization rules; an RPC missing here is refused while authorization is on (deny by default), so a new
 * RPC must be added here.
 *
 * <pre>
 * Produce                      WRITE topic          Fetch, Subscribe(start)   READ topic
 * ListOffsets                  DESCRIBE topic       InitProducer              WRITE on some topic
 * CreateTopic                  CREATE topic (or CREATE cluster)
 * DeleteTopic                  DELETE topic         DescribeTopic             DESCRIBE topic
 * ListTopics, ListGroups       answer filtered to what the principal may DESCRIBE
 * DescribeCluster, ListAcls    DESCRIBE cluster     AddAcl, RemoveAcl         ALTER cluster
 * Join/Sync/Heartbeat/LeaveGroup  READ group        DescribeGroup             DESCRIBE group
 * CommitOffset, ResetOffsets   READ group + READ topic
 * FetchCommittedOffset         DESCRIBE group + DESCRIBE topic
 * AlterTopicConfig             ALTER topic          DescribeReassignment      DESCRIBE topic
 * AddNode, RemoveNode, ReassignPartition,               ALTER cluster
 *   ReplaceMetadataVoter
 * AddPartitionsToTxn           DESCRIBE on each topic (the batches themselves need WRITE, the offsets READ)
 * TxnOffsetCommit              READ group + READ topic   EndTxn              WRITE on some topic
 * ListTransactions             DESCRIBE cluster
 * Ping                         nothing (not even authentication: liveness between nodes)
 * </pre>
 */
public final class RequestRights {
  /** The name of the one CLUSTER resource. */
  public static final String CLUSTER = "cluster";

  /** One needed right. */
  public record Right(AclResourceType type, String name, AclOperation op) {
    @Override
    public String toString() {
      return op + " on " + type + " '" + name + "'";
    }
  }

  /** A request's needs: rights, or a special rule. */
  public sealed interface Need permits Rights, AnyTopicWrite, Open, FilteredList, Unknown {
  }

  /** Every right in the list. */
  public record Rights(List<Right> rights) implements Need {
  }

  /** WRITE on at least one topic (an idempotent producer's session). */
  public record AnyTopicWrite() implements Need {
  }

  /** Nothing. */
  public record Open() implements Need {
  }

  /** Nothing to ask; the answer is filtered. */
  public record FilteredList() implements Need {
  }

  /** No rule: refused while authorization is on. */
  public record Unknown(String method) implements Need {
  }

  private RequestRights() {
  }

  /** Whether {@code fullMethod} is exempt from authentication ({@code Ping}). */
  public static boolean unauthenticated(String fullMethod) {
    return fullMethod.equals("ratislog.v1.AdminService/Ping");
  }

  /** The needs of a request message of an RPC (full method name {@code package.Service/Method}). */
  public static Need of(String fullMethod, Object request) {
    String m = fullMethod.substring(fullMethod.lastIndexOf('/') + 1);
    String service = fullMethod.substring(0, Math.max(0, fullMethod.lastIndexOf('/')));
    return switch (service) {
      case "ratislog.v1.LogService" -> logService(m, request);
      case "ratislog.v1.AdminService" -> adminService(m, request);
      case "ratislog.v1.GroupService" -> groupService(m, request);
      case "ratislog.v1.TransactionService" -> transactionService(m, request);
      default -> new Unknown(fullMethod);
    };
  }

  private static Need logService(String m, Object r) {
    return switch (m) {
      case "Produce" -> one(topic(((ProduceRequest) r).getTopic(), AclOperation.WRITE));
      case "Fetch" -> one(topic(((FetchRequest) r).getTopic(), AclOperation.READ));
      case "ListOffsets" -> one(topic(((ListOffsetsRequest) r).getTopic(), AclOperation.DESCRIBE));
      case "InitProducer" -> new AnyTopicWrite();
      case "Subscribe" -> ((SubscribeRequest) r).hasStart()
          ? one(topic(((SubscribeRequest) r).getStart().getTopic(), AclOperation.READ)) : new Open();
      default -> new Unknown("LogService/" + m);
    };
  }

  private static Need adminService(String m, Object r) {
    return switch (m) {
      case "CreateTopic" -> one(topic(((CreateTopicRequest) r).getName(), AclOperation.CREATE));
      case "DeleteTopic" -> one(topic(((DeleteTopicRequest) r).getName(), AclOperation.DELETE));
      case "DescribeTopic" -> one(topic(((DescribeTopicRequest) r).getName(), AclOperation.DESCRIBE));
      case "ListTopics" -> new FilteredList();
      case "DescribeCluster", "ListAcls" -> one(cluster(AclOperation.DESCRIBE));
      case "AddAcl", "RemoveAcl", "AddNode", "RemoveNode", "ReassignPartition", "ReplaceMetadataVoter" -> one(cluster(AclOperation.ALTER));
      case "AlterTopicConfig" -> one(topic(((io.ratislog.proto.AlterTopicConfigRequest) r).getName(), AclOperation.ALTER));
      case "DescribeReassignment" -> one(topic(((io.ratislog.proto.DescribeReassignmentRequest) r).getTopic(),
          AclOperation.DESCRIBE));
      case "Ping" -> new Open();
      default -> new Unknown("AdminService/" + m);
    };
  }

  private static Need groupService(String m, Object r) {
    return switch (m) {
      case "JoinGroup" -> one(group(((JoinGroupRequest) r).getGroup(), AclOperation.READ));
      case "Heartbeat" -> one(group(((HeartbeatRequest) r).getGroup(), AclOperation.READ));
      case "SyncGroup" -> one(group(((SyncGroupRequest) r).getGroup(), AclOperation.READ));
      case "LeaveGroup" -> one(group(((LeaveGroupRequest) r).getGroup(), AclOperation.READ));
      case "ListGroups" -> new FilteredList();
      case "DescribeGroup" -> one(group(((DescribeGroupRequest) r).getGroup(), AclOperation.DESCRIBE));
      case "CommitOffset" -> {
        CommitOffsetRequest c = (CommitOffsetRequest) r;
        yield new Rights(List.of(group(c.getGroup(), AclOperation.READ), topic(c.getTopic(), AclOperation.READ)));
      }
      case "ResetOffsets" -> {
        ResetOffsetsRequest c = (ResetOffsetsRequest) r;
        yield new Rights(List.of(group(c.getGroup(), AclOperation.READ), topic(c.getTopic(), AclOperation.READ)));
      }
      case "FetchCommittedOffset" -> {
        FetchCommittedOffsetRequest c = (FetchCommittedOffsetRequest) r;
        yield new Rights(List.of(group(c.getGroup(), AclOperation.DESCRIBE), topic(c.getTopic(), AclOperation.DESCRIBE)));
      }
      default -> new Unknown("GroupService/" + m);
    };
  }

  private static Need transactionService(String m, Object r) {
    return switch (m) {
      case "AddPartitionsToTxn" -> {
        List<Right> rights = new java.util.ArrayList<>();
        for (io.ratislog.proto.TopicPartitions tps : ((io.ratislog.proto.AddPartitionsToTxnRequest) r).getPartitionsList()) {
          rights.add(topic(tps.getTopic(), AclOperation.DESCRIBE));
        }
        yield rights.isEmpty() ? new AnyTopicWrite() : new Rights(rights);
      }
      case "TxnOffsetCommit" -> {
        io.ratislog.proto.TxnOffsetCommitRequest c = (io.ratislog.proto.TxnOffsetCommitRequest) r;
        yield new Rights(List.of(group(c.getGroup(), AclOperation.READ), topic(c.getTopic(), AclOperation.READ)));
      }
      case "EndTxn" -> new AnyTopicWrite();
      case "ListTransactions" -> one(cluster(AclOperation.DESCRIBE));
      default -> new Unknown("TransactionService/" + m);
    };
  }

  private static Rights one(Right r) {
    return new Rights(List.of(r));
  }

  static Right topic(String name, AclOperation op) {
    return new Right(AclResourceType.TOPIC, name, op);
  }

  static Right group(String name, AclOperation op) {
    return new Right(AclResourceType.GROUP, name, op);
  }

  static Right cluster(AclOperation op) {
    return new Right(AclResourceType.CLUSTER, CLUSTER, op);
  }
}
