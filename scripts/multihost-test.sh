#!/usr/bin/env bash
# A ratislog cluster across three "hosts": Linux network namespaces, each with its own address on a private
# bridge, each running the packaged tarball's bin/logd from its own install directory. It creates a topic,
# produces, consumes, restarts the nodes one at a time (producing while each is down), and checks that every
# acknowledged record is read back exactly once.
#
#   scripts/multihost-test.sh [TARBALL]     default: dist/target/ratislog-*.tar.gz (build: mvn -DskipTests package)
#
# Needs root, iproute2 (ip) and a JDK 17 (java). Environment: RLO_RECORDS (records in the first batch, default
# 2000), RLO_KEEP=1 keeps the work directory (logs, data) for inspection, RLO_HEAP (logd heap, default 256m).
# Exit 0 when nothing was lost, 1 on a failed check, 2 when a prerequisite is missing.
#
# Network: names start with "rlo" and a random 4-hex-digit tag T. Namespaces T-br (holds the bridge; nothing
# runs there), Tn1..Tn3 (the hosts, 10.X.Y.1-3) and Tc (the client, 10.X.Y.254, runs logctl); veth pairs join
# each to the bridge. The root namespace is not touched: no address, route or firewall rule is added there, and
# no namespace has a default route, so no traffic leaves the bridge. Everything is removed on exit, signals too.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECORDS=${RLO_RECORDS:-2000}
HEAP=${RLO_HEAP:-256m}
N=3
die() { echo "multihost-test: $*" >&2; exit 2; }
fail() { echo "multihost-test: FAILED: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*"; }

[[ $(id -u) == 0 ]] || die "needs root (network namespaces)"
command -v ip > /dev/null || die "needs iproute2 (ip)"
command -v java > /dev/null || die "needs a JDK 17 (java)"
TARBALL=${1:-$(ls -t "$ROOT"/dist/target/ratislog-*.tar.gz 2> /dev/null | head -1 || true)}
[[ -n $TARBALL && -f $TARBALL ]] || die "no tarball: build it with 'mvn -DskipTests package' or pass its path"

TAG=rlo$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
WORK=$(mktemp -d "/tmp/$TAG.XXXX")
BR_NS=${TAG}br
CLIENT_NS=${TAG}c
declare -A PID

