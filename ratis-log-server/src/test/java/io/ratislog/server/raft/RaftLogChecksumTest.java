package io.ratislog.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.Checksum;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.ratis.util.PureJavaCrc32C;

/**
 * ratislog's {@link PureJavaCrc32C} (the JDK's CRC-32C under Ratis' class name) against Ratis 3.3.0's original, loaded
 * from the {@code ratis-common} jar in a class loader of its own: the same checksums through every update method, the
 * same buffer positions afterwards, and the same public members.
 */
class RaftLogChecksumTest {
  private static URLClassLoader ratisLoader;
  private static Class<?> ratisClass;

  /** One call on a checksum: a slice of the input fed through one of the update methods, or a reset. */
  enum Kind { ARRAY, HEAP_BUFFER, DIRECT_BUFFER, SINGLE_BYTES, RESET }

  record Step(Kind kind, int length) {
  }

  @BeforeContainer
  static void loadRatisOriginal() throws IOException, ClassNotFoundException {
    URL jar = null;
    for (URL u : Collections.list(ClassLoader.getSystemClassLoader()
        .getResources("org/apache/ratis/util/PureJavaCrc32C.class"))) {
      if (u.getProtocol().equals("jar")) {
        jar = ((JarURLConnection) u.openConnection()).getJarFileURL();
      }
    }
    assertNotNull(jar, "ratis-common's PureJavaCrc32C is not on the test classpath");
    ratisLoader = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader());
    ratisClass = ratisLoader.loadClass("org.apache.ratis.util.PureJavaCrc32C");
  }

  @AfterContainer
  static void closeLoader() throws IOException {
    ratisLoader.close();
  }

  private static Checksum ratisOriginal() {
    try {
      return (Checksum) ratisClass.getConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Example
  void thisModulesClassIsTheOneInEffect() {
    assertTrue(RaftLogChecksum.intrinsicInEffect());
    assertTrue(ratisClass != PureJavaCrc32C.class);
  }

  @Example
  void theStandardCheckValue() {
    byte[] nine = "123456789".getBytes(StandardCharsets.US_ASCII);
    for (Checksum c : List.of(new PureJavaCrc32C(), ratisOriginal())) {
      c.update(nine, 0, nine.length);
      assertEquals(0xE3069283L, c.getValue());
    }
  }

  @Example
  void publicMembersAreRatisOnes() {
    assertEquals(publicMembers(ratisClass), publicMembers(PureJavaCrc32C.class));
    assertEquals(Modifier.isFinal(ratisClass.getModifiers()), Modifier.isFinal(PureJavaCrc32C.class.getModifiers()));
  }

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Step> step = Combinators.combine(
        Arbitraries.frequency(
            Tuple.of(5, Kind.ARRAY), Tuple.of(5, Kind.HEAP_BUFFER),
            Tuple.of(5, Kind.DIRECT_BUFFER), Tuple.of(2, Kind.SINGLE_BYTES),
            Tuple.of(1, Kind.RESET)),
        Arbitraries.integers().between(0, 2100)).as(Step::new);
    return step.list().ofMaxSize(12);
  }

  @Property(tries = 300)
  void sameChecksumsAndPositionsAsRatisOriginal(@ForAll("steps") List<Step> steps, @ForAll long seed) {
    Checksum ours = new PureJavaCrc32C();
    Checksum theirs = ratisOriginal();
    Random random = new Random(seed);
    for (Step s : steps) {
      byte[] data = new byte[s.length() + 16];
      random.nextBytes(data);
      int offset = random.nextInt(16);
      switch (s.kind()) {
        case ARRAY -> {
          ours.update(data, offset, s.length());
          theirs.update(data, offset, s.length());
        }
        case HEAP_BUFFER, DIRECT_BUFFER -> {
          ByteBuffer a = buffer(data, s.kind() == Kind.DIRECT_BUFFER, offset, s.length());
          ByteBuffer b = buffer(data, s.kind() == Kind.DIRECT_BUFFER, offset, s.length());
          ours.update(a);
          theirs.update(b);
          assertEquals(b.position(), a.position(), "position after update(ByteBuffer)");
          assertEquals(b.limit(), a.limit(), "limit after update(ByteBuffer)");
        }
        case SINGLE_BYTES -> {
          for (int i = 0; i < Math.min(s.length(), 64); i++) {
            ours.update(data[offset + i]);
            theirs.update(data[offset + i]);
          }
        }
        case RESET -> {
          ours.reset();
          theirs.reset();
        }
      }
      assertEquals(theirs.getValue(), ours.getValue(), () -> "after " + s);
    }
  }

  /** A buffer whose remaining bytes are {@code data[offset, offset + length)}, not starting at index 0. */
  private static ByteBuffer buffer(byte[] data, boolean direct, int offset, int length) {
    ByteBuffer b = direct ? ByteBuffer.allocateDirect(data.length) : ByteBuffer.allocate(data.length);
    b.put(data).position(offset).limit(offset + length);
    return b;
  }

  private static Set<String> publicMembers(Class<?> c) {
    Set<String> members = new TreeSet<>();
    for (Constructor<?> k : c.getDeclaredConstructors()) {
      describe(k, "<init>", void.class, members);
    }
    for (Method m : c.getDeclaredMethods()) {
      describe(m, m.getName(), m.getReturnType(), members);
    }
    return members;
  }

  private static void describe(Executable e, String name, Class<?> returns, Set<String> into) {
    int mods = e.getModifiers();
    if (Modifier.isPublic(mods) || Modifier.isProtected(mods)) {
      into.add(Modifier.toString(mods & (Modifier.PUBLIC | Modifier.PROTECTED | Modifier.STATIC | Modifier.FINAL))
          + " " + returns.getName() + " " + name + Arrays.toString(e.getParameterTypes()));
    }
  }
}
