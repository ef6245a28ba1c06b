#!/usr/bin/env bash
# Makes a TEST certificate authority and certificates for ratislog nodes and clients, with openssl.
#
#   scripts/make-certs.sh OUT_DIR [--nodes N] [--clients alice,bob,...] [--days D]
#
# Writes PEM files (keys unencrypted PKCS#8, EC P-256):
#   OUT_DIR/ca.crt, ca.key                   the CA (trust anchor for every node and client)
#   OUT_DIR/node-<i>.crt, node-<i>.key        node i (CN=node-<i>; SAN: node-<i>, localhost, 127.0.0.1),
#                                             used as server AND client certificate on peer links
#   OUT_DIR/<name>.crt, <name>.key            client certificates (CN=<name>: the principal ratislog sees)
#
# Node certificates' common names start with "node-": ratislog accepts a peer-link (Raft) connection only from
# a certificate of its CA whose CN is node-<id> of a configured node, so never issue a client certificate
# named like that. For tests and demos only: real deployments use their own CA and key handling.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [--nodes N] [--clients a,b,...] [--days D]" >&2; exit 2; }
[ $# -ge 1 ] || usage
out=$1; shift
nodes=3; clients=admin,alice,bob; days=30
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=${2:?}; shift 2 ;;
    --clients) clients=${2?}; shift 2 ;;
    --days) days=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$nodes" =~ ^[0-9]+$ ]] || { echo "--nodes must be a number" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
cd "$out"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f ca.crt ]; then
  newkey ca.key
  openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/O=ratislog-test/CN=ratislog test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
fi

# sign NAME SAN EKU: a key and a certificate signed by the CA.
sign() {
  local name=$1 san=$2 eku=$3 ext
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "/O=ratislog-test/CN=$name" -out "$name.csr"
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } > "$ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
    -extfile "$ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$ext"
}

for i in $(seq 1 "$nodes"); do
  sign "node-$i" "DNS:node-$i,DNS:localhost,IP:127.0.0.1" "serverAuth,clientAuth"
done
IFS=',' read -r -a names <<< "$clients"
for c in "${names[@]}"; do
  [ -z "$c" ] && continue
  case "$c" in node-*) echo "client name '$c' is reserved for nodes" >&2; exit 2 ;; esac
  [[ "$c" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "client name '$c': use [A-Za-z0-9._-]" >&2; exit 2; }
  sign "$c" "" "clientAuth"
done
chmod 644 ./*.crt
echo "certificates in $(pwd): ca.crt, node-1..$nodes, clients: $clients"