cleanup() {
  set +e
  for i in "${!PID[@]}"; do stop_node "$i" > /dev/null 2>&1; done
  ip netns del "$BR_NS" 2> /dev/null        # destroys every veth pair
  for ns in "$CLIENT_NS" $(for i in $(seq 1 $N); do echo "${TAG}n$i"; done); do ip netns del "$ns" 2> /dev/null; done
  if [[ ${RLO_KEEP:-0} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- network: a /24 that no address or route of this machine uses
SUBNET=""
for _ in $(seq 1 50); do
  cand="10.$((200 + RANDOM % 50)).$((RANDOM % 250))"
  if ! ip -o addr show | grep -q " $cand\." && ! ip route show | grep -q "^$cand\."; then SUBNET=$cand; break; fi
done
[[ -n $SUBNET ]] || die "no free 10.x.y.0/24 subnet found"
addr() { [[ $1 == c ]] && echo "$SUBNET.254" || echo "$SUBNET.$1"; }

ip netns add "$BR_NS"
ip -n "$BR_NS" link add "${TAG}b" type bridge
ip -n "$BR_NS" link set "${TAG}b" up
attach() { # attach NAMESPACE HOSTNUM|c
  local ns=$1 id=$2
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "${TAG}v$id" netns "$ns" type veth peer name "${TAG}p$id" netns "$BR_NS"
  ip -n "$ns" addr add "$(addr "$id")/24" dev "${TAG}v$id"
  ip -n "$ns" link set "${TAG}v$id" up
  ip -n "$BR_NS" link set "${TAG}p$id" master "${TAG}b"
  ip -n "$BR_NS" link set "${TAG}p$id" up
}
for i in $(seq 1 $N); do attach "${TAG}n$i" "$i"; done
attach "$CLIENT_NS" c
log "network $SUBNET.0/24: hosts $(addr 1), $(addr 2), $(addr 3); client $(addr c)"

# ---- install the tarball into one directory per host, as a deployment would
PEERS=""
for i in $(seq 1 $N); do PEERS+="${PEERS:+,}$i=$(addr "$i"):9191:9091"; done
BOOTSTRAP=$(for i in $(seq 1 $N); do printf '%s:9091,' "$(addr "$i")"; done | sed 's/,$//')
for i in $(seq 1 $N); do
  h=$WORK/host$i
  mkdir -p "$h/opt" "$h/etc" "$h/data"
  tar xzf "$TARBALL" -C "$h/opt"
  ln -s "$(ls -d "$h"/opt/ratislog-*)" "$h/opt/ratislog"
  sed -e "s|^node.id=.*|node.id=$i|" -e "s|^peers=.*|peers=$PEERS|" -e "s|^data.dir=.*|data.dir=$h/data|" \
    "$h/opt/ratislog/conf/logd.properties" > "$h/etc/logd.properties"
done
LOGCTL=$WORK/host1/opt/ratislog/bin/logctl
logctl() { ip netns exec "$CLIENT_NS" "$LOGCTL" --bootstrap "$BOOTSTRAP" "$@"; }

start_node() {
  local i=$1 h=$WORK/host$1
  RATISLOG_HEAP=$HEAP nohup ip netns exec "${TAG}n$i" "$h/opt/ratislog/bin/logd" --config "$h/etc/logd.properties" \
    >> "$h/logd.log" 2>&1 < /dev/null &
  PID[$i]=$!
}
stop_node() { # TERM, then KILL after 30 s; only the PID this script started
  local i=$1 pid=${PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2> /dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2> /dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  unset "PID[$i]"
}
# /health of host i from the client namespace (bash's /dev/tcp: no curl needed): prints the status code
health() {
  ip netns exec "$CLIENT_NS" timeout 5 bash -c "exec 3<>/dev/tcp/$(addr "$1")/9291 && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && head -1 <&3" \
    2> /dev/null | awk '{print $2}' || true
}
await() { # await SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do ((SECONDS < deadline)) || fail "timed out after ${limit}s waiting for $what"; sleep 1; done
}
healthy() { [[ $(health "$1") == 200 ]]; }
all_led() { local d; d=$(logctl -o json topic describe t 2> /dev/null) && [[ $d == *'"leader":'* && $d != *'"leader":null'* ]]; }
produce() { # produce PREFIX COUNT: every record acknowledged, exactly once
  local out
  out=$(seq 1 "$2" | sed "s/^/$1-/" | logctl produce t --delivery exactly-once 2>&1) || fail "produce $1: $out"
  [[ $out == *"acknowledged $2 records"* ]] || fail "produce $1: $out"
  seq 1 "$2" | sed "s/^/$1-/" >> "$WORK/expected"
}

for i in $(seq 1 $N); do start_node "$i"; done
for i in $(seq 1 $N); do await 90 "host $i healthy" healthy "$i"; done
log "3 nodes up and healthy: $(logctl -o json cluster status)"

logctl topic create t --partitions 3 --replication 3 > /dev/null
await 60 "a leader for every partition" all_led
produce first "$RECORDS"
log "produced $RECORDS records"

for i in $(seq 1 $N); do
  stop_node "$i"
  log "host $i stopped; producing while it is down (the producer rides out the elections)"
  produce "down$i" 300
  start_node "$i"
  await 90 "host $i healthy after restart" healthy "$i"
  await 60 "a leader for every partition" all_led
  log "host $i restarted and healthy"
done

expected=$(wc -l < "$WORK/expected")
logctl consume t --from-beginning --max-records "$expected" --timeout-ms 15000 > "$WORK/read" 2> "$WORK/read.err" \
  || fail "consume: $(cat "$WORK/read.err")"
read=$(wc -l < "$WORK/read")
dups=$(sort "$WORK/read" | uniq -d | wc -l)
missing=$(comm -23 <(sort "$WORK/expected") <(sort -u "$WORK/read") | wc -l)
log "acknowledged $expected, read $read, missing $missing, duplicated $dups"
((missing == 0)) || fail "$missing acknowledged records lost, e.g. $(comm -23 <(sort "$WORK/expected") <(sort -u "$WORK/read") | head -3 | tr '\n' ' ')"
((dups == 0 && read == expected)) || fail "read $read records for $expected acknowledged ($dups duplicated)"
# Every replica ends up with every record (each host's own view, from its /metrics).
replica_end() {
  ip netns exec "$CLIENT_NS" timeout 5 bash -c "exec 3<>/dev/tcp/$(addr "$1")/9291 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" \
    2> /dev/null | awk '/^ratislog_partition_log_end_offset\{topic="t"/ {s += $2} END {print s + 0}'
}
replica_complete() { [[ $(replica_end "$1") == "$expected" ]]; }
for i in $(seq 1 $N); do
  await 60 "host $i to hold all $expected records" replica_complete "$i"
done
log "every host's replicas end at $expected records in total"
# bin/logd puts ratislog's jar first, so its faster PureJavaCrc32C shadows ratis-common's (RaftLogChecksum warns if not).
for i in $(seq 1 $N); do
  ! grep -q "the Raft log checksum is Ratis'" "$WORK/host$i/logd.log" || fail "host $i runs Ratis' own PureJavaCrc32C"
done
echo "multihost-test: OK: $expected records across 3 hosts and a rolling restart, none lost or duplicated"
