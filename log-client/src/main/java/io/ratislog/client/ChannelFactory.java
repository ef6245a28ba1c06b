package io.ratislog.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.concurrent.TimeUnit;

/**
 * Creates the gRPC channel to one node. The default is plaintext with keepalive; tests plug in
 * in-process channels.
 */
@FunctionalInterface
public interface ChannelFactory {

  /**
   * Opens a channel to a node.
   *
   * @param address the node's client address
   * @return a new channel, closed by the caller
   */
  ManagedChannel create(HostPort address);

  /**
   * The default factory: plaintext, keepalive pings after 30 s of silence during calls (timeout
   * 10 s), 64 MiB max inbound message size.
   *
   * @return the default factory
   */
  static ChannelFactory plaintext() {
    return address -> ManagedChannelBuilder.forAddress(address.host(), address.port())
        .usePlaintext()
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build();
  }
}
