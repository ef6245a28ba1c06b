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
