#!/usr/bin/env bash
# The test command (README, .ci/run): builds every module and runs every test, the in-JVM cluster
# integration tests and the multi-process tests (real logd JVMs driven through scripts/cluster.sh and logctl)
# included. Installs nothing outside the Maven repository; needs JDK 17 and Maven 3.8+.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mvn > /dev/null || { echo "test.sh: Maven (mvn) is required: apt-get install -y maven" >&2; exit 2; }
command -v java > /dev/null || { echo "test.sh: a JDK 17 is required: apt-get install -y openjdk-17-jdk-headless" >&2; exit 2; }
exec mvn -B verify "$@"
