#!/usr/bin/env bash
# Runs a local ratislog cluster: N nodes as separate JVMs on 127.0.0.1.
#
#   scripts/cluster.sh start [N]     start N nodes (default 3, or the size of the existing cluster)
#   scripts/cluster.sh stop          stop every node this script started (TERM, then KILL after 20 s)
#   scripts/cluster.sh status        nodes, PIDs, and the cluster's own view (logctl cluster status)
#   scripts/cluster.sh kill ID       kill -9 node ID
#   scripts/cluster.sh restart ID    start node ID again (after kill), same data
#   scripts/cluster.sh wipe          stop, then delete the data directory
#
# Data, configs, logs and PID files live under $RATISLOG_DATA (default ./data): n<ID>/logd.properties,
# n<ID>/logd.log, n<ID>/logd.pid. Node ID listens for clients on 9090+ID and for Raft on 9190+ID
# (RATISLOG_CLIENT_PORT_BASE / RATISLOG_RAFT_PORT_BASE change the bases), and serves /metrics and /health over
# HTTP on 9290+ID (RATISLOG_METRICS_PORT_BASE; 0 turns the endpoint off). Only PIDs this script recorded are
# ever signalled, and only while they still run our Logd.
# RATISLOG_ELECTION_TIMEOUT_MIN_MS / RATISLOG_ELECTION_TIMEOUT_MAX_MS, when set, go into new configs as the
# Raft election timeouts (the server's default is 1000..2000 ms). RATISLOG_EXTRA_CONFIG (key=value lines, or
# comma-separated) is appended to every new config.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

DATA=${RATISLOG_DATA:-$PWD/data}
CLIENT_BASE=${RATISLOG_CLIENT_PORT_BASE:-9090}
RAFT_BASE=${RATISLOG_RAFT_PORT_BASE:-9190}
METRICS_BASE=${RATISLOG_METRICS_PORT_BASE:-9290}
HEAP=${RATISLOG_HEAP:-512m}
WAIT_S=${RATISLOG_WAIT_S:-60}
ELECTION_MIN_MS=${RATISLOG_ELECTION_TIMEOUT_MIN_MS:-}
ELECTION_MAX_MS=${RATISLOG_ELECTION_TIMEOUT_MAX_MS:-}

die() { echo "cluster.sh: $*" >&2; exit 1; }
node_dir() { echo "$DATA/n$1"; }
pid_of() { local f; f="$(node_dir "$1")/logd.pid"; [[ -f $f ]] && cat "$f" || true; }
# True when PID runs our Logd with this node's config: never signal a recycled PID.
is_ours() {
  local pid=$1 id=$2
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "io.ratislog.server.Logd.*$(node_dir "$id")/logd.properties"
}
cluster_size() { [[ -f $DATA/cluster.size ]] && cat "$DATA/cluster.size" || echo 0; }
bootstrap() {
  local n; n=$(cluster_size); local b=""
  for ((i = 1; i <= n; i++)); do b+="${b:+,}127.0.0.1:$((CLIENT_BASE + i))"; done
  echo "$b"
}

write_configs() {
  local n=$1 peers=""
  for ((i = 1; i <= n; i++)); do peers+="${peers:+,}$i=127.0.0.1:$((RAFT_BASE + i)):$((CLIENT_BASE + i))"; done
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$(node_dir "$i")"
    cat > "$(node_dir "$i")/logd.properties" <<PROPS
# written by scripts/cluster.sh
node.id=$i
peers=$peers
data.dir=$(node_dir "$i")
metrics.port=$((METRICS_BASE > 0 ? METRICS_BASE + i : 0))
PROPS
    [[ -z $ELECTION_MIN_MS ]] || echo "election.timeout.min.ms=$ELECTION_MIN_MS" >> "$(node_dir "$i")/logd.properties"
    [[ -z $ELECTION_MAX_MS ]] || echo "election.timeout.max.ms=$ELECTION_MAX_MS" >> "$(node_dir "$i")/logd.properties"
    [[ -z ${RATISLOG_EXTRA_CONFIG:-} ]] || tr ',' '\n' <<< "$RATISLOG_EXTRA_CONFIG" >> "$(node_dir "$i")/logd.properties"
  done
  echo "$n" > "$DATA/cluster.size"
}

