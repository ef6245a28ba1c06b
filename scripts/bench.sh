#!/usr/bin/env bash
# Benchmarks: a local 3-node cluster (3 server JVMs) and one client JVM (log-bench) on this machine, RF 3,
# fsync before ack (the default): the layout of ../shared/peers/ (Kafka's figures on this machine kind).
#
#   scripts/bench.sh                  quick profile (~10 min), writes docs/BENCHMARKS.md (+ docs/bench-failover.*)
#   scripts/bench.sh --peer kafka     then, with ratislog stopped, the same workloads on Kafka
#                                     (../shared/peers/kafka/run.sh; ~6 more min) and a side-by-side report
#   CASES=produce-p1-100 scripts/bench.sh     (or --cases a,b) only these cases; the report then goes to
#                                     target/bench/BENCHMARKS.md unless OUT is set
#   FULL=1 scripts/bench.sh           more records per case
#   OUT=path scripts/bench.sh         write the report elsewhere
#   KEEP_DATA=1 scripts/bench.sh      keep the nodes' data and logs (logd.log) for a look afterwards
#   scripts/bench.sh --report-only    rewrite the report from the last run's files (<report>.raw, .meta, .kafka.*)
#
# Cases: produce-p1-100 produce-p1-100-alo delivery-cost consume-p1-100 produce-p1-1k produce-p6-100
#        produce-tx-p1-100 rate-p1-100 compression latency failover scale
#   (delivery-cost: exactly-once against at-least-once in alternating slices on one topic, DC_BLOCKS (7) blocks of
#   four slices of DC_SLICE records (N100 / 20 by default))
#   (compression: 1 KiB JSON-like events, uncompressed and with each codec; ours only, Kafka's rows use none)
# Knobs (env): FAILOVER_KILLS (10) FAILOVER_RATE (3000 records/s) SCALE_PARTITIONS (1000) SCALE_IDLE_S (30)
#   WARMUP (1: an unreported produce first) RATE (10000 records/s) N100 N1K NTX NRATE NLAT NLAT_WARMUP (record counts) KAFKA_WORK (~/.cache/ratislog-bench/kafka: Kafka's jars are fetched there once)
#   BENCH_MVN_REPO (a Maven local repository for that fetch) RATISLOG_HEAP (1g) BENCH_CLIENT_JVM_OPTS (log-bench JVM
#   options) BENCH_CLIENT_JIT (auto, c1 or tiered: the JIT of log-bench and of Kafka's tools; auto = C1 only on 2 CPUs
#   or fewer, as the nodes) and cluster.sh's RATISLOG_* knobs.
#
# Every case prints RESULT lines; the raw lines go to <report>.raw, the tools' stderr to <report>.raw.err. The
# cluster is started in a temporary data directory on ports 9491-9493/9591-9593 and always stopped at the end.
set -euo pipefail
# The whole script is one block, parsed before it runs: editing this file during a run cannot break the run.
{
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ALL_CASES="produce-p1-100 produce-p1-100-alo delivery-cost consume-p1-100 produce-p1-1k produce-p6-100 produce-tx-p1-100 rate-p1-100 compression latency failover scale"
PEER=""
CASES=${CASES:-}
REPORT_ONLY=0
while (($#)); do
  case $1 in
    --peer) PEER=${2:?--peer needs a name}; shift 2 ;;
    --peer=*) PEER=${1#--peer=}; shift ;;
    --cases) CASES=${2:?--cases needs a list}; shift 2 ;;
    --cases=*) CASES=${1#--cases=}; shift ;;
    --report-only) REPORT_ONLY=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -z $PEER || $PEER == kafka ]] || { echo "bench.sh: the only peer is kafka" >&2; exit 2; }
SUBSET=0
if [[ -n $CASES ]]; then
  SUBSET=1
  CASES=$(tr ',' ' ' <<< "$CASES")
  for c in $CASES; do
    [[ " $ALL_CASES " == *" $c "* ]] || { echo "bench.sh: unknown case $c; cases: $ALL_CASES" >&2; exit 2; }
  done
else
  CASES=$ALL_CASES
fi
selected() { [[ " $CASES " == *" $1 "* ]]; }

if [[ $SUBSET == 1 ]]; then OUT=${OUT:-$RATISLOG_ROOT/target/bench/BENCHMARKS.md}; else OUT=${OUT:-$RATISLOG_ROOT/docs/BENCHMARKS.md}; fi
RAW="$OUT.raw"
CMDS="$OUT.commands"
META="$OUT.meta"
if [[ $REPORT_ONLY == 1 ]]; then
  [[ -f $META && -f $RAW ]] || { echo "bench.sh: no $META / $RAW to report from" >&2; exit 2; }
  # shellcheck disable=SC1090
  source "$META"
else
ratislog_ensure_built
BENCH_TARGET="$RATISLOG_ROOT/log-bench/target"
if [[ ! -d $BENCH_TARGET/lib || ! -f $BENCH_TARGET/classes/io/ratislog/bench/Failover.class ]]; then
  (cd "$RATISLOG_ROOT" && mvn -B -q -DskipTests package) >&2
