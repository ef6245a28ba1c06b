#!/usr/bin/env bash
# demo.sh: ratislog end to end, on this machine, in about a minute.
#
#   scripts/demo.sh
#
# Builds if needed, starts a 3-node cluster in a fresh temporary data directory, creates a 3-partition
# topic (replication 3), produces 10,000 unique records with `logctl produce` and reads them back, kill -9s
# the leader of partition 0, waits for a new leader, produces 10,000 more, reads everything from the
# beginning and checks that every acknowledged record is there exactly once (RESULT: PASS, exit 0;
# RESULT: FAIL, exit 1; exit 2 when it refuses to start because a port is taken). Then restarts the killed node, shows the cluster with all 3 nodes up, and stops it.
#
# Environment:
#   RATISLOG_CLIENT_PORT_BASE / RATISLOG_RAFT_PORT_BASE   port bases (default 9090 / 9190: ports 9091-9093, 9191-9193)
#   KEEP_DATA=1          keep the temporary data directory (node logs, produced and consumed records)
#   DEMO_RECORDS=N       records per produce round (default 10000)
#   DEMO_WAIT_S=S        bound of every wait (default 60)
#
# Whatever happens, the nodes this script started are stopped on exit (scripts/cluster.sh stop, which only
# signals the PIDs it recorded) and the temporary directory is removed unless KEEP_DATA=1.
set -euo pipefail
SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SCRIPTS/env.sh"

NODES=3
TOPIC=demo
PARTITIONS=3
RECORDS=${DEMO_RECORDS:-10000}
WAIT_S=${DEMO_WAIT_S:-60}
export RATISLOG_CLIENT_PORT_BASE=${RATISLOG_CLIENT_PORT_BASE:-9090}
export RATISLOG_RAFT_PORT_BASE=${RATISLOG_RAFT_PORT_BASE:-9190}
export RATISLOG_WAIT_S=$WAIT_S
[[ $RECORDS =~ ^[1-9][0-9]{0,6}$ ]] || { echo "demo: DEMO_RECORDS must be 1..9999999" >&2; exit 2; }
[[ $WAIT_S =~ ^[1-9][0-9]*$ ]] || { echo "demo: DEMO_WAIT_S must be a positive number of seconds" >&2; exit 2; }

BOOT=""
for ((i = 1; i <= NODES; i++)); do BOOT+="${BOOT:+,}127.0.0.1:$((RATISLOG_CLIENT_PORT_BASE + i))"; done

STEP=0
STEPS=12
T0=$SECONDS
DATA=""
STARTED=0
RESULT_SHOWN=0

step() { STEP=$((STEP + 1)); printf '\n[%2d/%d] (%3ds) %s\n' "$STEP" "$STEPS" "$((SECONDS - T0))" "$*"; }
say() { printf '       %s\n' "$*"; }
indent() { sed 's/^/       | /'; }
fail() {
  echo "       ERROR: $*"
  echo
  echo "RESULT: FAIL ($*)"
  RESULT_SHOWN=1
  exit 1
}
logctl() { "$SCRIPTS/logctl" --bootstrap "$BOOT" "$@"; }
cluster() { "$SCRIPTS/cluster.sh" "$@"; }

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if ((rc != 0 && RESULT_SHOWN == 0)); then
    echo
    echo "RESULT: FAIL (aborted during step $STEP, exit $rc)"
  fi
  if ((STARTED)); then
    echo
    echo "cleanup: stopping the nodes this demo started"
    cluster stop 2>&1 | indent
  fi
  if [[ -n $DATA && -d $DATA ]]; then
    if [[ ${KEEP_DATA:-0} == 1 ]]; then
      echo "cleanup: data kept in $DATA (node logs: $DATA/n*/logd.log, records: $DATA/demo/)"
    else
      rm -rf "$DATA"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Something listens on 127.0.0.1:PORT (or any address)?
