package io.ratislog.server;

import static io.ratislog.server.ClusterTestSupport.admin;
import static io.ratislog.server.ClusterTestSupport.leaderOf;
import static io.ratislog.server.ClusterTestSupport.readAll;
import static io.ratislog.server.ClusterTestSupport.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.ratislog.client.Admin;
import io.ratislog.client.CompressionType;
import io.ratislog.client.ConsumerRecord;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RecordCodec;
import io.ratislog.client.RecordCompression;
import io.ratislog.client.Subscription;
import io.ratislog.client.TopicPartition;
import io.ratislog.proto.ErrorCode;
import io.ratislog.proto.LogServiceGrpc;
import io.ratislog.proto.ProduceRequest;
import io.ratislog.proto.ProduceResponse;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compressed batches on a real cluster: every codec's records come back by pull and by push at the offsets they were
 * acknowledged with, the partitions store them compressed, and a batch that decompresses past max.batch.bytes or
 * does not decompress is refused while the server goes on.
 */
class CompressionIT {
  private static final int RECORDS = 2_000;

  @TempDir Path dir;

  /** A JSON-like order event: repetitive, as real payloads are. */
  private static String event(int i) {
    return "{\"order\":" + i + ",\"customer\":\"customer-" + (i % 97) + "\",\"status\":\"CONFIRMED\","
        + "\"currency\":\"EUR\",\"amount\":" + (i * 37 % 10_000) + ",\"items\":[\"sku-" + (i % 13) + "\"]}";
  }

  @Test
  void everyCodecRoundTripsByPullAndPushAndIsStoredCompressed() throws Exception {
    Properties props = new Properties();
    props.setProperty("max.batch.bytes", "65536");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll()) {
      Map<CompressionType, Long> stored = new EnumMap<>(CompressionType.class);
      try (Admin admin = admin(c)) {
        for (CompressionType type : CompressionType.values()) {
          admin.createTopic("z-" + type, 1, 3);
        }
      }
      for (CompressionType type : CompressionType.values()) {
        String topic = "z-" + type;
        List<CompletableFuture<io.ratislog.client.RecordMetadata>> acks = new ArrayList<>();
        try (Producer p = new Producer(ProducerConfig.builder(c.bootstrap()).compression(type).lingerMs(5)
            .batchSizeBytes(32 * 1024).build())) {
          for (int i = 0; i < RECORDS; i++) {
            acks.add(p.send(new ProducerRecord(topic, 0, ("k" + i).getBytes(StandardCharsets.UTF_8),
                event(i).getBytes(StandardCharsets.UTF_8))));
          }
          for (int i = 0; i < RECORDS; i++) {
            assertEquals(i, acks.get(i).get(60, TimeUnit.SECONDS).offset(), type + " record " + i);
          }
        }
        List<ConsumerRecord> pulled = readAll(c, topic, 1, RECORDS);
        assertEquals(RECORDS, pulled.size(), type.toString());
        for (ConsumerRecord r : pulled) {
          assertEquals(event((int) r.offset()), r.valueAsString(), type + " at " + r.offset());
          assertEquals("k" + r.offset(), new String(r.key(), StandardCharsets.UTF_8));
        }
        try (Subscription s = new Subscription(c.bootstrap(), new TopicPartition(topic, 0), 0, 500)) {
          List<ConsumerRecord> pushed = new ArrayList<>();
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          while (pushed.size() < RECORDS && System.nanoTime() < deadline) {
            pushed.addAll(s.poll(Duration.ofMillis(200), RECORDS - pushed.size()));
          }
          assertEquals(RECORDS, pushed.size(), type + " by push");
          for (int i = 0; i < RECORDS; i++) {
            assertEquals(event(i), pushed.get(i).valueAsString(), type + " pushed at " + i);
          }
        }
        stored.put(type, replica(c, leaderOf(c, topic, 0), topic, 0).sizeInBytes());
      }
      long plain = stored.get(CompressionType.NONE);
      for (CompressionType type : List.of(CompressionType.GZIP, CompressionType.LZ4, CompressionType.ZSTD)) {
        assertTrue(stored.get(type) * 3 < plain, type + " stored " + stored.get(type) + " bytes, uncompressed " + plain);
      }
    }
  }

  @Test
  void aBatchThatExpandsTooFarOrDoesNotDecompressIsRefusedAndTheServerGoesOn() throws Exception {
    Properties props = new Properties();
    props.setProperty("max.batch.bytes", "65536");
    try (MiniCluster c = new MiniCluster(dir, 3, props).startAll()) {
      try (Admin admin = admin(c)) {
        admin.createTopic("bomb", 1, 3);
      }
      try (Producer p = new Producer(ProducerConfig.builder(c.bootstrap()).compression(CompressionType.ZSTD).build())) {
        p.send(new ProducerRecord("bomb", 0, null, event(0).getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
      }
      int leader = leaderOf(c, "bomb", 0);
      ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", c.clientPort(leader)).usePlaintext().build();
      try {
        LogServiceGrpc.LogServiceBlockingStub stub = LogServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(30, TimeUnit.SECONDS);
        ByteString big = RecordSet.newBuilder().addRecords(Record.newBuilder()
            .setValue(ByteString.copyFrom(new byte[1 << 20]))).build().toByteString();
        ByteString bomb = RecordCompression.compress(CompressionType.ZSTD, big);
        assertTrue(bomb.size() < 1_000, "1 MiB of zeros compresses to " + bomb.size() + " bytes");
        assertEquals(ErrorCode.RECORD_TOO_LARGE, stub.produce(request(bomb, 1)).getError().getCode());

        byte[] broken = RecordCompression.compress(CompressionType.GZIP,
            RecordSet.newBuilder().addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(event(1))))
                .build().toByteString()).toByteArray();
        broken[broken.length - 3] ^= 0x55; // the gzip trailer's length of the plain data
        ProduceResponse refused = stub.produce(request(ByteString.copyFrom(broken), 1));
        assertEquals(ErrorCode.CORRUPT_BATCH, refused.getError().getCode(), refused.getError().getMessage());

        ByteString ok = RecordCompression.compress(CompressionType.LZ4, RecordSet.newBuilder()
            .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(event(2)))).build().toByteString());
        assertEquals(ErrorCode.NONE, stub.produce(request(ok, 1)).getError().getCode());
      } finally {
        ch.shutdownNow();
      }
    }
  }

  private static ProduceRequest request(ByteString records, int count) {
    return ProduceRequest.newBuilder().setTopic("bomb").setPartition(0).setRecords(records)
        .setCrc32C(RecordCodec.crc32c(records)).setRecordCount(count).setProducerId(-1).build();
  }
}
