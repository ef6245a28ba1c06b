package io.ratislog.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The schedule and the arithmetic of an A/B comparison in alternating slices (used by {@link DeliveryCost}).
 *
 * <p>Slices come in blocks of four: A, B, B, A, then the mirror image B, A, A, B in the next block, and so on.
 * Within a block each mode's two slices sit symmetrically around the block's middle, so a rate that drifts linearly
 * over the block affects both modes alike. Each block yields one cost of A against B; the median over blocks is
 * robust to a block in which the machine's speed changed abruptly.
 */
final class AlternatingSlices {
  static final int A = 0;
  static final int B = 1;

  private final List<long[]> blocks = new ArrayList<>(); // per block: A records, A nanos, B records, B nanos
  private final long[] total = new long[4];

  /** The modes of block {@code block}'s four slices, in the order they run (blocks count from 0). */
  static int[] order(int block) {
    return block % 2 == 0 ? new int[] {A, B, B, A} : new int[] {B, A, A, B};
  }

  /** Records one slice of {@code mode} in block {@code block} (blocks are recorded in order, from 0). */
  void record(int block, int mode, long records, long nanos) {
    if (block == blocks.size()) {
      blocks.add(new long[4]);
    } else if (block != blocks.size() - 1) {
      throw new IllegalArgumentException("block " + block + " recorded out of order");
    }
    long[] b = blocks.get(block);
    b[2 * mode] += records;
    b[2 * mode + 1] += nanos;
    total[2 * mode] += records;
    total[2 * mode + 1] += nanos;
  }

  /** Mode {@code mode}'s rate (records/s) over every slice recorded. */
  double rate(int mode) {
    return rate(total, mode);
  }

  /** A's cost in per cent of B's rate over every slice (negative when A was faster). */
  double totalCost() {
    return cost(total);
  }

  /** Each block's cost of A in per cent of B's rate, in block order (blocks with both modes only). */
  List<Double> blockCosts() {
    List<Double> costs = new ArrayList<>();
    for (long[] b : blocks) {
      if (b[1] > 0 && b[3] > 0) {
        costs.add(cost(b));
      }
    }
    return costs;
  }

  /** The median of {@link #blockCosts()}, or NaN when no block is complete. */
  double medianBlockCost() {
    double[] c = blockCosts().stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (c.length == 0) {
      return Double.NaN;
    }
    return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
  }

  private static double rate(long[] tally, int mode) {
    return tally[2 * mode] / (tally[2 * mode + 1] / 1e9);
  }

  private static double cost(long[] tally) {
    double a = rate(tally, A);
    double b = rate(tally, B);
    return 100 * (b - a) / b;
  }
}