port_taken() {
  local p=$1
  if command -v ss > /dev/null 2>&1 && ss -ltn "sport = :$p" 2> /dev/null | awk 'NR > 1' | grep -q .; then
    return 0
  fi
  (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null
}

# Runs "$@" once a second until it succeeds; fails the demo with MESSAGE after WAIT_S seconds.
wait_until() {
  local message=$1
  shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@"; do
    ((SECONDS < deadline)) || fail "$message (waited ${WAIT_S}s)"
    sleep 1
  done
}

describe() { logctl topic describe "$TOPIC" --timeout-ms 5000 2> /dev/null; }
# The leader of partition $1 ("-" when unknown, empty when the topic cannot be described).
leader_of() { describe | awk -v p="$1" 'NR > 1 && $1 == p { print $2 }'; }
all_partitions_led() { describe | awk -v n="$PARTITIONS" 'NR > 1 && $2 != "-" { c++ } END { exit !(c == n) }'; }
new_leader_elected() {
  local l
  l=$(leader_of 0)
  [[ -n $l && $l != - && $l != "$KILLED" ]]
}
all_nodes_up() {
  logctl cluster status --timeout-ms 5000 2> /dev/null \
    | awk -v n="$NODES" '$4 == "yes" && $3 == "yes" { up++ } /^metadata leader: [0-9]/ { led = 1 } END { exit !(up == n && led) }'
}

# produce FROM TO NAME [logctl produce options]: records rec-FROM..rec-TO, keyed by number so they spread over the
# partitions.
PRODUCED=0
ACKED=0
UNACKED=0
produce() {
  local from=$1 to=$2 name=$3 rc=0 ack
  shift 3
  awk -v a="$from" -v b="$to" 'BEGIN { for (i = a; i <= b; i++) printf "%05d:rec-%05d\n", i, i }' > "$WORK/$name.in"
  cut -d: -f2 "$WORK/$name.in" >> "$WORK/produced.txt"
  logctl produce "$TOPIC" --key-separator : "$@" < "$WORK/$name.in" 2> "$WORK/$name.err" || rc=$?
  indent < "$WORK/$name.err"
  ack=$(awk '/^acknowledged [0-9]+ records/ { print $2 }' "$WORK/$name.err")
  ack=${ack:-0}
  PRODUCED=$((PRODUCED + to - from + 1))
  ACKED=$((ACKED + ack))
  if ((ack == to - from + 1)); then
    cut -d: -f2 "$WORK/$name.in" >> "$WORK/acked.txt"
  else
    # Which records failed is not reported per record: count them, and the result is FAIL.
    UNACKED=$((UNACKED + to - from + 1 - ack))
    say "WARNING: only $ack of $((to - from + 1)) records acknowledged (logctl exit $rc)"
  fi
  ((rc == 0)) || say "WARNING: logctl produce exited with $rc"
}

printf 'ratislog demo: %d nodes, topic "%s" with %d partitions (replication 3), 2 x %d records, kill -9 of a leader\n' \
  "$NODES" "$TOPIC" "$PARTITIONS" "$RECORDS"

# ---------------------------------------------------------------------------------------------------------
step "Checking that ports $((RATISLOG_CLIENT_PORT_BASE + 1))-$((RATISLOG_CLIENT_PORT_BASE + NODES)) (clients)" \
  "and $((RATISLOG_RAFT_PORT_BASE + 1))-$((RATISLOG_RAFT_PORT_BASE + NODES)) (Raft) are free"
taken=""
for ((i = 1; i <= NODES; i++)); do
  for p in $((RATISLOG_CLIENT_PORT_BASE + i)) $((RATISLOG_RAFT_PORT_BASE + i)); do
    port_taken "$p" && taken+=" $p"
  done
done
if [[ -n $taken ]]; then
  RESULT_SHOWN=1
  echo "demo: refusing to start: port(s)$taken already in use (another cluster or demo running?)." >&2
  echo "      Stop it, or choose other ports: RATISLOG_CLIENT_PORT_BASE=19090 RATISLOG_RAFT_PORT_BASE=19190 $0" >&2
  exit 2
fi
say "all free"

step "Building if needed (ratis-log-server/target/lib and classes)"
ratislog_ensure_built || fail "build failed"
say "runnable classpath ready: $RATISLOG_SERVER_TARGET"

# ---------------------------------------------------------------------------------------------------------
DATA=$(mktemp -d "${TMPDIR:-/tmp}/ratislog-demo.XXXXXX")
export RATISLOG_DATA=$DATA
WORK=$DATA/demo
mkdir -p "$WORK"
: > "$WORK/produced.txt"
: > "$WORK/acked.txt"

step "Starting a $NODES-node cluster (data in $DATA)"
STARTED=1
cluster start "$NODES" 2>&1 | indent || fail "cluster did not start; see $DATA/n*/logd.log"

step "Creating topic \"$TOPIC\" ($PARTITIONS partitions, replication 3) and waiting for its partition leaders"
logctl topic create "$TOPIC" --partitions "$PARTITIONS" --replication 3 2>&1 | indent || fail "topic create failed"
wait_until "not every partition of $TOPIC has a leader" all_partitions_led
describe | indent

step "Producing $RECORDS records (rec-00001..) with logctl produce; the cluster acknowledges after fsync on a majority"
produce 1 "$RECORDS" batch1

step "Reading them back (logctl consume --from-beginning --max-records $RECORDS)"
rc=0
logctl consume "$TOPIC" --from-beginning --max-records "$RECORDS" --timeout-ms 10000 > "$WORK/readback1.txt" || rc=$?
got=$(wc -l < "$WORK/readback1.txt")
distinct=$(sort -u "$WORK/readback1.txt" | wc -l)
say "read $got records, $distinct distinct (logctl exit $rc)"
((got == RECORDS && distinct == RECORDS && rc == 0)) || say "WARNING: expected $RECORDS distinct records"

# ---------------------------------------------------------------------------------------------------------
step "Killing (kill -9) the leader of partition 0"
KILLED=""
deadline=$((SECONDS + WAIT_S))
while :; do
  KILLED=$(leader_of 0)
  [[ -n $KILLED && $KILLED != - ]] && break
  ((SECONDS < deadline)) || fail "partition 0 has no leader (waited ${WAIT_S}s)"
  sleep 1
done
say "partition 0 is led by node $KILLED"
cluster kill "$KILLED" 2>&1 | indent || fail "could not kill node $KILLED"
KILL_AT=$SECONDS

step "Waiting for partition 0 to elect a new leader (at most ${WAIT_S}s)"
wait_until "partition 0 did not elect a new leader after node $KILLED died" new_leader_elected
say "new leader of partition 0: node $(leader_of 0), about $((SECONDS - KILL_AT))s after the kill"
describe | indent

step "Producing $RECORDS more records with node $KILLED down, in lz4-compressed batches this time"
produce "$((RECORDS + 1))" "$((2 * RECORDS))" batch2 --compression lz4

step "Reading everything from the beginning (until 8 s without a new record, so duplicates would show too)"
rc=0
logctl consume "$TOPIC" --from-beginning --print-offsets --timeout-ms 8000 > "$WORK/consumed.tsv" || rc=$?
((rc == 0)) || say "WARNING: logctl consume exited with $rc"
awk -F'\t' '{ n[$1]++; if (!($1 in lo) || $2 < lo[$1]) lo[$1] = $2; if ($2 > hi[$1]) hi[$1] = $2 }
  END { for (p in n) printf "partition %s: %d records, offsets %d..%d\n", p, n[p], lo[p], hi[p] }' \
  "$WORK/consumed.tsv" | sort | indent

cut -f3 "$WORK/consumed.tsv" > "$WORK/consumed.txt"
sort "$WORK/consumed.txt" > "$WORK/consumed.sorted"
sort -u "$WORK/consumed.txt" > "$WORK/consumed.distinct"
sort -u "$WORK/acked.txt" > "$WORK/acked.sorted"
sort -u "$WORK/produced.txt" > "$WORK/produced.sorted"
CONSUMED=$(wc -l < "$WORK/consumed.txt")
DISTINCT=$(wc -l < "$WORK/consumed.distinct")
DUPLICATED=$((CONSUMED - DISTINCT))
MISSING=$(comm -23 "$WORK/acked.sorted" "$WORK/consumed.distinct" | wc -l)
UNKNOWN=$(comm -13 "$WORK/produced.sorted" "$WORK/consumed.distinct" | wc -l)

echo
printf '       %-34s %8s\n' "produced (lines sent)" "$PRODUCED"
printf '       %-34s %8s\n' "acknowledged" "$ACKED"
printf '       %-34s %8s\n' "consumed" "$CONSUMED"
printf '       %-34s %8s\n' "distinct" "$DISTINCT"
printf '       %-34s %8s\n' "missing (acknowledged, not read)" "$MISSING"
printf '       %-34s %8s\n' "duplicated (extra copies read)" "$DUPLICATED"
printf '       %-34s %8s\n' "never produced, yet read" "$UNKNOWN"
if ((MISSING > 0)); then
  say "first missing: $(comm -23 "$WORK/acked.sorted" "$WORK/consumed.distinct" | head -5 | tr '\n' ' ')"
fi
if ((DUPLICATED > 0)); then
  say "first duplicated: $(uniq -d "$WORK/consumed.sorted" | head -5 | tr '\n' ' ')"
fi

reasons=()
((UNACKED == 0)) || reasons+=("$UNACKED records not acknowledged")
((MISSING == 0)) || reasons+=("$MISSING acknowledged records missing")
((DUPLICATED == 0)) || reasons+=("$DUPLICATED duplicates")
((UNKNOWN == 0)) || reasons+=("$UNKNOWN unknown records")
((CONSUMED == PRODUCED)) || reasons+=("read $CONSUMED of $PRODUCED")
((rc == 0)) || reasons+=("consume exited with $rc")
echo
if ((${#reasons[@]} == 0)); then
  echo "RESULT: PASS (all $ACKED acknowledged records read back exactly once, across the kill -9 of node $KILLED)"
  PASSED=1
else
  (IFS=';'; echo "RESULT: FAIL (${reasons[*]})")
  PASSED=0
fi
RESULT_SHOWN=1

# ---------------------------------------------------------------------------------------------------------
step "Restarting node $KILLED and waiting until all $NODES nodes are up"
RESTART_AT=$SECONDS
cluster restart "$KILLED" 2>&1 | indent
wait_until "node $KILLED did not come back up" all_nodes_up
say "all $NODES nodes up and a metadata leader, $((SECONDS - RESTART_AT))s after the restart:"
logctl cluster status 2>&1 | indent

step "Stopping the cluster"
cluster stop 2>&1 | indent
STARTED=0
say "done in $((SECONDS - T0))s"
((PASSED)) || exit 1
exit 0
