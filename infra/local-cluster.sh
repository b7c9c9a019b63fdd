#!/usr/bin/env bash
# Starts a local cluster on 127.0.0.1 and runs one experiment on it: N rollout worker nodes (`rlhf worker`, in the
# background) and the coordinator (`rlhf train`, in the foreground), all reading one config. The workers are
# stopped (SIGTERM: they leave the cluster) when the run ends or the script is interrupted.
#
#   infra/local-cluster.sh [N_WORKERS] [CONFIG] [-- extra `rlhf train` arguments, e.g. --resume]
#
# N_WORKERS defaults to 2, CONFIG to infra/cluster/local.conf. Relative paths (the config's run directory, the
# embedded policy) are taken from the repository root. Worker logs go to $LOGS (default runs/local-cluster-logs).
# $RLHF names the launcher (default ./rlhf); $WORKER_JAVA_OPTS the workers' JVM options (default -Xmx2g).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workers="${1:-2}"
config="$(realpath "${2:-$root/infra/cluster/local.conf}")"
shift $(( $# < 2 ? $# : 2 ))
[ "${1:-}" = "--" ] && shift
rlhf="${RLHF:-$root/rlhf}"
logs="${LOGS:-$root/runs/local-cluster-logs}"
cd "$root"
mkdir -p "$logs"

# The workers' config: the run's, on a free Artery port each (only the coordinator holds the seed port).
worker_config="$logs/worker.conf"
printf 'include file("%s")\nrlhf.cluster.port = 0\n' "$config" >"$worker_config"

# Builds the project and the embedded policy once, so the nodes do not race to build them.
$rlhf bootstrap

pids=()
stop_workers() {
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_workers EXIT

for i in $(seq 1 "$workers"); do
  RLHF_JAVA_OPTS="${WORKER_JAVA_OPTS:--Xmx2g}" \
    $rlhf worker --config "$worker_config" >"$logs/worker-$i.out" 2>"$logs/worker-$i.log" &
  pids+=("$!")
  echo "rollout worker node $i: pid $!, log $logs/worker-$i.log" >&2
done

$rlhf train --config "$config" "$@"