start_node() {
  local id=$1 dir pid
  dir=$(node_dir "$id")
  [[ -f $dir/logd.properties ]] || die "node $id has no config in $dir (start the cluster first)"
  pid=$(pid_of "$id")
  if is_ours "$pid" "$id"; then echo "node $id already running (pid $pid)"; return 0; fi
  local jit
  jit=$(ratislog_jit_opts) || die "bad RATISLOG_JIT"
  # shellcheck disable=SC2086
  nohup "$JAVA" -Xms$HEAP -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:G1HeapRegionSize=4m -XX:+ExitOnOutOfMemoryError $jit ${RATISLOG_JVM_OPTS:-} \
    -cp "$RATISLOG_CP" io.ratislog.server.Logd --config "$dir/logd.properties" >> "$dir/logd.log" 2>&1 < /dev/null &
  echo $! > "$dir/logd.pid"
  local metrics=""
  ((METRICS_BASE > 0)) && metrics=", metrics http://127.0.0.1:$((METRICS_BASE + id))/metrics"
  echo "node $id started (pid $!, clients 127.0.0.1:$((CLIENT_BASE + id))$metrics, log $dir/logd.log)"
}

wait_ready() {
  local deadline=$((SECONDS + WAIT_S))
  while ((SECONDS < deadline)); do
    if "$RATISLOG_ROOT/scripts/logctl" --bootstrap "$(bootstrap)" cluster status > /dev/null 2>&1; then
      echo "cluster ready: metadata group has a leader"
      return 0
    fi
    sleep 1
  done
  die "no metadata leader after ${WAIT_S}s; see $DATA/n*/logd.log"
}

stop_node() {
  local id=$1 pid
  pid=$(pid_of "$id")
  if ! is_ours "$pid" "$id"; then rm -f "$(node_dir "$id")/logd.pid"; return 0; fi
  kill -TERM "$pid" 2> /dev/null || true
  for _ in $(seq 1 40); do is_ours "$pid" "$id" || break; sleep 0.5; done
  if is_ours "$pid" "$id"; then kill -KILL "$pid" 2> /dev/null || true; fi
  rm -f "$(node_dir "$id")/logd.pid"
  echo "node $id stopped (pid $pid)"
}

cmd=${1:-}
case "$cmd" in
  start)
    existing=$(cluster_size)
    n=${2:-$([[ $existing -gt 0 ]] && echo "$existing" || echo 3)}
    [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 9 ]] || die "N must be 1..9"
    [[ $existing == 0 || $existing == "$n" ]] || die "data dir $DATA holds a $existing-node cluster; wipe it first"
    ratislog_ensure_built
    mkdir -p "$DATA"
    [[ $existing == 0 ]] && write_configs "$n"
    for ((i = 1; i <= n; i++)); do start_node "$i"; done
    wait_ready
    ;;
  stop)
    n=$(cluster_size)
    for ((i = 1; i <= n; i++)); do stop_node "$i"; done
    ;;
  status)
    n=$(cluster_size)
    ((n > 0)) || die "no cluster in $DATA"
    for ((i = 1; i <= n; i++)); do
      pid=$(pid_of "$i")
      if is_ours "$pid" "$i"; then echo "node $i: running (pid $pid)"; else echo "node $i: not running"; fi
    done
    "$RATISLOG_ROOT/scripts/logctl" --bootstrap "$(bootstrap)" cluster status
    ;;
  kill)
    id=${2:?usage: cluster.sh kill ID}
    pid=$(pid_of "$id")
    is_ours "$pid" "$id" || die "node $id is not running"
    kill -KILL "$pid"
    for _ in $(seq 1 20); do is_ours "$pid" "$id" || break; sleep 0.25; done
    rm -f "$(node_dir "$id")/logd.pid"
    echo "node $id killed (kill -9 $pid)"
    ;;
  restart)
    id=${2:?usage: cluster.sh restart ID}
    stop_node "$id"
    start_node "$id"
    ;;
  wipe)
    n=$(cluster_size)
    for ((i = 1; i <= n; i++)); do stop_node "$i"; done
    rm -rf "$DATA"
    echo "removed $DATA"
    ;;
  bootstrap)
    bootstrap
    ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
