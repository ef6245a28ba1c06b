package io.ratislog.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ratislog.client.Admin;
import io.ratislog.client.ChannelFactory;
import io.ratislog.client.ClientSecurity;
import io.ratislog.client.Consumer;
import io.ratislog.client.ConsumerConfig;
import io.ratislog.client.DeliveryMode;
import io.ratislog.client.Producer;
import io.ratislog.client.ProducerConfig;
import io.ratislog.client.ProducerRecord;
import io.ratislog.client.RatislogException;
import io.ratislog.client.TopicPartition;
import io.ratislog.client.cli.LogCtl;
import io.ratislog.proto.AclBinding;
import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclPatternType;
import io.ratislog.proto.AclPermission;
import io.ratislog.proto.AclResourceType;
import io.ratislog.proto.ErrorCode;
import io.ratislog.server.MiniCluster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication (client certificate or bearer token, required) and authorization (ACLs in the metadata group,
 * deny by default, deny wins, prefixes, super users) on a 3-node TLS cluster: unauthenticated and unauthorized
 * produce, consume and admin calls are refused with AUTHENTICATION_FAILED / AUTHORIZATION_FAILED; granted ones
 * work; logctl manages the ACLs.
 */
class AuthIT {
  @TempDir Path dir;

  @Test
  void principalsAreAuthenticatedAndAuthorizedByAcls() throws Exception {
    Path certs = SecureClusters.makeCerts(dir.resolve("certs"), 3, "alice");
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "# principal:token\nadmin:admin-secret\nbob:sha256:" + TokenStore.hash("bob-secret") + "\n");
    Properties p = new Properties();
    p.setProperty("auth.token.file", tokens.toString());
    p.setProperty("authentication.required", "true");
    p.setProperty("authorization.enabled", "true");
    p.setProperty("super.users", "admin");
    MiniCluster cluster = SecureClusters.withTls(new MiniCluster(dir.resolve("data"), 3, p), certs, "optional");
    Path ca = certs.resolve("ca.crt");
    ChannelFactory admin = ChannelFactory.secure(ClientSecurity.tls(ca).withToken("admin-secret"));
    ChannelFactory alice = SecureClusters.mtls(certs, "alice");
    ChannelFactory bob = ChannelFactory.secure(ClientSecurity.tls(ca).withToken("bob-secret"));
    ChannelFactory nobody = ChannelFactory.secure(ClientSecurity.tls(ca));
    ChannelFactory forger = ChannelFactory.secure(ClientSecurity.tls(ca).withToken("guessed"));
    try (MiniCluster c = cluster.startAll()) {
      SecureClusters.awaitMetadataLeader(c);
      String bs = c.bootstrap();
      try (Admin a = admin(bs, admin)) {
        SecureClusters.createTopic(a, "orders", 1, 3);
        SecureClusters.createTopic(a, "orders-eu", 1, 3);
      }

      // Not authenticated: every kind of call is refused with AUTHENTICATION_FAILED.
      for (ChannelFactory anonymous : List.of(nobody, forger)) {
        assertCode(ErrorCode.AUTHENTICATION_FAILED, () -> admin(bs, anonymous).listTopics());
        assertCode(ErrorCode.AUTHENTICATION_FAILED, () -> produce(bs, anonymous, "orders", DeliveryMode.AT_LEAST_ONCE));
        assertCode(ErrorCode.AUTHENTICATION_FAILED, () -> consume(bs, anonymous, "orders"));
      }

      // Authenticated, no ACL: deny by default, for data and admin calls alike.
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> produce(bs, alice, "orders", DeliveryMode.AT_LEAST_ONCE));
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> produce(bs, alice, "orders", DeliveryMode.EXACTLY_ONCE));
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> consume(bs, alice, "orders"));
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> admin(bs, alice).createTopic("mine", 1, 1));
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> admin(bs, alice).describeCluster());
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> {
        admin(bs, alice).addAcl(acl("alice", AclResourceType.CLUSTER, "cluster", AclOperation.ALL, false, false));
        return null;
      });
      assertEquals(0, admin(bs, alice).listTopics().size(), "ListTopics shows only what the principal may describe");

      // Grants, through logctl for one of them: WRITE on the prefix "orders", READ on it too, but DENY READ orders-eu.
      try (Admin a = admin(bs, admin)) {
        a.addAcl(acl("alice", AclResourceType.TOPIC, "orders", AclOperation.WRITE, true, false));
        a.addAcl(acl("alice", AclResourceType.TOPIC, "orders-eu", AclOperation.READ, false, true));
      }
      String out = logctl(bs, ca, "acl", "add", "--principal", "alice", "--topic", "orders", "--prefixed",
          "--operation", "read");
      assertTrue(out.contains("added: alice  ALLOW  READ  TOPIC:orders  PREFIXED"), out);
      String list = logctl(bs, ca, "acl", "list", "--principal", "alice");
      assertEquals(4, list.strip().split("\n").length, "a header and alice's three bindings:\n" + list);

      // ACLs apply on each node once it applied them: wait until every node lets alice write.
      await(() -> produceOrCode(bs, alice, "orders", DeliveryMode.EXACTLY_ONCE));
      int read = consume(bs, alice, "orders");
      assertTrue(read >= 3, "alice reads what she wrote (READ via the prefix binding): " + read);
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> consume(bs, alice, "orders-eu"));
      produce(bs, alice, "orders-eu", DeliveryMode.AT_LEAST_ONCE); // WRITE by prefix; only READ is denied
      assertEquals(2, admin(bs, alice).listTopics().size(), "WRITE implies DESCRIBE");
      assertEquals(0, admin(bs, bob).listTopics().size(), "bob (hashed token) has no binding");
      assertCode(ErrorCode.AUTHORIZATION_FAILED, () -> produce(bs, bob, "orders", DeliveryMode.AT_LEAST_ONCE));

      // Revocation.
      try (Admin a = admin(bs, admin)) {
        assertEquals(1, a.removeAcl(acl("alice", AclResourceType.TOPIC, "orders", AclOperation.WRITE, true, false)));
        assertEquals(2, a.listAcls("alice").size());
      }
      awaitCode(ErrorCode.AUTHORIZATION_FAILED, () -> produceOrCode(bs, alice, "orders", DeliveryMode.AT_LEAST_ONCE));

      // The token file is reloaded when it changes.
      Files.writeString(tokens, "carol:carol-secret\n", java.nio.file.StandardOpenOption.APPEND);
      Files.setLastModifiedTime(tokens, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
      ChannelFactory carol = ChannelFactory.secure(ClientSecurity.tls(ca).withToken("carol-secret"));
      await(() -> {
        try {
          admin(bs, carol).listTopics();
          return ErrorCode.NONE;
        } catch (RatislogException e) {
          return e.code();
        }
      });
    }
  }

  private static Admin admin(String bootstrap, ChannelFactory channels) {
    return Admin.create(bootstrap, Duration.ofSeconds(30), channels);
  }

  private static AclBinding acl(String principal, AclResourceType type, String name, AclOperation op, boolean prefixed,
                                boolean deny) {
    return AclBinding.newBuilder().setPrincipal(principal).setResourceType(type).setResourceName(name).setOperation(op)
        .setPatternType(prefixed ? AclPatternType.PREFIXED : AclPatternType.LITERAL)
        .setPermission(deny ? AclPermission.DENY : AclPermission.ALLOW).build();
  }

  /** Sends one record and waits for it; a refusal is thrown as its RatislogException. */
  private static Void produce(String bs, ChannelFactory channels, String topic, DeliveryMode mode) throws Exception {
    try (Producer p = new Producer(ProducerConfig.builder(bs).lingerMs(1).delivery(mode).deliveryTimeoutMs(20_000)
        .channelFactory(channels).build())) {
      p.send(new ProducerRecord(topic, null, "x".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      throw RatislogException.wrap(e.getCause());
    }
  }

  private static ErrorCode produceOrCode(String bs, ChannelFactory channels, String topic, DeliveryMode mode) {
    try {
      produce(bs, channels, topic, mode);
      return ErrorCode.NONE;
    } catch (RatislogException e) {
      return e.code();
    } catch (Exception e) {
      return RatislogException.wrap(e).code();
    }
  }

  /** Polls partition 0 from the beginning for 2 s; the number of records read. */
  private static int consume(String bs, ChannelFactory channels, String topic) {
    try (Consumer c = new Consumer(ConsumerConfig.builder(bs).maxWaitMs(100).channelFactory(channels).build())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seek(tp, 0);
      int n = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < deadline) {
        n += c.poll(Duration.ofMillis(200)).size();
      }
      return n;
    }
  }

  private static String logctl(String bs, Path ca, String... args) {
    String[] all = new String[args.length + 6];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(new String[] {"--bootstrap", bs, "--tls-ca", ca.toString(), "--token", "admin-secret"}, 0, all,
        args.length, 6);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = LogCtl.run(all, new ByteArrayInputStream(new byte[0]), new PrintStream(out, true), new PrintStream(err, true));
    assertEquals(0, code, "logctl " + String.join(" ", args) + ": " + err);
    return out.toString(StandardCharsets.UTF_8);
  }

  interface Call {
    Object run() throws Exception;
  }

  private static void assertCode(ErrorCode expected, Call call) {
    RatislogException e = assertThrows(RatislogException.class, () -> {
      try {
        call.run();
      } catch (ExecutionException ee) {
        throw RatislogException.wrap(ee.getCause());
      }
    });
    assertEquals(expected, e.code(), e.getMessage());
  }

  private static void await(Supplier<ErrorCode> attempt) throws InterruptedException {
    awaitCode(ErrorCode.NONE, attempt);
  }

  private static void awaitCode(ErrorCode wanted, Supplier<ErrorCode> attempt) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    ErrorCode last = null;
    // Three in a row: the producer may reach any node, each with its own replica of the ACLs.
    int streak = 0;
    while (System.nanoTime() < deadline && streak < 3) {
      last = attempt.get();
      streak = last == wanted ? streak + 1 : 0;
      if (streak < 3) {
        Thread.sleep(100);
      }
    }
    assertEquals(wanted, last, "within 30 s");
  }
}