fi
OUT_DIR=$(cd "$(dirname "$OUT")" 2> /dev/null && pwd || { mkdir -p "$(dirname "$OUT")" && cd "$(dirname "$OUT")" && pwd; })
FULL=${FULL:-0}
# The produce cases run long enough for 5 s progress windows after the first one (the "sustained" rows): on 2
# shared cores the first seconds of every JVM, Kafka's included, go mostly to the JIT compiler.
if [[ $FULL == 1 ]]; then D100=10000000; D1K=1500000; DLAT=5000; DRATE=300000; DTX=1000000
else D100=6000000; D1K=600000; DLAT=2000; DRATE=100000; DTX=300000; fi
# One-in-flight records sent before the measured ones: the throughput cases send a few hundred batches, too few
# for the JIT to compile the one-record path (2,000 cold records measured a 10-12 ms p50, 4 ms after 5,000).
NLAT_WARMUP=${NLAT_WARMUP:-5000}
N100=${N100:-$D100}; N1K=${N1K:-$D1K}; NLAT=${NLAT:-$DLAT}; NRATE=${NRATE:-$DRATE}; NTX=${NTX:-$DTX}
DC_BLOCKS=${DC_BLOCKS:-7}; DC_SLICE=${DC_SLICE:-$((N100 / 20))}
RATE=${RATE:-10000}
FAILOVER_KILLS=${FAILOVER_KILLS:-10}
FAILOVER_RATE=${FAILOVER_RATE:-3000}
SCALE_PARTITIONS=${SCALE_PARTITIONS:-1000}
SCALE_IDLE_S=${SCALE_IDLE_S:-30}
export RATISLOG_DATA; RATISLOG_DATA=$(mktemp -d /tmp/ratislog-bench.XXXXXX)
# No metrics endpoint: its ports would be one more chance to collide with another cluster on this machine.
export RATISLOG_CLIENT_PORT_BASE=9490 RATISLOG_RAFT_PORT_BASE=9590 RATISLOG_METRICS_PORT_BASE=0
export RATISLOG_HEAP=${RATISLOG_HEAP:-1g}
BOOT=127.0.0.1:9491,127.0.0.1:9492,127.0.0.1:9493
# The load generators' JIT (BENCH_CLIENT_JIT: auto, c1 or tiered; auto as the nodes' RATISLOG_JIT, C1 only on 2 CPUs
# or fewer). Every case starts a fresh client JVM, and on 2 cores its C2 compilations took a third of its CPU while it
# ran, CPU the servers share (docs/BENCHMARKS-notes.md, sixteenth session). Kafka's tools get the same flag (below);
# Kafka's brokers keep run.sh's flags, as ratislog's nodes keep theirs.
CLIENT_JIT=$(RATISLOG_JIT=${BENCH_CLIENT_JIT:-auto} ratislog_jit_opts) || exit 2
CLIENT_JVM="-Xms512m -Xmx2g -XX:+UseG1GC${CLIENT_JIT:+ $CLIENT_JIT} ${BENCH_CLIENT_JVM_OPTS:-}"
cleanup() {
  "$RATISLOG_ROOT/scripts/cluster.sh" stop > /dev/null 2>&1 || true
  if [[ ${KEEP_DATA:-0} == 1 ]]; then echo "bench.sh: nodes' data and logs kept in $RATISLOG_DATA" >&2; else rm -rf "$RATISLOG_DATA"; fi
}
for port in 9491 9492 9493 9591 9592 9593; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    echo "bench.sh: port $port is in use on 127.0.0.1 (another cluster or bench run?); aborting" >&2
    exit 2
  fi
done
trap cleanup EXIT
: > "$RAW"; : > "$RAW.err"; : > "$RAW.windows"; : > "$CMDS"
"$RATISLOG_ROOT/scripts/cluster.sh" start 3 >&2
sleep 3
for i in 1 2 3; do
  pid=$(cat "$RATISLOG_DATA/n$i/logd.pid" 2> /dev/null || true)
  if [[ -z $pid ]] || ! kill -0 "$pid" 2> /dev/null; then
    echo "bench.sh: node $i did not stay up; its log:" >&2
    tail -20 "$RATISLOG_DATA/n$i/logd.log" >&2
    exit 3
  fi
done
LOGD_JVM=$(tr '\0' '\n' < "/proc/$(cat "$RATISLOG_DATA/n1/logd.pid")/cmdline" | sed -n '2,/^-cp$/p' | grep -v '^-cp$' | tr '\n' ' ')

# bench CASE log-bench-args...: runs one log-bench command, keeps its RESULT lines (tagged case=CASE).
bench() {
  local case=$1; shift
  echo "+ [$case] log-bench $*" >&2
  echo "$case log-bench --bootstrap $BOOT $*" | sed "s|$RATISLOG_DATA|\$RATISLOG_DATA|g; s|$RATISLOG_ROOT/||g" >> "$CMDS"
  # shellcheck disable=SC2086
  "$JAVA" $CLIENT_JVM -cp "$BENCH_TARGET/classes:$BENCH_TARGET/lib/*" io.ratislog.bench.LogBench \
    --bootstrap "$BOOT" "$@" 2>> "$RAW.err" | sed "s/^/$case /" | tee -a "$RAW.windows" | grep "^$case RESULT " \
    | sed "s/^$case RESULT /RESULT case=$case /" | tee -a "$RAW" >&2 || echo "RESULT case=$case kind=failed args=$*" >> "$RAW"
}
# drop TOPIC...: deletes topics whose cases are done, as Kafka's run.sh does after each of its runs. Without it the
# page cache only grows through a run, and on this VM a page the guest has not touched lately costs a fault on the
# host when it is first written: the servers' writes into the page cache then ran at a third of their speed, with the
# cores in the kernel copying and zeroing pages (docs/BENCHMARKS-notes.md, sixteenth session).
drop() {
  local t
  for t in "$@"; do
    echo "+ delete topic $t" >&2
    echo "delete topic $t" >> "$RAW.err"
    "$RATISLOG_ROOT/scripts/logctl" --bootstrap "$BOOT" topic delete "$t" >> "$RAW.err" 2>&1 \
      || echo "bench.sh: could not delete topic $t" >&2
  done
}
START=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# JIT warm-up of the servers and the client path, not reported (Kafka's run.sh warms its brokers up too): without
# it the first case measures cold JVMs.
if [[ ${WARMUP:-1} == 1 ]]; then
  bench warmup produce --topic warmup --partitions 1 --records $((N100 / 2)) --record-size 100 --delivery EXACTLY_ONCE
  bench warmup produce --topic warmup-alo --partitions 1 --records $((N100 / 2)) --record-size 100 --delivery AT_LEAST_ONCE
  drop warmup warmup-alo
  # as Kafka's run.sh, which waits 5 s after deleting its warm-up topic
  sleep 5
