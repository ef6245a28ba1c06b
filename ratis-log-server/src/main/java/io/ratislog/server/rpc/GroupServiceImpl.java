package io.ratislog.server.rpc;

import io.grpc.stub.StreamObserver;
import io.ratislog.proto.Assignor;
import io.ratislog.proto.CommitOffsetRequest;
import io.ratislog.proto.CommitOffsetResponse;
import io.ratislog.proto.DescribeGroupRequest;
import io.ratislog.proto.DescribeGroupResponse;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchCommittedOffsetRequest;
import io.ratislog.proto.FetchCommittedOffsetResponse;
import io.ratislog.proto.GroupMember;
import io.ratislog.proto.GroupServiceGrpc;
import io.ratislog.proto.GroupSummary;
import io.ratislog.proto.HeartbeatRequest;
import io.ratislog.proto.HeartbeatResponse;
import io.ratislog.proto.JoinGroupRequest;
import io.ratislog.proto.JoinGroupResponse;
import io.ratislog.proto.LeaveGroupRequest;
import io.ratislog.proto.LeaveGroupResponse;
import io.ratislog.proto.ListGroupsRequest;
import io.ratislog.proto.ListGroupsResponse;
import io.ratislog.proto.Node;
import io.ratislog.proto.ResetOffsetsRequest;
import io.ratislog.proto.ResetOffsetsResponse;
import io.ratislog.proto.ResetTarget;
import io.ratislog.proto.SyncGroupRequest;
import io.ratislog.proto.SyncGroupResponse;
import io.ratislog.proto.TopicPartitions;
import io.ratislog.server.config.NodeConfig;
import io.ratislog.server.entries.AssignedPartitions;
import io.ratislog.server.entries.CommitOffsetEntry;
import io.ratislog.server.entries.FenceGroupEntry;
import io.ratislog.server.entries.TxnOffsetCommitEntry;
import io.ratislog.proto.TxnOffsetCommitRequest;
import io.ratislog.proto.TxnOffsetCommitResponse;
import io.ratislog.server.entries.GroupMemberRecord;
import io.ratislog.server.entries.GroupRecord;
import io.ratislog.server.entries.JoinGroupCommand;
import io.ratislog.server.entries.LeaveGroupCommand;
import io.ratislog.server.entries.MetadataCommand;
import io.ratislog.server.entries.OffsetCommitResult;
import io.ratislog.server.entries.PartitionEntry;
import io.ratislog.server.entries.ResetOffsetEntry;
import io.ratislog.server.group.GroupSessions;
import io.ratislog.server.group.GroupTable;
import io.ratislog.server.metadata.MetadataClient;
import io.ratislog.server.metadata.MetadataState;
import io.ratislog.server.partition.CommittedOffsetTable;
import io.ratislog.server.partition.PartitionStateMachine;
import io.ratislog.server.raft.GroupIds;
import io.ratislog.server.raft.ShadedBytes;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer groups and committed offsets.
 *
 * <p>Membership: JoinGroup and LeaveGroup are metadata commands (proposed from any node through the metadata
 * client); SyncGroup, ListGroups and DescribeGroup are linearizable reads of the metadata group. Heartbeat is
 * answered only by the metadata leader, from its own replica (caught up), and recorded in {@link GroupSessions};
 * any other node answers NOT_LEADER with the leader.
 *
 * <p>Offsets: CommitOffset and ResetOffsets are entries in the partition's own Raft group, proposed on the
 * partition's leader (NOT_LEADER + hint elsewhere, as for Produce); FetchCommittedOffset reads the leader's
 * applied state. Before proposing a commit, the front end checks the member against its metadata replica
 * (falling back to a linearizable read when its replica does not know the group or the generation yet): an
 * older generation, or a partition not assigned to the member, is FENCED_GENERATION. It stamps the group's
 * generation it saw into the entry, so the partition fences by it too.
 */
