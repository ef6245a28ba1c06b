package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.admin;
import static io.ratislog.server.ClusterTestSupport.await;
import static io.ratislog.server.ClusterTestSupport.leaderOf;
import static io.ratislog.server.ClusterTestSupport.metadataLeader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.ratislog.client.Admin;
import io.grpc.stub.StreamObserver;
import io.ratislog.proto.Error;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.FetchCommittedOffsetRequest;
import io.ratislog.proto.FetchRequest;
import io.ratislog.proto.GroupServiceGrpc;
import io.ratislog.proto.ListOffsetsRequest;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.OffsetSpec;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.SubscribeRequest;
import io.ratislog.proto.SubscribeResponse;
import io.ratislog.proto.SubscribeStart;
import io.ratislog.server.entries.MetadataSnapshot;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition leader whose metadata replica has not applied the topic yet (a restarted node learns the metadata
 * commit index only from the metadata leader, and may lead partition groups before) must not tell a client the
 * topic does not exist: a producer gives up on the batch, though an earlier attempt of it may have been appended
 * (found by the chaos smoke test: aborted reads after a kill and a pause), and a push subscription ends. Every
 * request routed to a partition is checked: produce, fetch, list offsets, subscribe and committed offsets.
 */
class LaggingMetadataIT {
  @TempDir Path dir;

  @Test
  void aLeaderWhoseMetadataLagsAnswersRetriablyAndAnUnknownTopicStaysUnknown() throws Exception {
    try (MiniCluster c = new MiniCluster(dir, 3, new Properties()).startAll(); Admin admin = admin(c)) {
      // A partition led by a node that does not lead the metadata group: the metadata leader's own replica is the
      // one a linearizable read answers from, and it is never behind.
      String topic = null;
      int leader = -1;
      for (int i = 0; i < 6 && topic == null; i++) {
        admin.createTopic("t" + i, 1, 3);
        String name = "t" + i;
        await(name + " to elect a leader", 30_000, () -> leaderOf(c, name, 0) > 0);
        int l = leaderOf(c, name, 0);
        if (l != metadataLeader(c)) {
          topic = "t" + i;
          leader = l;
        }
      }
      assertTrue(topic != null, "a partition led by another node than the metadata leader");
      ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", c.clientPort(leader)).usePlaintext().build();
      try {
        // The replica as it is right after a restart, before it has applied the topic's creation.
        c.node(leader).metadata().restore(MetadataSnapshot.getDefaultInstance());
        Map<String, Error> lagging = answers(ch, topic, 0);
        Map<String, Error> unknownTopic = answers(ch, "nope", 0);
        Map<String, Error> unknownPartition = answers(ch, topic, 7);
        for (String request : lagging.keySet()) {
          assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, lagging.get(request).getCode(), request + ": " + lagging.get(request));
          assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, unknownTopic.get(request).getCode(),
              request + " of an unknown topic: " + unknownTopic.get(request));
          assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, unknownPartition.get(request).getCode(),
              request + " of an unknown partition: " + unknownPartition.get(request));
        }
      } finally {
        ch.shutdownNow();
      }
    }
  }

  /** The error each kind of partition request gets from the node behind {@code ch}. */
  private static Map<String, Error> answers(ManagedChannel ch, String topic, int partition) throws Exception {
    LogServiceGrpc.LogServiceBlockingStub log = LogServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
    GroupServiceGrpc.GroupServiceBlockingStub groups =
        GroupServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
    Map<String, Error> errors = new TreeMap<>();
    errors.put("produce", log.produce(ProduceRequest.newBuilder().setTopic(topic).setPartition(partition).build()).getError());
    errors.put("fetch", log.fetch(FetchRequest.newBuilder().setTopic(topic).setPartition(partition).build()).getError());
    errors.put("list offsets", log.listOffsets(ListOffsetsRequest.newBuilder().setTopic(topic).setPartition(partition)
        .setSpec(OffsetSpec.LATEST).build()).getError());
    errors.put("committed offset", groups.fetchCommittedOffset(FetchCommittedOffsetRequest.newBuilder().setGroup("g")
        .setTopic(topic).setPartition(partition).build()).getError());
    errors.put("subscribe", firstSubscribeAnswer(ch, topic, partition).getError());
    return errors;
  }

  private static SubscribeResponse firstSubscribeAnswer(ManagedChannel ch, String topic, int partition) throws Exception {
    CompletableFuture<SubscribeResponse> first = new CompletableFuture<>();
    StreamObserver<SubscribeRequest> requests = LogServiceGrpc.newStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .subscribe(new StreamObserver<>() {
          @Override
          public void onNext(SubscribeResponse r) {
            first.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            first.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            first.completeExceptionally(new IllegalStateException("the stream ended without an answer"));
          }
        });
    requests.onNext(SubscribeRequest.newBuilder().setStart(SubscribeStart.newBuilder().setTopic(topic)
        .setPartition(partition).setOffset(0).setCredits(10)).build());
    try {
      return first.get(30, TimeUnit.SECONDS);
    } finally {
      requests.onCompleted();
    }
  }
}
