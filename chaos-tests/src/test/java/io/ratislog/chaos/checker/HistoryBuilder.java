package io.ratislog.chaos.checker;

import io.ratislog.chaos.history.History;
import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import io.ratislog.chaos.history.Read;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds hand-made histories for checker tests; time advances 1 ms per event. */
final class HistoryBuilder {
  private final History history = new History();
  private long time;
  private long ids;

  private Op.Builder stamp(Op.Builder b) {
    time += 1_000_000;
    return b.time(time);
  }

  /** An invocation; returns its id. */
  long invokeSend(String process, Integer partition, String value) {
    long id = ++ids;
    history.add(stamp(Op.of(process, OpKind.SEND, Phase.INVOKE).id(id).partition(partition).value(value)));
    return id;
  }

  HistoryBuilder ackSend(String process, long id, String value, int partition, long offset) {
    history.add(stamp(Op.of(process, OpKind.SEND, Phase.OK).id(id).partition(partition).value(value).offset(offset)));
    return this;
  }

  HistoryBuilder completeSend(String process, long id, String value, Phase phase) {
    history.add(stamp(Op.of(process, OpKind.SEND, phase).id(id).value(value).error("TIMEOUT: test")));
    return this;
  }

  /** A send invoked and acknowledged at once. */
  HistoryBuilder send(String process, String value, int partition, long offset) {
    return ackSend(process, invokeSend(process, partition, value), value, partition, offset);
  }

  HistoryBuilder seek(String reader, Map<Integer, Long> positions) {
    long id = ++ids;
    history.add(stamp(Op.of(reader, OpKind.SEEK, Phase.INVOKE).id(id).value("beginning")));
    history.add(stamp(Op.of(reader, OpKind.SEEK, Phase.OK).id(id).value("beginning").positions(positions)));
    return this;
  }

  /** A poll returning records given as partition, offset, value triples: {@code 0, 0L, "a", ...}. */
  HistoryBuilder poll(String reader, Object... triples) {
    long id = ++ids;
    history.add(stamp(Op.of(reader, OpKind.POLL, Phase.INVOKE).id(id)));
    history.add(stamp(Op.of(reader, OpKind.POLL, Phase.OK).id(id).reads(reads(triples))));
    return this;
  }

  /** A complete final read of one partition from offset 0 to {@code end}. */
  HistoryBuilder finalRead(int partition, long end, Object... triples) {
    long id = ++ids;
    history.add(stamp(Op.of("final", OpKind.FINAL_READ, Phase.INVOKE).id(id).partition(partition)));
    history.add(stamp(Op.of("final", OpKind.FINAL_READ, Phase.OK).id(id).partition(partition).offset(end)
        .positions(Map.of(partition, 0L)).reads(reads(triples))));
    return this;
  }

  HistoryBuilder incompleteFinalRead(int partition) {
    long id = ++ids;
    history.add(stamp(Op.of("final", OpKind.FINAL_READ, Phase.INVOKE).id(id).partition(partition)));
    history.add(stamp(Op.of("final", OpKind.FINAL_READ, Phase.INFO).id(id).partition(partition)
        .reads(List.of()).error("incomplete")));
    return this;
  }

  HistoryBuilder health(int node, boolean up) {
    long id = ++ids;
    history.add(stamp(Op.of("harness", OpKind.HEALTH, Phase.INVOKE).id(id).nodes(List.of(node))));
    history.add(stamp(Op.of("harness", OpKind.HEALTH, up ? Phase.OK : Phase.FAIL).id(id).nodes(List.of(node))
        .error(up ? null : "ChecksumException")));
    return this;
  }

  HistoryBuilder nemesis(String name, int node) {
    long id = ++ids;
    history.add(stamp(Op.of("nemesis", OpKind.NEMESIS, Phase.INVOKE).id(id).value(name).nodes(List.of(node))));
    history.add(stamp(Op.of("nemesis", OpKind.NEMESIS, Phase.OK).id(id).value(name).nodes(List.of(node))));
    return this;
  }

  /** A group member's poll (member id, generation) returning records given as triples, see {@link #poll}. */
  HistoryBuilder groupPoll(String process, String member, long generation, Object... triples) {
    long id = ++ids;
    history.add(stamp(Op.of(process, OpKind.GROUP_POLL, Phase.INVOKE).id(id).group("g").member(member)
        .generation(generation)));
    history.add(stamp(Op.of(process, OpKind.GROUP_POLL, Phase.OK).id(id).group("g").member(member)
        .generation(generation).reads(reads(triples))));
    return this;
  }

  /** A commit's invocation; returns its id. */
  long invokeCommit(String process, String member, long generation, int partition, long offset) {
    long id = ++ids;
    history.add(stamp(Op.of(process, OpKind.COMMIT, Phase.INVOKE).id(id).group("g").member(member)
        .generation(generation).partition(partition).offset(offset)));
    return id;
  }

  HistoryBuilder completeCommit(String process, long id, String member, long generation, int partition, long offset,
      Phase phase) {
    history.add(stamp(Op.of(process, OpKind.COMMIT, phase).id(id).group("g").member(member)
        .generation(generation).partition(partition).offset(offset)));
    return this;
  }

  /** A commit invoked and completed at once. */
  HistoryBuilder commit(String process, String member, long generation, int partition, long offset, Phase phase) {
    return completeCommit(process, invokeCommit(process, member, generation, partition, offset), member, generation,
        partition, offset, phase);
  }

  /** An observation of group g's committed offsets. */
  HistoryBuilder committed(Map<Integer, Long> positions) {
    long id = ++ids;
    history.add(stamp(Op.of("group-observer", OpKind.COMMITTED, Phase.INVOKE).id(id).group("g")));
    history.add(stamp(Op.of("group-observer", OpKind.COMMITTED, Phase.OK).id(id).group("g").positions(positions)));
    return this;
  }

  /** An administrative reset of group g's committed offsets. */
  HistoryBuilder reset(Map<Integer, Long> positions) {
    long id = ++ids;
    history.add(stamp(Op.of("admin", OpKind.RESET, Phase.INVOKE).id(id).group("g").positions(positions)));
    history.add(stamp(Op.of("admin", OpKind.RESET, Phase.OK).id(id).group("g").positions(positions)));
    return this;
  }

  private static List<Read> reads(Object... triples) {
    List<Read> out = new ArrayList<>();
    for (int i = 0; i < triples.length; i += 3) {
      out.add(new Read((Integer) triples[i], ((Number) triples[i + 1]).longValue(), (String) triples[i + 2]));
    }
    return out;
  }

  List<Op> ops() {
    return history.ops();
  }
}