public final class GroupServiceImpl extends GroupServiceGrpc.GroupServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(GroupServiceImpl.class);
  /** Limits checked before a join is proposed. */
  static final int MAX_TOPICS_PER_MEMBER = 1_000;
  static final int MAX_MEMBER_ID_LENGTH = 1_024;

  private final NodeConfig config;
  private final RaftServer server;
  private final MetadataState metadata;
  private final MetadataClient metadataClient;
  private final GroupSessions sessions;
  private final PartitionRouter router;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();

  public GroupServiceImpl(NodeConfig config, RaftServer server, MetadataState metadata, MetadataClient metadataClient,
                          GroupSessions sessions) {
    this.config = config;
    this.server = server;
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.sessions = sessions;
    this.router = new PartitionRouter(config, server, metadata, metadataClient);
  }

  // ---------------------------------------------------------------- membership

  @Override
  public void joinGroup(JoinGroupRequest request, StreamObserver<JoinGroupResponse> out) {
    // Cheap bounds before a metadata entry is spent (the state machine checks names, timeouts and the assignor).
    if (request.getTopicsCount() > MAX_TOPICS_PER_MEMBER || request.getMemberId().length() > MAX_MEMBER_ID_LENGTH) {
      reply(out, JoinGroupResponse.newBuilder().setError(Errors.of(ErrorCode.INVALID_REQUEST, "a member subscribes to at most "
          + MAX_TOPICS_PER_MEMBER + " topics and has a member id of at most " + MAX_MEMBER_ID_LENGTH + " characters")).build());
      return;
    }
    MetadataCommand command = MetadataCommand.newBuilder().setJoinGroup(JoinGroupCommand.newBuilder()
        .setGroup(request.getGroup())
        .setMemberId(request.getMemberId())
        .addAllTopics(request.getTopicsList())
        .setSessionTimeoutMs(request.getSessionTimeoutMs())
        .setAssignor(request.getAssignorValue())
        .setClientId(request.getClientId())
        .setJoinTimeMs(System.currentTimeMillis()))
        .build();
    metadataClient.submit(command).whenComplete((result, t) -> {
      JoinGroupResponse.Builder b = JoinGroupResponse.newBuilder().setError(Errors.metadataOutcome(result, t));
      if (b.getError().getCode() == ErrorCode.NONE) {
        b.setMemberId(result.getMemberId()).setGeneration(result.getGroup().getGeneration())
            .addAllAssignment(assignmentOf(result.getGroup(), result.getMemberId()));
        sessions.heartbeat(request.getGroup(), result.getMemberId());
      }
      reply(out, b.build());
    });
  }

  @Override
  public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> out) {
    HeartbeatResponse.Builder b = HeartbeatResponse.newBuilder();
    if (!sessions.isReadyLeader()) {
      Node leader = metadataLeader();
      if (leader == null) {
        reply(out, b.setError(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE,
            "the metadata group has no ready leader right now")).build());
      } else {
        reply(out, b.setError(Errors.of(ErrorCode.NOT_LEADER, "heartbeats go to the metadata leader, node "
            + leader.getId())).setLeader(leader).build());
      }
      return;
    }
    Optional<GroupRecord> g = metadata.group(request.getGroup());
    if (g.isEmpty()) {
      reply(out, b.setError(Errors.of(ErrorCode.UNKNOWN_GROUP, "no consumer group '" + request.getGroup() + "'")).build());
      return;
    }
    long generation = g.get().getGeneration();
    b.setGeneration(generation);
    if (member(g.get(), request.getMemberId()).isEmpty()) {
      reply(out, b.setError(Errors.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '" + request.getGroup()
          + "' has no member '" + request.getMemberId() + "' (left or expired): join again")).build());
      return;
    }
    sessions.heartbeat(request.getGroup(), request.getMemberId());
    if (request.getGeneration() < generation) {
      b.setError(Errors.of(ErrorCode.REBALANCE_IN_PROGRESS, "group '" + request.getGroup() + "' is at generation "
          + generation + " (member has " + request.getGeneration() + "): fetch the new assignment"));
    } else if (request.getGeneration() > generation) {
      b.setError(Errors.of(ErrorCode.FENCED_GENERATION, "group '" + request.getGroup() + "' is at generation "
          + generation + "; generation " + request.getGeneration() + " does not exist"));
    } else {
      b.setError(Errors.NONE);
    }
    reply(out, b.build());
  }

  @Override
  public void syncGroup(SyncGroupRequest request, StreamObserver<SyncGroupResponse> out) {
    metadataClient.queryGroups(nonEmpty(request.getGroup())).whenComplete((r, t) -> {
      SyncGroupResponse.Builder b = SyncGroupResponse.newBuilder();
      if (t != null) {
        b.setError(Errors.metadataUnavailable(t));
      } else if (request.getGroup().isEmpty() || r.getGroupsCount() == 0) {
        b.setError(unknownGroup(request.getGroup()));
      } else if (member(r.getGroups(0), request.getMemberId()).isEmpty()) {
        b.setError(Errors.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '" + request.getGroup() + "' has no member '"
            + request.getMemberId() + "' (left or expired): join again"));
      } else {
        b.setError(Errors.NONE).setGeneration(r.getGroups(0).getGeneration())
            .addAllAssignment(assignmentOf(r.getGroups(0), request.getMemberId()));
      }
      reply(out, b.build());
    });
  }

  @Override
  public void leaveGroup(LeaveGroupRequest request, StreamObserver<LeaveGroupResponse> out) {
    MetadataCommand command = MetadataCommand.newBuilder().setLeaveGroup(LeaveGroupCommand.newBuilder()
        .setGroup(request.getGroup()).setMemberId(request.getMemberId())).build();
    metadataClient.submit(command).whenComplete((result, t) -> {
      LeaveGroupResponse.Builder b = LeaveGroupResponse.newBuilder().setError(Errors.metadataOutcome(result, t));
      if (b.getError().getCode() == ErrorCode.NONE) {
        b.setGeneration(result.getGroup().getGeneration());
      }
      reply(out, b.build());
    });
  }

  @Override
  public void listGroups(ListGroupsRequest request, StreamObserver<ListGroupsResponse> out) {
    metadataClient.queryGroups("").whenComplete((r, t) -> {
      ListGroupsResponse.Builder b = ListGroupsResponse.newBuilder();
      if (t != null) {
        b.setError(Errors.metadataUnavailable(t));
      } else {
        b.setError(Errors.NONE);
        for (GroupRecord g : r.getGroupsList()) {
          b.addGroups(GroupSummary.newBuilder().setGroup(g.getName()).setGeneration(g.getGeneration())
              .setMembers(g.getMembersCount()).setAssignorValue(g.getAssignor()));
        }
      }
      reply(out, b.build());
    });
  }

  @Override
  public void describeGroup(DescribeGroupRequest request, StreamObserver<DescribeGroupResponse> out) {
    metadataClient.queryGroups(nonEmpty(request.getGroup())).whenComplete((r, t) -> {
      DescribeGroupResponse.Builder b = DescribeGroupResponse.newBuilder();
      if (t != null) {
        b.setError(Errors.metadataUnavailable(t));
      } else if (request.getGroup().isEmpty() || r.getGroupsCount() == 0) {
        b.setError(unknownGroup(request.getGroup()));
      } else {
        GroupRecord g = r.getGroups(0);
        b.setError(Errors.NONE).setGroup(g.getName()).setGeneration(g.getGeneration())
            .setAssignorValue(g.getAssignor()).addAllKnownTopics(g.getKnownTopicsList());
        for (GroupMemberRecord m : g.getMembersList()) {
          b.addMembers(GroupMember.newBuilder().setMemberId(m.getMemberId()).addAllTopics(m.getTopicsList())
              .setSessionTimeoutMs(m.getSessionTimeoutMs()).addAllAssignment(toWire(m.getAssignmentList())));
        }
      }
      reply(out, b.build());
    });
  }

  // ---------------------------------------------------------------- offsets

  @Override
  public void commitOffset(CommitOffsetRequest request, StreamObserver<CommitOffsetResponse> out) {
    CommitOffsetResponse.Builder b = CommitOffsetResponse.newBuilder().setCommittedOffset(-1);
    if (request.getGroup().isEmpty() || request.getMemberId().isEmpty()) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "group and member_id are required")).build());
      return;
    }
    if (request.getOffset() < 0) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "offset must be >= 0, got " + request.getOffset())).build());
      return;
    }
    PartitionRouter.Route route = router.route(request.getTopic(), request.getPartition());
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route)
          .thenAccept(error -> reply(out, withLeader(b.setError(error), route.leader()).build()));
      return;
    }
    // This replica may lag the metadata leader (a join a moment ago): then the leader is asked.
    groupView(request.getGroup(), request.getGeneration()).whenComplete((g, t) -> {
      if (t != null) {
        reply(out, b.setError(Errors.metadataUnavailable(t)).build());
        return;
      }
      Error fenced = checkMember(g, request.getGroup(), request.getTopic(), request.getPartition(),
          request.getGeneration(), request.getMemberId());
      if (fenced != null) {
        reply(out, b.setError(fenced).build());
        return;
      }
      PartitionEntry entry = PartitionEntry.newBuilder().setCommitOffset(CommitOffsetEntry.newBuilder()
          .setGroup(request.getGroup()).setOffset(request.getOffset()).setGeneration(request.getGeneration())
          .setMemberId(request.getMemberId()).setKnownGeneration(g.get().getGeneration())
          .setCommitTimeMs(System.currentTimeMillis())).build();
      int timeoutMs = request.getTimeoutMs() > 0 ? request.getTimeoutMs() : config.produceTimeoutMs();
      propose(route, entry, timeoutMs).whenComplete((p, t2) -> {
        b.setError(p.error()).setCommittedOffset(p.result() == null ? -1 : p.result().getCommittedOffset());
        reply(out, withLeader(b, p.leader()).build());
      });
    });
  }

  /** Why the member may not commit on this partition in this generation, or null when it may. */
  private static Error checkMember(Optional<GroupRecord> g, String group, String topic, int partition, long gen,
                                   String memberId) {
    if (g.isEmpty()) {
      return unknownGroup(group);
    }
    long generation = g.get().getGeneration();
    if (gen < generation) {
      return Errors.of(ErrorCode.FENCED_GENERATION, "group '" + group + "' is at generation " + generation
          + "; member " + memberId + " committed from generation " + gen + ": re-join");
    }
    if (gen > generation) {
      return Errors.of(ErrorCode.FENCED_GENERATION, "group '" + group + "' is at generation " + generation
          + "; generation " + gen + " does not exist");
    }
    Optional<GroupMemberRecord> m = member(g.get(), memberId);
    if (m.isEmpty()) {
      return Errors.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '" + group + "' has no member '" + memberId + "'");
    }
    boolean owns = m.get().getAssignmentList().stream()
        .anyMatch(a -> a.getTopic().equals(topic) && a.getPartitionsList().contains(partition));
    if (!owns) {
      return Errors.of(ErrorCode.FENCED_GENERATION, "in generation " + generation + " of group '" + group
          + "', " + topic + "-" + partition + " is not assigned to member " + memberId);
    }
    return null;
  }

  /** The group as the metadata leader knows it when the local replica may lag behind {@code generation}. */
  private CompletableFuture<Optional<GroupRecord>> groupView(String group, long generation) {
    Optional<GroupRecord> local = metadata.group(group);
    if (local.isPresent() && local.get().getGeneration() >= generation) {
      return CompletableFuture.completedFuture(local);
    }
    return metadataClient.queryGroups(group)
        .thenApply(r -> r.getGroupsCount() == 0 ? Optional.empty() : Optional.of(r.getGroups(0)));
  }

  /**
   * TransactionService.TxnOffsetCommit: checks the member like CommitOffset and the transaction like a
   * transactional batch, then proposes the commit, held by the partition until the transaction ends.
   */
  void txnOffsetCommit(TxnOffsetCommitRequest request, TransactionGate gate, StreamObserver<TxnOffsetCommitResponse> out) {
    TxnOffsetCommitResponse.Builder b = TxnOffsetCommitResponse.newBuilder();
    if (request.getGroup().isEmpty() || request.getMemberId().isEmpty() || request.getProducerId() < 0) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "group, member_id and producer_id are required")).build());
      return;
    }
    if (request.getOffset() < 0) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "offset must be >= 0, got " + request.getOffset())).build());
      return;
    }
    PartitionRouter.Route route = router.route(request.getTopic(), request.getPartition());
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route)
          .thenAccept(error -> reply(out, withLeader(b.setError(error), route.leader()).build()));
      return;
    }
    groupView(request.getGroup(), request.getGeneration()).whenComplete((g, t) -> {
      if (t != null) {
        reply(out, b.setError(Errors.metadataUnavailable(t)).build());
        return;
      }
      Error fenced = checkMember(g, request.getGroup(), request.getTopic(), request.getPartition(),
          request.getGeneration(), request.getMemberId());
      if (fenced != null) {
        reply(out, b.setError(fenced).build());
        return;
      }
      gate.check(request.getTransactionalId(), request.getProducerId(), request.getProducerEpoch(), request.getTopic(),
          request.getPartition()).whenComplete((refused, t2) -> {
            if (t2 != null || refused != null) {
              reply(out, b.setError(t2 != null ? Errors.metadataUnavailable(t2) : refused).build());
              return;
            }
            PartitionEntry entry = PartitionEntry.newBuilder().setTxnOffsetCommit(TxnOffsetCommitEntry.newBuilder()
                .setGroup(request.getGroup()).setOffset(request.getOffset()).setGeneration(request.getGeneration())
                .setMemberId(request.getMemberId()).setKnownGeneration(g.get().getGeneration())
                .setCommitTimeMs(System.currentTimeMillis()).setProducerId(request.getProducerId())
                .setProducerEpoch(request.getProducerEpoch())).build();
            propose(route, entry, config.produceTimeoutMs()).whenComplete((p, t3) ->
                reply(out, withLeader(b.setError(p.error()), p.leader()).build()));
          });
    });
  }

  @Override
  public void fetchCommittedOffset(FetchCommittedOffsetRequest request, StreamObserver<FetchCommittedOffsetResponse> out) {
    FetchCommittedOffsetResponse.Builder b = FetchCommittedOffsetResponse.newBuilder().setOffset(-1).setGeneration(-1);
    if (request.getGroup().isEmpty()) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "group is empty")).build());
      return;
    }
    PartitionRouter.Route route = router.routeCaughtUp(request.getTopic(), request.getPartition());
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route)
          .thenAccept(error -> reply(out, withLeader(b.setError(error), route.leader()).build()));
      return;
    }
    PartitionStateMachine sm = route.stateMachine();
    if (request.getGeneration() > 0) {
      // A member starting on the partition: record its generation in the partition's log first (a commit of an
      // older generation applied later is fenced), and learn whether a transaction still holds an offset commit.
      long known = metadata.group(request.getGroup()).map(GroupRecord::getGeneration).orElse(-1L);
      PartitionEntry entry = PartitionEntry.newBuilder().setFenceGroup(FenceGroupEntry.newBuilder()
          .setGroup(request.getGroup()).setGeneration(request.getGeneration()).setKnownGeneration(known)).build();
      propose(route, entry, config.produceTimeoutMs()).whenComplete((p, t) -> {
        if (p.error().getCode() != ErrorCode.NONE) {
          reply(out, withLeader(b.setError(p.error()), p.leader()).build());
          return;
        }
        sm.committedOffset(request.getGroup()).ifPresent(x -> b.setGeneration(x.generation()));
        reply(out, b.setError(Errors.NONE).setOffset(p.result().getCommittedOffset())
            .setLogStartOffset(sm.logStartOffset()).setLogEndOffset(sm.logEndOffset()).build());
      });
      return;
    }
    // A plain read (an observer, describe, lag): behind the read barrier, so that no committed offset a client
    // saw acknowledged or read before is missing from the answer, whichever node thinks it leads.
    readBarrier(route, config.produceTimeoutMs()).whenComplete((p, t) -> {
      if (p.error().getCode() != ErrorCode.NONE) {
        reply(out, withLeader(b.setError(p.error()), p.leader()).build());
        return;
      }
      Optional<CommittedOffsetTable.Committed> c = sm.committedOffset(request.getGroup());
      c.ifPresent(x -> b.setOffset(x.offset()).setGeneration(x.generation()));
      reply(out, b.setError(Errors.NONE).setLogStartOffset(sm.logStartOffset()).setLogEndOffset(sm.logEndOffset()).build());
    });
  }

  @Override
  public void resetOffsets(ResetOffsetsRequest request, StreamObserver<ResetOffsetsResponse> out) {
    ResetOffsetsResponse.Builder b = ResetOffsetsResponse.newBuilder().setOffset(-1);
    String problem = GroupTable.nameProblem(request.getGroup());
    if (problem != null) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, problem)).build());
      return;
    }
    if (request.getTarget() == ResetTarget.UNRECOGNIZED) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "unknown reset target " + request.getTargetValue())).build());
      return;
    }
    if (request.getTarget() == ResetTarget.TO_OFFSET && request.getOffset() < 0) {
      reply(out, b.setError(Errors.of(ErrorCode.INVALID_REQUEST, "offset must be >= 0, got " + request.getOffset())).build());
      return;
    }
    PartitionRouter.Route route = router.routeCaughtUp(request.getTopic(), request.getPartition());
    if (!route.ok()) {
      router.confirmedError(request.getTopic(), request.getPartition(), route)
          .thenAccept(error -> reply(out, withLeader(b.setError(error), route.leader()).build()));
      return;
    }
    PartitionStateMachine sm = route.stateMachine();
    long offset = switch (request.getTarget()) {
      case TO_EARLIEST -> sm.logStartOffset();
      case TO_LATEST -> sm.logEndOffset();
      default -> request.getOffset();
    };
    PartitionEntry entry = PartitionEntry.newBuilder().setResetOffset(ResetOffsetEntry.newBuilder()
        .setGroup(request.getGroup()).setOffset(offset).setResetTimeMs(System.currentTimeMillis())).build();
    propose(route, entry, config.produceTimeoutMs()).whenComplete((p, t) -> {
      b.setError(p.error()).setOffset(p.result() == null ? -1 : p.result().getCommittedOffset());
      reply(out, withLeader(b, p.leader()).build());
    });
  }

  // ---------------------------------------------------------------- helpers

  /** The outcome of a proposed partition entry: the error to answer with, the result when applied, a hint. */
  private record Proposal(Error error, OffsetCommitResult result, Node leader) {
  }

  private CompletableFuture<Proposal> propose(PartitionRouter.Route route, PartitionEntry entry, int timeoutMs) {
    return submit(route, ShadedBytes.toMessage(entry), RaftClientRequest.writeRequestType(), timeoutMs,
        (r, t) -> toProposal(r, t, timeoutMs));
  }

  /** Submits a request to the local division of the partition; a refused submission is LEADER_NOT_AVAILABLE. */
  private CompletableFuture<Proposal> submit(PartitionRouter.Route route, Message message, RaftClientRequest.Type type,
      int timeoutMs, java.util.function.BiFunction<RaftClientReply, Throwable, Proposal> outcome) {
    RaftClientRequest raftRequest = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server.getId())
        .setGroupId(route.groupId())
        .setCallId(callIds.incrementAndGet())
        .setMessage(message)
        .setType(type)
        .build();
    CompletableFuture<RaftClientReply> submitted;
    try {
      submitted = server.submitClientRequestAsync(raftRequest);
    } catch (IOException e) {
      return CompletableFuture.completedFuture(new Proposal(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, e.toString()), null, null));
    }
    return submitted.orTimeout(timeoutMs, TimeUnit.MILLISECONDS).handle(outcome);
  }

  /**
   * Completes once this node confirmed it leads the partition and applied everything committed before the call
   * (an empty linearizable read; see {@code PartitionStateMachine#query}), with the error to answer otherwise.
   */
  private CompletableFuture<Proposal> readBarrier(PartitionRouter.Route route, int timeoutMs) {
    return submit(route, Message.EMPTY, RaftClientRequest.readRequestType(), timeoutMs, (r, t) -> {
      if (t == null && r.isSuccess()) {
        return new Proposal(Errors.NONE, null, null);
      }
      if (t != null) {
        Throwable cause = unwrap(t);
        return new Proposal(Errors.of(cause instanceof TimeoutException ? ErrorCode.TIMEOUT : ErrorCode.LEADER_NOT_AVAILABLE,
            "could not confirm the leadership of the partition: " + cause), null, null);
      }
      NotLeaderException nle = r.getNotLeaderException();
      if (nle != null) {
        return new Proposal(Errors.of(ErrorCode.NOT_LEADER, "this node no longer leads the partition"), null,
            suggestedLeader(nle));
      }
      return new Proposal(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE,
          "could not confirm the leadership of the partition: " + r.getException()), null, null);
    });
  }

  private Proposal toProposal(RaftClientReply r, Throwable t, int timeoutMs) {
    if (t != null) {
      Throwable cause = unwrap(t);
      if (cause instanceof TimeoutException) {
        return new Proposal(Errors.of(ErrorCode.TIMEOUT, "not committed within " + timeoutMs
            + " ms; it may or may not be applied (retrying the same offset is safe)"), null, null);
      }
      return new Proposal(Errors.of(ErrorCode.INTERNAL_ERROR, "raft: " + cause), null, null);
    }
    if (r.isSuccess()) {
      try {
        OffsetCommitResult result = ShadedBytes.parse(OffsetCommitResult.parser(), r.getMessage().getContent());
        Error e = result.getErrorCode() == 0 ? Errors.NONE : Errors.fromNumber(result.getErrorCode(), result.getErrorMessage());
        return new Proposal(e, result, null);
      } catch (IOException e) {
        return new Proposal(Errors.of(ErrorCode.INTERNAL_ERROR, "unreadable commit result: " + e.getMessage()), null, null);
      }
    }
    NotLeaderException nle = r.getNotLeaderException();
    if (nle != null) {
      return new Proposal(Errors.of(ErrorCode.TIMEOUT, "leadership moved while the entry was being committed;"
          + " it may or may not be applied"), null, suggestedLeader(nle));
    }
    if (r.getException() instanceof LeaderNotReadyException) {
      return new Proposal(Errors.of(ErrorCode.LEADER_NOT_AVAILABLE, "the new leader is not ready yet"), null, null);
    }
    return new Proposal(Errors.of(ErrorCode.INTERNAL_ERROR, "raft: " + r.getException()), null, null);
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  /** The client address of the leader Ratis suggests, or null. */
  private Node suggestedLeader(NotLeaderException nle) {
    return nle.getSuggestedLeader() == null ? null
        : router.node(Integer.parseInt(nle.getSuggestedLeader().getId().toString()));
  }

  private Node metadataLeader() {
    try {
      RaftPeerId id = server.getDivision(GroupIds.metadata()).getInfo().getLeaderId();
      return id == null ? null : router.node(Integer.parseInt(id.toString()));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static Optional<GroupMemberRecord> member(GroupRecord g, String memberId) {
    return g.getMembersList().stream().filter(m -> m.getMemberId().equals(memberId)).findFirst();
  }

  private static List<TopicPartitions> assignmentOf(GroupRecord g, String memberId) {
    return member(g, memberId).map(m -> toWire(m.getAssignmentList())).orElse(List.of());
  }

  private static List<TopicPartitions> toWire(List<AssignedPartitions> list) {
    return list.stream().map(a -> TopicPartitions.newBuilder().setTopic(a.getTopic())
        .addAllPartitions(a.getPartitionsList()).build()).toList();
  }

  /** A name the metadata query treats as one group (an empty name would mean every group). */
  private static String nonEmpty(String group) {
    return group.isEmpty() ? "\u0000" : group;
  }

  private static Error unknownGroup(String group) {
    return Errors.of(ErrorCode.UNKNOWN_GROUP, "no consumer group '" + group + "'");
  }

  private static <B extends com.google.protobuf.Message.Builder> B withLeader(B b, Node leader) {
    if (leader != null) {
      b.setField(b.getDescriptorForType().findFieldByName("leader"), leader);
    }
    return b;
  }


  private static <T> void reply(StreamObserver<T> out, T response) {
    try {
      out.onNext(response);
      out.onCompleted();
    } catch (RuntimeException e) {
      LOG.debug("reply failed (client gone?): {}", e.toString());
    }
  }
}
