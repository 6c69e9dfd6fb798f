#!/usr/bin/env bash
# Several nodes (issue 15) measured with `bandsync bench fanout`: one
# redis-server and N `bandsync serve` nodes started here on free loopback
# ports, the devices spread over them (--node-port), the Redis commands
# counted (--redis-port). For each N in CLUSTER_NODES, prints one line per run:
#   <setup> <tick p50 ms> <tick p99 ms> | leader node p50/p99 | other nodes p50/p99 | Redis cmd/s per playing session | load
# "1" is one node without cluster mode (today's mode, with Redis); "1c" one
# node in cluster mode. The JSON reports are kept in $OUT.
#
#   bench/cluster.sh [path/to/bandsync]        (default: build/app/bandsync)
#
# Environment: CLUSTER_NODES="1 2 3", SESSIONS=50, MEMBERS=4, DURATION=10, OUT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
BIN=$(realpath "${1:-${BANDSYNC_BIN:-$root/build/app/bandsync}}")
CLUSTER_NODES=${CLUSTER_NODES:-"1 2 3"}
SESSIONS=${SESSIONS:-50}
MEMBERS=${MEMBERS:-4}
DURATION=${DURATION:-10}
OUT=${OUT:-$(mktemp -d /tmp/bandsync-cluster-bench.XXXXXX)}
mkdir -p "$OUT"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

pids=()
cleanup() {
  for p in "${pids[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  pids=()
}
trap cleanup EXIT

for setup in $CLUSTER_NODES; do
  n=${setup%c}
  rport=$(free_port)
  rdir=$(mktemp -d)
  redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$rdir" \
    --daemonize no >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$rport"
  ports=()
  for i in $(seq 0 $((n - 1))); do
    p=$(free_port)
    if [ "$setup" = 1 ]; then
      env -i PATH="$PATH" REDIS_HOST=127.0.0.1 REDIS_PORT="$rport" LOG_LEVEL=warn \
        "$BIN" serve --port "$p" --host 127.0.0.1 >/dev/null 2>&1 &
    else
      env -i PATH="$PATH" REDIS_HOST=127.0.0.1 REDIS_PORT="$rport" LOG_LEVEL=warn \
        NODE_ID="bench-$i" "$BIN" serve --port "$p" --host 127.0.0.1 >/dev/null 2>&1 &
    fi
    pids+=($!)
    ports+=("$p")
  done
  for p in "${ports[@]}"; do wait_port "$p"; done
  sleep 1.5  # heartbeats: every node knows the others
  extra=()
  for p in "${ports[@]:1}"; do extra+=(--node-port "$p"); done
  json="$OUT/fanout-$setup.json"
  "$BIN" bench fanout --sessions "$SESSIONS" --members "$MEMBERS" --duration "$DURATION" \
    --port "${ports[0]}" "${extra[@]}" --redis-port "$rport" --progress-interval 0 \
    --json "$json" >/dev/null
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const t = r.ticks, n = t.by_node, f = (s) => s ? `${s.p50} / ${s.p99}` : "–";
    console.log([process.argv[2], `${t.latency_ms.p50} / ${t.latency_ms.p99}`,
      n ? f(n.leader_node_ms) : "–", n ? f(n.other_nodes_ms) : "–",
      r.redis?.commands_per_s_per_playing_session ?? "–", r.machine?.load_average_1m ?? "–"].join(" | "));
  ' "$json" "$setup"
  cleanup
  rm -rf "$rdir"
done
echo "reports: $OUT" >&2
