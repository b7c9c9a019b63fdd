#!/usr/bin/env bash
# Starts a local cluster on 127.0.0.1 and runs one experiment on it: N rollout worker nodes (`rlhf node --role
# rollout`), M reward nodes (`rlhf node --role reward`), a preferences node and a learner node, in the background,
# and the coordinator (`rlhf train`, in the foreground), all reading one config: six JVMs by default. The nodes are stopped (SIGTERM: they leave the cluster) when the run ends
# or the script is interrupted.
#
#   infra/local-cluster.sh [--tls] [--reward M] [--preferences P] [--learner L] [N_WORKERS] [CONFIG]
#                          [-- extra `rlhf train` arguments, e.g. --resume]
#
# --reward M (default 1) starts M reward nodes and has the coordinator score on them (rlhf.cluster.reward-scoring =
# remote); --reward 0 scores in the coordinator's JVM. --preferences 1 (the default) starts a preferences node
# (`rlhf node --role preferences`, its stores in $LOGS/preference-stores) that holds the run's preference store
# (rlhf.cluster.preference-store = remote); --preferences 0 keeps the store in the run directory. --learner 1 (the
# default) starts a learner node (`rlhf node --role learner`, its checkpoints in $LOGS/learner-checkpoints) that
# updates the policy and sends each version to the rollout nodes (rlhf.cluster.learner = remote); --learner 0 keeps
# the learner in the coordinator's JVM.
# --tls secures the cluster as it would be across machines: infra/cluster/make-test-certs.sh makes a test CA and a
# key store per node in $LOGS/certs, with a fresh random password the nodes read from the environment
# (RLHF_CLUSTER_TLS_PASSWORD), and every node runs Artery tls-tcp and gRPC with mutual TLS (rlhf.cluster.tls).
# N_WORKERS defaults to 2, CONFIG to infra/cluster/local.conf. Relative paths (the config's run directory, the
# embedded policy) are taken from the repository root. Node logs go to $LOGS (default runs/local-cluster-logs).
# $RLHF names the launcher (default ./rlhf); $WORKER_JAVA_OPTS the nodes' JVM options (default -Xmx2g).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tls=false
reward=1
preferences=1
learner=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tls) tls=true; shift ;;
    --reward) reward="$2"; shift 2 ;;
    --preferences) preferences="$2"; shift 2 ;;
    --learner) learner="$2"; shift 2 ;;
    *) break ;;
  esac
done
workers="${1:-2}"
config="$(realpath "${2:-$root/infra/cluster/local.conf}")"
shift $(( $# < 2 ? $# : 2 ))
[ "${1:-}" = "--" ] && shift
rlhf="${RLHF:-$root/rlhf}"
logs="${LOGS:-$root/runs/local-cluster-logs}"
cd "$root"
mkdir -p "$logs"

# Each node's config: the run's; the workers on a free Artery port each (only the coordinator holds the seed port);
# with --tls, each node's own key store and the CA's trust store, the password from the environment.
node_config() { # NAME EXTRA_LINE
  local file="$logs/$1.conf"
  printf 'include file("%s")\n%s\n' "$config" "$2" >"$file"
  if $tls; then
    printf 'rlhf.cluster.tls {\n  key-store = "%s"\n  trust-store = "%s"\n%s\n%s\n}\n' \
      "$logs/certs/$1.p12" "$logs/certs/truststore.p12" \
      '  key-store-password = ${RLHF_CLUSTER_TLS_PASSWORD}' \
      '  trust-store-password = ${RLHF_CLUSTER_TLS_PASSWORD}' >>"$file"
  fi
  echo "$file"
}
if $tls; then
  RLHF_CLUSTER_TLS_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  export RLHF_CLUSTER_TLS_PASSWORD
  names=(coordinator)
  for i in $(seq 1 "$workers"); do names+=("worker-$i"); done
  for i in $(seq 1 "$reward"); do names+=("reward-$i"); done
  [ "$preferences" -gt 0 ] && names+=("preferences")
  [ "$learner" -gt 0 ] && names+=("learner")
  CERT_PASSWORD="$RLHF_CLUSTER_TLS_PASSWORD" "$root/infra/cluster/make-test-certs.sh" "$logs/certs" "${names[@]}" >&2
fi
scoring=local
[ "$reward" -gt 0 ] && scoring=remote
store=local
[ "$preferences" -gt 0 ] && store=remote
learning=local
[ "$learner" -gt 0 ] && learning=remote
coordinator_config="$(node_config coordinator "rlhf.cluster.reward-scoring = $scoring
rlhf.cluster.preference-store = $store
rlhf.cluster.learner = $learning")"

# Builds the project and the embedded policy once, so the nodes do not race to build them.
$rlhf bootstrap

pids=()
stop_nodes() {
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_nodes EXIT

start_node() { # ROLE NAME
  local node_conf
  node_conf="$(node_config "$2" "rlhf.cluster.port = 0
rlhf.cluster.preferences-node.store-root = \"$logs/preference-stores\"
rlhf.cluster.learner-node.checkpoint-root = \"$logs/learner-checkpoints\"")"
  RLHF_JAVA_OPTS="${WORKER_JAVA_OPTS:--Xmx2g}" \
    $rlhf node --role "$1" --config "$node_conf" >"$logs/$2.out" 2>"$logs/$2.log" &
  pids+=("$!")
  echo "$1 node $2: pid $!, log $logs/$2.log" >&2
}
for i in $(seq 1 "$workers"); do start_node rollout "worker-$i"; done
for i in $(seq 1 "$reward"); do start_node reward "reward-$i"; done
[ "$preferences" -gt 0 ] && start_node preferences preferences
[ "$learner" -gt 0 ] && start_node learner learner

$rlhf train --config "$coordinator_config" "$@"
