package io.ratislog.bench;

import com.google.protobuf.ByteString;
import io.ratislog.client.CompressionType;
import io.ratislog.client.RecordCompression;
import io.ratislog.proto.Record;
import io.ratislog.proto.RecordSet;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What each batch codec does to one batch of event records on one core, without a cluster: the size ratio and the
 * compress and decompress rates. The {@code compression} benchmark case's rows are bounded by these rates (the
 * producer compresses on its sender thread, the leader decompresses to check, the consumer to read).
 */
@Command(name = "codec", description = "Compression ratio and one-core compress/decompress rates of a batch.")
final class CodecProbe implements Callable<Integer> {
  @Option(names = "--record-size", defaultValue = "1024") int size;
  @Option(names = "--records", defaultValue = "1000", description = "records in the batch") int records;
  @Option(names = "--rounds", defaultValue = "200", description = "timed rounds per codec, after as many untimed") int rounds;

  @Override
  public Integer call() {
    RecordSet.Builder b = RecordSet.newBuilder();
    for (int i = 0; i < records; i++) {
      b.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(LogBench.eventPayload(size, i))));
    }
    ByteString plain = b.build().toByteString();
    for (CompressionType type : CompressionType.values()) {
      ByteString packed = RecordCompression.compress(type, plain);
      for (int r = 0; r < rounds; r++) {
        RecordCompression.records(RecordCompression.compress(type, plain), plain.size(), "batch");
      }
      long t0 = System.nanoTime();
      for (int r = 0; r < rounds; r++) {
        packed = RecordCompression.compress(type, plain);
      }
      long t1 = System.nanoTime();
      for (int r = 0; r < rounds; r++) {
        RecordCompression.records(packed, plain.size(), "batch");
      }
      long t2 = System.nanoTime();
      System.out.printf(Locale.ROOT, "RESULT kind=codec codec=%s record_size=%d records=%d plain_bytes=%d"
              + " packed_bytes=%d ratio=%.2f compress_mb_s=%.0f decompress_mb_s=%.0f%n", type, size, records,
          plain.size(), packed.size(), plain.size() / (double) packed.size(), mbPerS(plain.size(), t1 - t0),
          mbPerS(plain.size(), t2 - t1));
    }
    return 0;
  }

  private double mbPerS(long bytes, long nanos) {
    return (double) bytes * rounds / 1e6 / (nanos / 1e9);
  }
}
