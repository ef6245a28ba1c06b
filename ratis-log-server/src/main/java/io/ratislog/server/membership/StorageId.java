package io.ratislog.server.membership;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * The identity of a node's data directory: a random id written to {@code storage.id} the first time the
 * directory is used. A node that lost or wiped its data comes back with a new id, which the node registry
 * records, so that the node never re-creates a replica it once held as if it remembered its Raft state.
 */
public final class StorageId {
  public static final String FILE = "storage.id";

  private StorageId() {
  }

  /** Reads the id, or makes and durably writes a new one when the directory has none. */
  public static String loadOrCreate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    if (Files.exists(file)) {
      String id = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (!id.isEmpty()) {
        return id;
      }
    }
    String id = UUID.randomUUID().toString();
    Path tmp = dataDir.resolve(FILE + ".tmp");
    Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
      dir.force(true);
    }
    return id;
  }
}
