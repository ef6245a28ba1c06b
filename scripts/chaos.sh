#!/usr/bin/env bash
# Long chaos runs: a real multi-process cluster, faults, a workload, and a checker that names every anomaly.
#
#   scripts/chaos.sh [--time-limit S] [--nemesis kill,kill-leader,kill-meta-leader,pause,pause-leader,kill-all,
#                     partition-one,partition-majority,partition-bridge,partition-leader,packet-loss,
#                     torn-segment,corrupt-segment,torn-raft-log,corrupt-raft-log,lose-unsynced,lose-unsynced-all,
#                     clock-skew,reassign,wipe-rejoin]
#                    [--workload append|group] [--nodes 3|5] [--delivery exactly-once|at-least-once]
#                    [--partitions P] [--producers N] [--readers N] [--rate R] [--seed S]
#
# Results go to chaos-results/<timestamp>/ (history.jsonl, report.md, timeline.png, the nodes' logs).
# Exit status: 0 no anomaly, 1 anomalies found, 2 the harness failed. Every node it starts is stopped at the
# end, also on failure. The CI profile is the ChaosSmokeIT test (scripts/test.sh); this is the long one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ratislog_ensure_built
CHAOS_TARGET="$RATISLOG_ROOT/chaos-tests/target"
if [[ ! -d $CHAOS_TARGET/lib || ! -d $CHAOS_TARGET/classes ]]; then
  echo "building chaos-tests (mvn -DskipTests package)..." >&2
  (cd "$RATISLOG_ROOT" && mvn -B -q -DskipTests package) >&2
fi
cd "$RATISLOG_ROOT"
# clock-skew preloads libfaketime into the nodes: install it (Debian package) when missing and we are root.
if [[ " $* " == *clock-skew* ]] && ! compgen -G "/usr/lib/*/faketime/libfaketimeMT.so.1" > /dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get > /dev/null; then
    echo "installing libfaketime (apt-get install -y libfaketime)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libfaketime >&2 || echo "could not install libfaketime" >&2
  else
    echo "libfaketime is not installed and cannot be installed here: clock-skew will be skipped" >&2
  fi
fi
has_out=0
for a in "$@"; do [[ $a == --out || $a == --out=* ]] && has_out=1; done
extra=()
((has_out)) || extra=(--out "$RATISLOG_ROOT/chaos-results")
exec "$JAVA" -Xms256m -Xmx1g -cp "$CHAOS_TARGET/classes:$CHAOS_TARGET/lib/*" io.ratislog.chaos.ChaosMain "${extra[@]}" "$@"
