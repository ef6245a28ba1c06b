# Shared by the scripts: where the build puts the jars, and how to run Java with them.
# shellcheck shell=bash
RATISLOG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RATISLOG_SERVER_TARGET="$RATISLOG_ROOT/ratis-log-server/target"
RATISLOG_CP="$RATISLOG_SERVER_TARGET/classes:$RATISLOG_SERVER_TARGET/lib/*"
JAVA=${JAVA:-java}

# Builds the project when the runnable classpath is missing (or with RATISLOG_REBUILD=1).
ratislog_ensure_built() {
  if [[ "${RATISLOG_REBUILD:-0}" == 1 || ! -d "$RATISLOG_SERVER_TARGET/lib" || ! -d "$RATISLOG_SERVER_TARGET/classes" ]]; then
    echo "building ratislog (mvn -DskipTests package)..." >&2
    (cd "$RATISLOG_ROOT" && mvn -B -q -DskipTests package) >&2 || { echo "build failed" >&2; return 1; }
  fi
}

# The JIT compiler a node runs with (RATISLOG_JIT: auto, c1 or tiered). On 2 CPUs or fewer, auto means C1 only:
# there C2's compilations (seconds each for the netty code Ratis and gRPC shade) take the cores from the node for
# minutes after every start, and C1 alone gave as many or up to 70 % more records/s (docs/BENCHMARKS-notes.md,
# 2026-12-03). Prints the JVM option, if any. dist/src/bin/logd has its own copy: the installed tarball has no scripts/.
ratislog_jit_opts() {
  local jit=${RATISLOG_JIT:-auto}
  case $jit in
    auto) if (($(nproc) <= 2)); then jit=c1; else jit=tiered; fi ;;
    c1 | tiered) ;;
    *) echo "RATISLOG_JIT must be auto, c1 or tiered, got '$jit'" >&2; return 2 ;;
  esac
  if [[ $jit == c1 ]]; then echo "-XX:TieredStopAtLevel=1"; fi
}