fi
selected produce-p1-100 && bench produce-p1-100 produce --topic eo-p1-100 --partitions 1 --records $N100 --record-size 100 --delivery EXACTLY_ONCE
if selected consume-p1-100; then
  # reads the topic produce-p1-100 filled; fill it (unreported) when that case is not selected
  selected produce-p1-100 || bench fill produce --topic eo-p1-100 --partitions 1 --records $N100 --record-size 100 --delivery EXACTLY_ONCE
  bench consume-p1-100 consume --topic eo-p1-100 --partitions 1 --records $N100
fi
selected produce-p1-100 || selected consume-p1-100 && drop eo-p1-100
selected produce-p1-100-alo && bench produce-p1-100-alo produce --topic alo-p1-100 --partitions 1 --records $N100 --record-size 100 --delivery AT_LEAST_ONCE && drop alo-p1-100
# The exactly-once cost: one producer of each mode on one topic, sending alternating drained slices (ABBA, then
# BAAB). Whole runs one after another differed by up to 20 % whatever their mode on this host, as it speeds up over
# the first minute of load and slows when it takes memory back (docs/BENCHMARKS-notes.md, sixteenth and seventeenth
# sessions), which a 5 % target cannot be read through.
selected delivery-cost && bench delivery-cost delivery-cost --topic delivery-cost --blocks "$DC_BLOCKS" --slice-records "$DC_SLICE" --record-size 100 && drop delivery-cost
selected produce-p1-1k && bench produce-p1-1k produce --topic eo-p1-1k --partitions 1 --records $N1K --record-size 1024 --delivery EXACTLY_ONCE && drop eo-p1-1k
selected produce-p6-100 && bench produce-p6-100 produce --topic eo-p6-100 --partitions 6 --records $N100 --record-size 100 --delivery EXACTLY_ONCE && drop eo-p6-100
selected produce-tx-p1-100 && bench produce-tx-p1-100 produce --topic tx-p1-100 --partitions 1 --records $NTX --record-size 100 --transactional-id bench-tx --transaction-ms 100 && drop tx-p1-100
# Kafka's fixed-rate row runs its producer's default batching (batch.size 16 KiB, linger.ms 5 since Kafka 4.0): so
# does this one, since at a fixed rate the linger is most of the send-to-ack time.
selected rate-p1-100 && bench rate-p1-100 produce --topic rate-p1-100 --partitions 1 --records $NRATE --record-size 100 --delivery EXACTLY_ONCE --rate "$RATE" --batch-bytes 16384 --linger-ms 5 && drop rate-p1-100
if selected compression; then
  for codec in NONE LZ4 ZSTD GZIP; do
    c=$(tr '[:upper:]' '[:lower:]' <<< "$codec")
    bench "compress-$c" produce --topic "events-$c" --partitions 1 --records $N1K --record-size 1024 --payload EVENTS \
      --compression "$codec" --delivery EXACTLY_ONCE
  done
  # reading them back: the consumer decompresses (and checks every record) as it goes
  bench consume-compress-none consume --topic events-none --partitions 1 --records $N1K
  bench consume-compress-zstd consume --topic events-zstd --partitions 1 --records $N1K
  drop events-none events-lz4 events-zstd events-gzip
fi
selected latency && bench latency latency --topic lat --warmup $NLAT_WARMUP --records $NLAT --record-size 100
if selected failover; then
  bench failover failover --topic failover --rate "$FAILOVER_RATE" --record-size 100 --kills "$FAILOVER_KILLS" \
    --cluster-dir "$RATISLOG_DATA" --restart-command "$RATISLOG_ROOT/scripts/cluster.sh restart {id}" \
    --timeline "$OUT_DIR/bench-failover-timeline.csv" --kills-csv "$OUT_DIR/bench-failover-kills.csv" \
    --png "$OUT_DIR/bench-failover.png"
fi
if selected scale; then
  declare -A LOG_LINES
  for i in 1 2 3; do LOG_LINES[$i]=$(wc -l < "$RATISLOG_DATA/n$i/logd.log"); done
  bench scale scale --topic scale --partitions "$SCALE_PARTITIONS" --cluster-dir "$RATISLOG_DATA" --idle-s "$SCALE_IDLE_S" \
    --clock-ticks "$(getconf CLK_TCK)"
  # How fast each node created its replicas (PartitionReconciler logs one line per group it joined).
  for i in 1 2 3; do
    tail -n +$((LOG_LINES[$i] + 1)) "$RATISLOG_DATA/n$i/logd.log" | grep -h 'joined partition group' | awk -v n="$i" '
      { split($1, dt, "T"); split(dt[2], hms, ":"); t = hms[1] * 3600 + hms[2] * 60 + hms[3]
        if (NR == 1) first = t; last = t; c++ }
      END { if (c > 1) printf "RESULT case=scale kind=scale-joins node=%d groups=%d span_s=%.1f per_s=%.1f\n", n, c, last - first, (c - 1) / (last - first + 1e-9) }' \
      | tee -a "$RAW" >&2 || true
  done
