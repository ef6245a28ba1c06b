package io.ratislog.server.raft;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Ratis' gRPC transport (servers and clients alike), with {@link GuardedLogAppender} as the log appender, and a
 * follower's answers to appends checked against its log ({@link AppendReplyVerifier}).
 */
final class GuardedGrpcFactory extends GrpcFactory {
  GuardedGrpcFactory(Parameters parameters) {
    super(parameters);
  }

  @Override
  public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
    return new GuardedLogAppender(server, state, follower);
  }

  @Override
  public GrpcServices newRaftServerRpc(RaftServer server) {
    return super.newRaftServerRpc(AppendReplyVerifier.wrap(server));
  }
}
