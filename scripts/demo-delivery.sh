#!/usr/bin/env bash
# demo-delivery.sh: what each delivery mode delivers when things go wrong, on a real 3-node cluster.
#
#   scripts/demo-delivery.sh
#
# Producers: the nodes run with the test-only fault unsafe.test.lose.every.nth.produce.response=20: every
# 20th answer is lost AFTER the batch was committed, so the producer cannot know it was written. The same
# 3,000 records are produced in each mode and the topic is read back.
# Consumers: a group consumer that "processes" slowly (--sleep-per-record-ms) is killed with kill -9 in the
# middle of a batch, then a new one takes over the group; what the two printed together is counted.
# A table shows, per mode, how many records were lost, duplicated, and delivered exactly once.
#
# Environment: RATISLOG_CLIENT_PORT_BASE / RATISLOG_RAFT_PORT_BASE (default 9790 / 9890), KEEP_DATA=1.
set -euo pipefail
SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SCRIPTS/env.sh"
export RATISLOG_CLIENT_PORT_BASE=${RATISLOG_CLIENT_PORT_BASE:-9790}
export RATISLOG_RAFT_PORT_BASE=${RATISLOG_RAFT_PORT_BASE:-9890}
export RATISLOG_DATA; RATISLOG_DATA=$(mktemp -d /tmp/ratislog-delivery.XXXXXX)
export RATISLOG_EXTRA_CONFIG="unsafe.test.lose.every.nth.produce.response=20"
N=3000
BOOT=""
for i in 1 2 3; do BOOT+="${BOOT:+,}127.0.0.1:$((RATISLOG_CLIENT_PORT_BASE + i))"; done
LOGCTL=("$SCRIPTS/logctl" --bootstrap "$BOOT")
CONSUMER_PID=""
cleanup() {
  [[ -n $CONSUMER_PID ]] && kill -9 "$CONSUMER_PID" 2> /dev/null || true
  "$SCRIPTS/cluster.sh" stop > /dev/null 2>&1 || true
  if [[ ${KEEP_DATA:-0} == 1 ]]; then echo "data kept in $RATISLOG_DATA"; else rm -rf "$RATISLOG_DATA"; fi
}
trap cleanup EXIT
say() { echo; echo "== $*"; }

ratislog_ensure_built
say "starting 3 nodes (every 20th produce answer is lost after the write)"
"$SCRIPTS/cluster.sh" start 3 | sed 's/^/   /'

# count FILE: "total distinct duplicated missing" of values rec-1..rec-N in FILE (one value per line)
count() {
  awk -v n="$N" '{seen[$0]++; total++} END {
    d = 0; dup = 0; for (v in seen) { d++; if (seen[v] > 1) dup += seen[v] - 1 }
    miss = 0; for (i = 1; i <= n; i++) if (!(("rec-" i) in seen)) miss++
    printf "%d %d %d %d\n", total, d, dup, miss }' "$1"
}
ROWS=()

say "producers: $N records in each mode"
for mode in at-most-once at-least-once exactly-once; do
  topic="p-$mode"
  "${LOGCTL[@]}" topic create "$topic" --partitions 3 --replication 3 > /dev/null
  seq 1 "$N" | sed 's/^\(.*\)$/\1:rec-\1/' > "$RATISLOG_DATA/in.txt"
  set +e
  "${LOGCTL[@]}" produce "$topic" --key-separator : --delivery "$mode" --batch-bytes 1024 < "$RATISLOG_DATA/in.txt" 2> "$RATISLOG_DATA/produce-$mode.err"
  set -e
  acked=$(sed -n 's/^acknowledged \([0-9]*\) records$/\1/p' "$RATISLOG_DATA/produce-$mode.err")
  failed=$(sed -n 's/^failed \([0-9]*\) records$/\1/p' "$RATISLOG_DATA/produce-$mode.err"); failed=${failed:-0}
  "${LOGCTL[@]}" consume "$topic" --from-beginning --timeout-ms 4000 > "$RATISLOG_DATA/log-$mode.txt"
  read -r total distinct dup miss < <(count "$RATISLOG_DATA/log-$mode.txt")
  echo "   $mode: acknowledged $acked, reported failed $failed; the log holds $total records, $distinct distinct"
  ROWS+=("| produce | $mode | $acked acked, $failed failed | $miss | $dup | $([[ $dup == 0 && $miss == 0 ]] && echo yes || echo no) |")
done

say "consumers: a group consumer killed with kill -9 in the middle of processing, then replaced"
"${LOGCTL[@]}" topic create c --partitions 1 --replication 3 > /dev/null
seq 1 "$N" | sed 's/^/rec-/' | "${LOGCTL[@]}" produce c --delivery exactly-once 2> /dev/null
for mode in at-most-once at-least-once; do
  sink="$RATISLOG_DATA/sink-$mode.txt"; : > "$sink"
  # 1st consumer: slow processing (2 ms a record), killed once it printed 1000 records.
  "${LOGCTL[@]}" consume c --group "g-$mode" --delivery "$mode" --from-beginning --print-offsets \
    --sleep-per-record-ms 2 --timeout-ms 30000 >> "$sink" 2> /dev/null &
  CONSUMER_PID=$!
  for _ in $(seq 1 600); do (( $(wc -l < "$sink") >= 1000 )) && break; sleep 0.1; done
  kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID" 2> /dev/null || true; CONSUMER_PID=""
  first=$(wc -l < "$sink")
  # 2nd consumer of the same group: resumes from the committed offset (after the session timeout expires
  # the dead member, its partition moves).
  "${LOGCTL[@]}" consume c --group "g-$mode" --delivery "$mode" --from-beginning --print-offsets \
    --timeout-ms 20000 >> "$sink" 2> /dev/null
  cut -f3 "$sink" > "$sink.values"
  read -r total distinct dup miss < <(count "$sink.values")
  echo "   $mode: the killed consumer printed $first, the two together $total ($distinct distinct)"
  ROWS+=("| consume | $mode | killed after $first | $miss | $dup | $([[ $dup == 0 && $miss == 0 ]] && echo yes || echo no) |")
  if [[ $mode == at-least-once ]]; then
    # An idempotent sink keyed by (topic, partition, offset), ConsumerRecord.idempotencyKey(), keeps each once.
    cut -f1,2 "$sink" | sort -u | wc -l > "$RATISLOG_DATA/keys"
    keys=$(cat "$RATISLOG_DATA/keys")
    kmiss=$((N - keys))
    ROWS+=("| consume | at-least-once + idempotent sink (key: topic/partition/offset) | same run | $kmiss | 0 | $([[ $kmiss == 0 ]] && echo yes || echo no) |")
  fi
done

say "what each mode delivered ($N records each)"
echo
echo "| side | mode | what happened | lost | duplicated | exactly once |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "(at-most-once producer: the records reported failed are in the log once; their answers were lost after the"
echo " write, and at-most-once does not resend what may have been written)"
echo "at-most-once never duplicates but may lose; at-least-once never loses but may duplicate;"
echo "exactly-once (idempotent producer; consumer offsets with an idempotent sink) does neither."
