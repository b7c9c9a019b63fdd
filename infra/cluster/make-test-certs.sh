#!/usr/bin/env bash
# Makes a test certificate authority and one certificate per cluster node, as PKCS12 key stores that
# rlhf.cluster.tls reads (Artery's tls-tcp and the nodes' gRPC, both with mutual authentication). For tests and
# trials only: a real cluster's keys come from the operator's own CA, and the CA key below never leaves the machine
# that signs.
#
#   infra/cluster/make-test-certs.sh DIR [NODE ...]
#
# NODE is NAME or NAME=HOST[,HOST...]: the certificate of NAME names, besides localhost and 127.0.0.1, each HOST
# (an IP address or a DNS name) that the other nodes reach it by, i.e. its rlhf.cluster.hostname: both gRPC and
# Artery check it. The nodes default to: coordinator worker-1 worker-2.
#
# Writes into DIR (created if missing; existing files of the same names are replaced):
#   truststore.p12   the CA's certificate: every node's rlhf.cluster.tls.trust-store
#   NAME.p12         NAME's private key and certificate chain: that node's rlhf.cluster.tls.key-store
#   ca.crt           the CA's certificate in PEM, to inspect (keytool -printcert -file DIR/ca.crt)
#   ca.p12           the CA's private key: keep it away from the nodes
# Every store has the password $CERT_PASSWORD (default "changeit"): the key-store-password and
# trust-store-password of each node. $VALIDITY_DAYS (default 30) bounds the certificates; $KEYTOOL names keytool
# (default: $JAVA_HOME/bin/keytool, else keytool on the PATH).
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
dir="$1"
shift
nodes=("$@")
[ ${#nodes[@]} -gt 0 ] || nodes=(coordinator worker-1 worker-2)
password="${CERT_PASSWORD:-changeit}"
validity="${VALIDITY_DAYS:-30}"
if [ -n "${KEYTOOL:-}" ]; then
  keytool="$KEYTOOL"
elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/keytool" ]; then
  keytool="$JAVA_HOME/bin/keytool"
else
  keytool="keytool"
fi

mkdir -p "$dir"
cd "$dir"
# each keytool call is a JVM of its own: these options halve its start-up; a failing call is run again to show why
fast=(-J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC)
kt() {
  "$keytool" "${fast[@]}" "$@" -storetype PKCS12 -storepass "$password" >/dev/null 2>&1 \
    || { "$keytool" "$@" -storetype PKCS12 -storepass "$password"; exit 1; }
}

rm -f ca.p12 ca.crt truststore.p12
kt -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname "CN=rlhf test CA" -ext bc:c -validity "$validity" \
  -keystore ca.p12
kt -exportcert -rfc -alias ca -keystore ca.p12 -file ca.crt
kt -importcert -noprompt -alias ca -file ca.crt -keystore truststore.p12

for node in "${nodes[@]}"; do
  name="${node%%=*}"
  case "$name" in
    ''|*/*|.*) echo "make-test-certs.sh: bad node name '$name'" >&2; exit 2 ;;
  esac
  san="dns:localhost,ip:127.0.0.1"
  if [ "$node" != "$name" ]; then
    IFS=',' read -r -a hosts <<<"${node#*=}"
    for host in "${hosts[@]}"; do
      if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then san="$san,ip:$host"; else san="$san,dns:$host"; fi
    done
  fi
  rm -f "$name.p12" "$name.csr" "$name.crt"
  kt -genkeypair -alias node -keyalg EC -groupname secp256r1 -dname "CN=$name" -validity "$validity" \
    -keystore "$name.p12"
  kt -certreq -alias node -keystore "$name.p12" -file "$name.csr"
  kt -gencert -rfc -alias ca -keystore ca.p12 -infile "$name.csr" -outfile "$name.crt" -validity "$validity" \
    -ext "san=$san" -ext ku:c=digitalSignature -ext eku=serverAuth,clientAuth
  # the CA first, so that the signed certificate replaces the self-signed one as a full chain; then the CA entry
  # goes, leaving the key store holding only the node's key and chain
  kt -importcert -noprompt -alias ca -file ca.crt -keystore "$name.p12"
  kt -importcert -noprompt -alias node -file "$name.crt" -keystore "$name.p12"
  kt -delete -alias ca -keystore "$name.p12"
  rm -f "$name.csr" "$name.crt"
  echo "$dir/$name.p12 ($san)"
done
