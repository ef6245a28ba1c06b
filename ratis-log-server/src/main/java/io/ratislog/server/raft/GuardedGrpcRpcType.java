package io.ratislog.server.raft;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;

/**
 * The Ratis RPC type every ratislog node and its internal Raft clients use: gRPC, as Ratis' own {@code GRPC}, with
 * {@link GuardedLogAppender}. Ratis keeps an RPC type in its properties by name and creates it again by reflection,
 * so the name is this class's and the class needs its public no-argument constructor.
 */
public final class GuardedGrpcRpcType implements RpcType {
  @Override
  public String name() {
    return GuardedGrpcRpcType.class.getName();
  }

  @Override
  public RpcFactory newFactory(Parameters parameters) {
    return new GuardedGrpcFactory(parameters);
  }
}