fi
"$RATISLOG_ROOT/scripts/cluster.sh" stop >&2 || true
WALL=$(( $(date +%s) - START ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------------------------------ Kafka, same run
KAFKA_RES=""
KAFKA_WALL=""
LOAD_AFTER_KAFKA=""
if [[ $PEER == kafka ]]; then
  KAFKA_RUN=$RATISLOG_ROOT/../shared/peers/kafka/run.sh
  [[ -f $KAFKA_RUN ]] || KAFKA_RUN=/work/shared/peers/kafka/run.sh
  KAFKA_WORK=${KAFKA_WORK:-$HOME/.cache/ratislog-bench/kafka}
  mkdir -p "$KAFKA_WORK"
  # kafka-tools 4.4.0 is not on Maven Central: go straight to the version run.sh falls back to.
  KAFKA_ENV=(WORK="$KAFKA_WORK" OUT_MD="$KAFKA_WORK/RESULTS.md" KAFKA_VERSION=4.4.0 TOOLS_VERSION=4.3.1 REPS=1
    PARTITIONS_LIST="1 6" TUNED_VARIANT=0 FSYNC_VARIANT=1 WARMUP_N=100000
    N100=$((N100 / 2)) N1K=20000 NTX100=$((NTX / 2)) NTX1K=20000 NFSYNC100=$N100 NFSYNC1K=$N1K
    E2E_N=$((NLAT_WARMUP + NLAT)) RATE="$RATE" RATE_N=$NRATE TX_MS=100 DEADLINE_S=1500
    MAVEN_OPTS="${MAVEN_OPTS:-}${BENCH_MVN_REPO:+ -Dmaven.repo.local=$BENCH_MVN_REPO}")
  if [[ -n $CLIENT_JIT ]]; then
    # run.sh starts every process with $JAVA_HOME/bin/java: a java that adds the client JIT flag to the command
    # lines of Kafka's tools (their classpath is lib-tools-*) and passes everything else through unchanged.
    REAL_JAVA=$(readlink -f "$(command -v "$JAVA")")
    mkdir -p "$KAFKA_WORK/client-jit-jdk/bin"
    cat > "$KAFKA_WORK/client-jit-jdk/bin/java" << WRAPPER
#!/usr/bin/env bash
for a in "\$@"; do
  if [[ \$a == *lib-tools-* ]]; then exec "$REAL_JAVA" $CLIENT_JIT "\$@"; fi
done
exec "$REAL_JAVA" "\$@"
WRAPPER
    chmod +x "$KAFKA_WORK/client-jit-jdk/bin/java"
    KAFKA_ENV+=(JAVA_HOME="$KAFKA_WORK/client-jit-jdk")
  fi
  echo "+ [kafka] env ${KAFKA_ENV[*]} bash $KAFKA_RUN" >&2
  KSTART=$(date +%s)
  env "${KAFKA_ENV[@]}" bash "$KAFKA_RUN" >> "$RAW.err" 2>&1 || echo "kafka run failed (see $RAW.err)" >&2
  KAFKA_WALL=$(( $(date +%s) - KSTART ))
  KAFKA_RES=$KAFKA_WORK/results
  [[ -f $KAFKA_RES/results.tsv ]] && cp "$KAFKA_RES/results.tsv" "$OUT.kafka.tsv" && cp "$KAFKA_RES/commands.txt" "$OUT.kafka.commands"
  # ProducerPerformance's 5 s progress lines of the compared runs, for the sustained rows.
  : > "$OUT.kafka.windows"
  for k in fsync-p1-s100-r1 fsync-p1-s1024-r1 fsync-p6-s100-r1; do
    if [[ -f $KAFKA_WORK/logs/$k.log ]]; then sed "s/^/$k /" "$KAFKA_WORK/logs/$k.log" >> "$OUT.kafka.windows"; fi
  done
  LOAD_AFTER_KAFKA=$(cut -d' ' -f1-3 /proc/loadavg)
fi

DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
KAFKA_BROKER_JVM=$(cat "$KAFKA_RES/broker-jvm.txt" 2> /dev/null || echo ?)
NPROC=$(nproc)
ELECTION="${RATISLOG_ELECTION_TIMEOUT_MIN_MS:-1000}-${RATISLOG_ELECTION_TIMEOUT_MAX_MS:-2000} ms$([[ -z ${RATISLOG_ELECTION_TIMEOUT_MIN_MS:-} ]] && echo " (the server's default)")"
# What the report needs besides the raw files, for --report-only.
{ declare -p CASES SUBSET PEER FULL WALL KAFKA_WALL KAFKA_RES LOAD_BEFORE LOAD_AFTER LOAD_AFTER_KAFKA LOGD_JVM CLIENT_JVM CLIENT_JIT \
  RATE SCALE_PARTITIONS SCALE_IDLE_S RATISLOG_HEAP ELECTION KAFKA_BROKER_JVM DATE NPROC NLAT NLAT_WARMUP 2> /dev/null || true; } \
  | sed 's/^declare -[-a-zA-Z]* /declare -g /' > "$META"
fi

# ------------------------------------------------------------------------------------------ report
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<< "$2" | head -1; }
result() { grep -E "^RESULT case=$1 " "$RAW" | head -1 || true; }
# kafka KIND PARTITIONS SIZE COLUMN: a cell of Kafka's results.tsv (first repetition)
kafka() {
  [[ -n $KAFKA_WALL && -f $OUT.kafka.tsv ]] || return 0
  awk -F'\t' -v k="$1" -v p="$2" -v s="$3" -v col="$4" \
    'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} $1==k && $2==p && $3==s && $5!="FAILED"{print $c[col]; exit}' "$OUT.kafka.tsv"
}
# sustained FILE KEY RECORDS REC_S: records/s after the first 5 s progress window (ProducerPerformance's lines, or
# log-bench's in the same format, prefixed with KEY in FILE): (all records - the first window's) / (the run's time -
# the first window's). Empty when the run had fewer than two windows.
sustained() {
  [[ -f $1 && -n $3 && -n $4 ]] || return 0
  awk -v key="$2" -v n="$3" -v r="$4" '$1 == key && / records sent, .* records\/sec / && !/ 50th/ {
      w++; if (w == 1 && $5 + 0 > 0) { c += $2; t += $2 / $5 } }
    END { if (w >= 2 && r + 0 > 0 && n / r - t > 0) printf "%.0f", (n - c) / (n / r - t) }' "$1"
}
# ours_sustained CASE: the sustained rate of one of ratislog's produce cases
ours_sustained() {
  local line; line=$(result "$1")
  sustained "$RAW.windows" "$1" "$(field records "$line")" "$(field rec_s "$line")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a != "" && b != "" && b+0 > 0) printf "%.2f", a/b; else printf "-" }'; }
fmt() { awk -v a="$1" 'BEGIN{ if (a == "") print "-"; else if (a+0 >= 100) printf "%.0f\n", a; else printf "%.3g\n", a }'; }
ours_row() { # label case
  local line; line=$(result "$2")
  if ! selected "$2" && [[ -z $line ]]; then return; fi
  if [[ -z $line || $line == *kind=failed* ]]; then echo "| $1 | failed | | | | | | |"; return; fi
  echo "| $1 | $(field rec_s "$line") | $(fmt "$(ours_sustained "$2")") | $(field mb_s "$line") | $(field p50_ms "$line") | $(field p99_ms "$line") | $(field p999_ms "$line") | $(field max_ms "$line") |"
}
label() { case $1 in rec_s) echo "records/s" ;; mb_s) echo "MB/s" ;; p999_ms) echo "p99.9 ms" ;; *) echo "${1//_/ }" ;; esac; }
# side CASE LABEL METRIC(rec_s|mb_s|p50_ms|p99_ms|p999_ms) KAFKA_KIND P S KAFKA_COLUMN TARGET
side() {
  selected "$1" || return 0
  local line ours k; line=$(result "$1")
  ours=$(field "$3" "$line")
  k=$( [[ $4 == - ]] || kafka "$4" "$5" "$6" "$7")
  echo "| $2 | $(label "$3") | $(fmt "$ours") | $(fmt "$k") | $(ratio "$ours" "$k") | $8 |"
}
# sustained_side CASE LABEL KAFKA_RUN P S: the sustained rates of a produce case and of Kafka's matching run
sustained_side() {
  selected "$1" || return 0
  local ours k
  ours=$(ours_sustained "$1")
  k=$(sustained "$OUT.kafka.windows" "$3" "$(kafka idempotent-bigbatch-fsync "$4" "$5" records)" \
    "$(kafka idempotent-bigbatch-fsync "$4" "$5" rec_s)")
  echo "| $2 | records/s | $(fmt "$ours") | $(fmt "$k") | $(ratio "$ours" "$k") | ratio ≥ 1.0 |"
}
kafka_cmd() { # pattern: the Kafka tool command whose line matches it
  [[ -f $OUT.kafka.commands ]] && grep -E -- "$1" "$OUT.kafka.commands" | head -1 | sed "s|127.0.0.1:29092,[^ ]*|\$BS|" || true
}
reproduce() { # case: the command that reproduces its row
  echo "CASES=$1 scripts/bench.sh  # $(grep -E "^$1 " "$CMDS" | head -1 | cut -d' ' -f2-)"
}
FO=$(result failover)
SC=$(grep -E "^RESULT case=scale kind=scale " "$RAW" | head -1 || true)
{
  echo "# ratislog benchmarks"
  echo
  echo "Generated by \`scripts/bench.sh$([[ -n $PEER ]] && echo " --peer $PEER")\`$([[ $FULL == 1 ]] && echo " (FULL=1)")$([[ $SUBSET == 1 ]] && echo " (CASES=$CASES)") on $DATE; ratislog cases ${WALL}s$([[ -n $KAFKA_WALL ]] && echo ", Kafka ${KAFKA_WALL}s"):"
  echo "3 logd JVMs (heap $RATISLOG_HEAP) + 1 log-bench JVM on one $NPROC-core machine, 127.0.0.1, RF 3,"
  echo "quorum fsync before every acknowledgement (the default). Producer: 1 MiB batches, linger 10 ms (as Kafka's rows;"
  echo "the fixed-rate row 16 KiB and 5 ms, Kafka's producer defaults, as its fixed-rate row),"
  echo "5 batches in flight per partition (Kafka's max.in.flight default; only full batches pipelined). Latency columns of throughput rows are send-to-ack per record"
  echo "(they include client-side queueing, as Kafka's ProducerPerformance does). Each case's topic is deleted once its"
  echo "case is done, as Kafka's run deletes each of its topics."
  echo
  echo "- Machine load (1/5/15 min) before: $LOAD_BEFORE, after ratislog's cases: $LOAD_AFTER$([[ -n $KAFKA_WALL ]] && echo ", after Kafka's: $LOAD_AFTER_KAFKA")."
  echo "  The benchmark itself loads about 2-3; anything well above that means other processes shared the cores."
  echo "- JVM flags: logd \`$LOGD_JVM\`; log-bench \`$CLIENT_JVM\`."
  echo "- Raft election timeout: $ELECTION."
  if [[ -n $KAFKA_WALL ]]; then
    echo "- Kafka: \`../shared/peers/kafka/run.sh\` (kafka_2.13 4.4.0 brokers, kafka-tools 4.3.1), run by this script after"
    echo "  ratislog's cluster was stopped, 1 repetition; brokers \`$KAFKA_BROKER_JVM\`,"
    echo "  tools \`-Xms256m -Xmx1g -XX:+UseG1GC${CLIENT_JIT:+ $CLIENT_JIT}\`${CLIENT_JIT:+ (the load generators' JIT flag, as log-bench's; its brokers' flags are run.sh's)}. Its raw rows: \`$(basename "$OUT").kafka.tsv\`, commands: \`$(basename "$OUT").kafka.commands\`."
  fi
  echo
  if [[ -n $KAFKA_WALL ]]; then
    echo "## Side by side (same run)"
    echo
    echo "ratio = ratislog / Kafka: above 1 is better for records/s, below 1 is better for latency. The 1 KiB row compares"
    echo "records/s (the same ratio as bytes/s): Kafka's tools print MiB/s, ratislog's tables MB/s (10^6 bytes)."
    echo "The \"after the first 5 s\" rows leave out each run's first 5 s progress window (ProducerPerformance's"
    echo "lines, and log-bench's in the same format in \`$(basename "$RAW").windows\`): the rate a warmed-up client and"
    echo "cluster sustain, while the whole-run rows include the JIT compiling both (every JVM shares the 2 cores)."
    echo "Kafka's producer rows are its idempotent producer (acks=all) with \`batch.size=1048576 linger.ms=10\` on topics with"
    echo "\`flush.messages=1\` (every replica fsyncs every append), the closest match to ratislog's fsync before ack;"
    echo "its transactional row uses default batching (16 KiB, commit every 100 ms), ours 1 MiB batches."
    echo "Kafka's fixed-rate, transactional and one-in-flight rows run on topics without \`flush.messages\`: its replicas"
    echo "acknowledge from the page cache there, while every ratislog row fsyncs on a quorum before the acknowledgement."
    echo
    echo "| case | metric | ratislog | Kafka | ratio | target |"
    echo "|---|---|---|---|---|---|"
    side produce-p1-100 "produce, 1 partition, 100 B (ours exactly-once)" rec_s idempotent-bigbatch-fsync 1 100 rec_s "ratio ≥ 1.0"
    side produce-p1-1k "produce, 1 partition, 1 KiB (ours exactly-once)" rec_s idempotent-bigbatch-fsync 1 1024 rec_s "ratio ≥ 1.0"
    side produce-p6-100 "produce, 6 partitions, 100 B (ours exactly-once)" rec_s idempotent-bigbatch-fsync 6 100 rec_s "ratio ≥ 1.0"
    sustained_side produce-p1-100 "produce, 1 partition, 100 B, after the first 5 s" fsync-p1-s100-r1 1 100
    sustained_side produce-p1-1k "produce, 1 partition, 1 KiB, after the first 5 s" fsync-p1-s1024-r1 1 1024
    sustained_side produce-p6-100 "produce, 6 partitions, 100 B, after the first 5 s" fsync-p6-s100-r1 6 100
    side produce-tx-p1-100 "produce, 1 partition, 100 B, transactional, commit every 100 ms" rec_s transactional 1 100 rec_s ""
    side consume-p1-100 "consume, 1 partition, 100 B" rec_s consume 1 100 rec_s "ratio ≥ 1.0"
    side rate-p1-100 "produce at $RATE records/s, 100 B, send to ack" p50_ms "idempotent@${RATE}/s" 1 100 p50_ms ""
    side rate-p1-100 "produce at $RATE records/s, 100 B, send to ack" p99_ms "idempotent@${RATE}/s" 1 100 p99_ms ""
    side rate-p1-100 "produce at $RATE records/s, 100 B, send to ack" p999_ms "idempotent@${RATE}/s" 1 100 p999_ms ""
    if selected latency; then
      LAT=$(grep -E '^RESULT case=latency kind=latency-e2e' "$RAW" | head -1 || true)
      for m in p50_ms p99_ms p999_ms; do
        o=$(field $m "$LAT"); k=$(kafka e2e 1 100 $m)
        echo "| one in flight, produce to consume (end to end), 100 B | $(label $m) | $(fmt "$o") | $(fmt "$k") | $(ratio "$o" "$k") | |"
      done
      # Kafka's tools time no single produce-to-ack; the target is ours alone.
      ACK=$(grep -E '^RESULT case=latency kind=latency-ack' "$RAW" | head -1 || true)
      echo "| one in flight, produce to ack, 100 B | p50 ms | $(fmt "$(field p50_ms "$ACK")") | - | - | ≤ 0.6 |"
      echo "| one in flight, produce to ack, 100 B | p99 ms | $(fmt "$(field p99_ms "$ACK")") | - | - | ≤ 2 |"
    fi
    echo
    echo "The one-in-flight rows measure $NLAT records after $NLAT_WARMUP unmeasured ones; Kafka's EndToEndLatency cannot leave"
    echo "records out, so it sends and measures $((NLAT_WARMUP + NLAT)) (its cold first records are in its percentiles)."
    echo "Kafka's EndToEndLatency reports whole milliseconds. Reproduce a ratislog row with \`CASES=<case> scripts/bench.sh\`;"
    echo "Kafka's rows come from these tool runs (\$BS = its 3 brokers on 127.0.0.1:29092/29192/29292; topics created"
    echo "with \`--replication-factor 3 --config min.insync.replicas=2\`, the fsync ones also \`--config flush.messages=1\`):"
    echo
    echo "| case | ratislog command | Kafka command |"
    echo "|---|---|---|"
    PP="ProducerPerformance .*--topic"
    for pair in "produce-p1-100|$PP fsync-p1-s100-r1 " "produce-p1-1k|$PP fsync-p1-s1024-r1 " \
        "produce-p6-100|$PP fsync-p6-s100-r1 " "produce-tx-p1-100|$PP tx-p1-s100-r1 " \
        "consume-p1-100|ConsumerPerformance .*--topic idem-p1-s100-r1 " "rate-p1-100|$PP rate-p1-r1 " \
        "latency|EndToEndLatency [^ ]* e2e-p1-r1 "; do
      c=${pair%%|*}; selected "$c" || continue
      echo "| $c | \`$(reproduce "$c")\` | \`$(kafka_cmd "${pair#*|}")\` |"
    done
    echo
  fi
  echo "## ratislog"
  echo
  echo "| case | records/s | records/s after the first 5 s | MB/s | p50 ms | p99 ms | p99.9 ms | max ms |"
  echo "|---|---|---|---|---|---|---|---|"
  ours_row "produce, 1 partition, 100 B, exactly-once" produce-p1-100
  ours_row "produce, 1 partition, 100 B, at-least-once" produce-p1-100-alo
  ours_row "produce, 1 partition, 1 KiB, exactly-once" produce-p1-1k
  ours_row "produce, 6 partitions, 100 B, exactly-once" produce-p6-100
  ours_row "produce, 1 partition, 100 B, transactional (commit every 100 ms)" produce-tx-p1-100
  ours_row "produce at $RATE records/s, 1 partition, 100 B, exactly-once" rate-p1-100
  ours_row "consume, 1 partition, 100 B" consume-p1-100
  if selected compression; then
    for c in none lz4 zstd gzip; do
      ours_row "produce, 1 partition, 1 KiB JSON-like events, compression $c (MB/s of records before compression)" "compress-$c"
    done
    ours_row "consume, 1 partition, 1 KiB JSON-like events, uncompressed" consume-compress-none
    ours_row "consume, 1 partition, 1 KiB JSON-like events, zstd (MB/s of records after decompression)" consume-compress-zstd
  fi
  if selected latency; then
    for k in ack e2e; do
      line=$(grep -E "^RESULT case=latency kind=latency-$k" "$RAW" | head -1 || true)
      label=$([[ $k == ack ]] && echo "one in flight: produce to ack" || echo "one in flight: produce to consume")
      echo "| $label |  |  |  | $(field p50_ms "$line") | $(field p99_ms "$line") | $(field p999_ms "$line") | $(field max_ms "$line") |"
    done
  fi
  echo
  DC=$(result delivery-cost)
  if [[ -n $DC && $DC != *kind=failed* ]]; then
    echo "Exactly-once cost (target <= 5 %): **$(field median_block_cost_pct "$DC") %**, the median over $(field blocks "$DC")" \
      "blocks of \`log-bench delivery-cost\` (per block: $(field block_costs_pct "$DC" | sed 's/,/, /g') %). It keeps one producer of" \
      "each mode open on one topic and sends alternating slices of $(field slice_records "$DC") records, each drained before" \
      "the next: $(field warmup_slices "$DC") unmeasured slice(s) of each mode, then blocks of exactly-once, at-least-once," \
      "at-least-once, exactly-once (mirrored in every other block)," \
      "so that the machine's drift over a block cancels. Over all slices: exactly-once $(fmt "$(field eo_rec_s "$DC")")," \
      "at-least-once $(fmt "$(field alo_rec_s "$DC")") records/s, a $(field cost_pct "$DC") % cost."
    echo
  elif selected delivery-cost; then
    echo "Exactly-once cost: the delivery-cost run failed (see \`$(basename "$RAW").err\`)."
    echo
  fi
  if selected failover; then
    echo "## Failover: kill -9 of the partition leader under load"
    echo
    if [[ -z $FO || $FO == *kind=failed* ]]; then
      echo "failed (see \`$(basename "$RAW").err\`)"
    else
      echo "$(field kills "$FO") kills of the leader of a 1-partition topic (RF 3) while a producer ($(field delivery "$FO")) sends"
      echo "$(field rate "$FO") records/s of $(field size "$FO") B; after each kill the node is restarted and the next kill waits until"
      echo "it has rejoined (knows the partition's leader) and its replica is in sync (the leader reports it caught up), plus 2 s."
      echo "Recovery = from the SIGKILL to the first acknowledgement of"
      echo "a record sent after it (nearest rank over the kills, so with 10 kills p99 = max; a kill not recovered from within"
      RT=$(field recovery_timeout_s "$FO"); echo "${RT:-60} s counts as longer than that). Target: p99 ≤ 1 s."
      echo
      echo "| recovery p50 ms | p99 ms | max ms | not recovered | records sent | acked | failed | acked but lost | duplicates |"
      echo "|---|---|---|---|---|---|---|---|---|"
      echo "| $(field recovery_p50_ms "$FO") | $(field recovery_p99_ms "$FO") | $(field recovery_max_ms "$FO") | $(field unrecovered "$FO") | $(field sent "$FO") | $(field acked "$FO") | $(field failed "$FO") | $(field lost "$FO") | $(field duplicates "$FO") |"
      echo
      echo "Per kill: \`bench-failover-kills.csv\`; timeline (acked records/s and send-to-ack latency per 250 ms, kills):"
      echo "\`bench-failover-timeline.csv\`. Reproduce: \`$(reproduce failover)\`."
      echo
      echo "![failover timeline](bench-failover.png)"
    fi
    echo
  fi
  if selected scale; then
    echo "## Scale: $SCALE_PARTITIONS partitions on 3 nodes"
    echo
    if [[ -z $SC || $SC == *kind=failed* ]]; then
      echo "failed (see \`$(basename "$RAW").err\`)"
    else
      SCR=$(grep -E '^RESULT case=scale kind=scale-refused' "$RAW" | head -1 || true)
      if [[ -n $SCR ]]; then
        echo "**$(field partitions "$SCR") partitions were refused** (REPLICA_LIMIT_EXCEEDED, after $(field refused_s "$SCR") s): each node"
        echo "takes at most this many partition replicas ($(field max_replicas "$SCR"); \`max.partitions.per.node\`, by default 100 per"
        echo "core and what its direct memory holds, see \`docs/deploy.md\`). The rest of this section measures the"
        echo "$(field fit "$SCR") partitions they take."
        echo
      fi
      echo "One topic of $(field partitions "$SC") partitions (RF 3: every node holds a replica of each). Targets: every partition"
      echo "has a leader within 60 s of the create call; idle CPU below 15 % of a core per node (utime + stime from"
      echo "/proc/PID/stat over ${SCALE_IDLE_S} s, 10 s after the last leader was elected)."
      echo
      if [[ $(field leaders "$SC") != "$(field partitions "$SC")" ]]; then
        echo "Not every partition had a leader within the create timeout (300 s): the CPU figures below were taken while"
        echo "replicas were still being created, and the produce step was skipped."
        echo
      fi
      echo "| create call s | partitions with a leader | all leaders after s | idle CPU % of a core per node | before the topic (other topics only) | threads per node | produce $(field produce_records "$SC") records over all | failed |"
      echo "|---|---|---|---|---|---|---|---|"
      echo "| $(field create_s "$SC") | $(field leaders "$SC") | $(field leaders_s "$SC") | $(field idle_cpu_pct "$SC") | $(field baseline_cpu_pct "$SC") | $(field threads "$SC") | $(field produce_s "$SC") s | $(field produce_failed "$SC") |"
      echo
      # What one replica costs its node while idle, and so how far the 15 % target is from 1,000 partitions.
      awk -v idle="$(field idle_cpu_pct "$SC")" -v base="$(field baseline_cpu_pct "$SC")" -v n="$(field partitions "$SC")" '
        function pct(list, node,   parts, i, kv) {
          split(list, parts, ",")
          for (i in parts) { split(parts[i], kv, ":"); if (kv[1] == node) return kv[2] + 0 }
          return 0
        }
        BEGIN {
          if (n <= 0) exit
          split(idle, nodes, ",")
          for (i in nodes) {
            split(nodes[i], kv, ":")
            per = (kv[2] - pct(base, kv[1])) / n
            if (per > worst) { worst = per; at = kv[1] }
          }
          if (worst <= 0) exit
          printf "Idle cost of one partition replica: **%.3f %%** of a core (%s: its idle CPU less its figure before the topic, over the %d\n", worst, at, n
          printf "replicas it holds). At that cost 15 %% of a core idles about %d replicas per node, and 1000 partitions (1000\n", 15 / worst
          printf "replicas per node at RF 3 on 3 nodes) would idle at about %.0f %% of a core per node.\n\n", 1000 * worst
        }'
      echo "Busiest thread groups per node while idle (digits in thread names folded to #; % of a core (threads in the group)):"
      echo
      for i in 1 2 3; do
        echo "- n$i: $(grep -E "^RESULT case=scale kind=scale-threads node=$i " "$RAW" | while read -r l; do
          printf '%s %s %% (%s), ' "\`$(field name "$l")\`" "$(field cpu_pct "$l")" "$(field threads "$l")"; done | sed 's/, $//')"
      done
      echo
      echo "Replica creation per node (one \`joined partition group\` log line each; the reconciler adds up to 8 groups at a time):"
      grep -E '^RESULT case=scale kind=scale-joins' "$RAW" | while read -r l; do
        echo "n$(field node "$l"): $(field groups "$l") groups in $(field span_s "$l") s ($(field per_s "$l")/s);"
      done | tr '\n' ' '
      echo
      echo
      echo "Reproduce: \`$(reproduce scale)\`."
    fi
    echo
  fi
  if [[ -z $KAFKA_WALL ]]; then
    echo "Kafka 4.4 on this machine kind (../shared/peers/kafka/RESULTS.md, measured on another day, NOT in this run):"
    echo "1 partition, 100 B, 1 MiB batches + fsync of every append: 349k-408k records/s; 1 KiB: 70-76 MB/s;"
    echo "6 partitions 100 B: 539k-589k records/s; consumer 1 partition 100 B: 1.0-1.4M records/s;"
    echo "end-to-end one in flight: p50 1 ms, p99 5-6 ms. \`scripts/bench.sh --peer kafka\` measures both in one run."
    echo
  fi
  NOTES=$RATISLOG_ROOT/docs/BENCHMARKS-notes.md
  if [[ -f $NOTES ]]; then
    echo "## Notes (hand-written, \`docs/BENCHMARKS-notes.md\`: what limits the figures; not regenerated)"
    echo
    sed '1{/^# /d}' "$NOTES"
    echo
  fi
  echo "Raw result lines: \`$(basename "$RAW")\`; log-bench commands: \`$(basename "$CMDS")\`."
  echo "Reproduce all: \`scripts/bench.sh$([[ -n $PEER ]] && echo " --peer $PEER")\` (quick) or \`FULL=1 scripts/bench.sh\`; one case: \`CASES=<case> scripts/bench.sh\`."
} > "$OUT"
echo "wrote $OUT" >&2
exit
}
