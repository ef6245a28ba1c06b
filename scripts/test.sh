#!/usr/bin/env bash
# The test command (README, .ci/run): builds every module and runs every test, the in-JVM cluster
# integration tests and the multi-process tests (real logd JVMs driven through scripts/cluster.sh and logctl)
# included. Needs JDK 17 and Maven 3.8+; installs nothing outside the Maven repository, except, when run as
# root, the Debian packages iproute2 and iptables if they are missing (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mvn > /dev/null || { echo "test.sh: Maven (mvn) is required: apt-get install -y maven" >&2; exit 2; }
command -v java > /dev/null || { echo "test.sh: a JDK 17 is required: apt-get install -y openjdk-17-jdk-headless" >&2; exit 2; }
# The network-partition chaos test (NetworkPartitionIT) runs the nodes in network namespaces and needs root,
# iproute2 and iptables; as root, install what is missing (best effort: without them the test is skipped).
if [[ $(id -u) == 0 ]] && command -v apt-get > /dev/null; then
  missing=()
  command -v ip > /dev/null || missing+=(iproute2)
  command -v iptables > /dev/null || missing+=(iptables)
  if ((${#missing[@]})); then
    echo "test.sh: installing ${missing[*]} for the network-partition chaos test" >&2
    { DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" > /dev/null 2>&1 \
      || { apt-get update > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" > /dev/null 2>&1; }; } \
      || echo "test.sh: could not install ${missing[*]}; NetworkPartitionIT will be skipped" >&2
  fi
fi
exec mvn -B verify "$@"
