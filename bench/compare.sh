#!/usr/bin/env bash
# BandSync vs the old Node.js server, same machine, same run, same load.
#
#   bench/compare.sh [path/to/bandsync]      (default: build/app/bandsync)
#
# Builds nothing. Runs `npm ci` in bench/baseline-node when its node_modules
# is missing or stale, then for each server in turn (a fresh server process
# per scenario, on a free loopback port) runs the same `bandsync bench`
# scenarios, collects their JSON reports and prints one markdown table with
# both columns and their ratio. The table, the machine and the commands are
# written to bench/RESULTS.md (RESULTS_FILE=... elsewhere, RESULTS_FILE=- not).
# Only the PIDs this script started are ever signalled.
#
# Sizes and durations (environment):
#   FANOUT_SIZES="250x8 500x8"   sessions x members, measured FANOUT_DURATION s (30)
#   ATONCE_SIZES="500x8"         fanout with every leader pressing play at once (--play-spread 0),
#                                FANOUT_DURATION s: tick phase balancing's worst case; "" = none
#   CAPACITY_SIZES="100x8 150x8 1000x8 1500x8 2000x8"  extra fanout sizes to find the largest
#                                device count with tick p99 <= 15 ms and loss <= 0.1 %,
#                                measured CAPACITY_DURATION s (15); "" = none
#   FLOOR_SIZES="4000 8000" FLOOR_DURATION=10  `bandsync bench floor` (the raw-write CPU per
#                                frame at N loopback sockets, no server) before the fanout
#                                scenarios and again after them (FLOOR_ROUNDS=2), so that the
#                                table shows each server's CPU per delivered tick as a ratio
#                                of the floor measured in the same run; "" = none
#   IDLE_DEVICES=2000 IDLE_DURATION=35    memory per connection (35 s: every device
#                                answers at least one BandSync heartbeat, sent every 30 s)
#   LONG_DURATION=0 LONG_SIZE=10x8  > 0: also a long fanout (e.g. 600 s: position error
#                                after 10 minutes), both servers at once (80 devices
#                                each cost about 1 % of a core, so they do not disturb
#                                each other) with the other scenarios run before it
#   SERVERS="bandsync node"      which servers to run (alternating per scenario, so
#                                background load on the shared cores hits both alike)
#   BENCH_NICE=0                 nice value for the servers and the generator (e.g. -5
#                                to shield the measurement from other jobs on the machine)
#   GEN_POLL_MS=2                fanout scenarios: the generator reads its sockets every
#                                GEN_POLL_MS ms (`--poll-interval`; 0 = on each readiness):
#                                fewer wake-ups, a cheaper generator; tick latency is the
#                                kernel's receive stamp either way (bench/README.md, "Fourth pass")
#   BENCH_PIN=0                  1: the server on CPU 0 and the generator on CPU 1 (taskset),
#                                so "one core" is literal; the floor stays unpinned. Off by
#                                default: on a shared machine it hurts (bench/README.md)
#   OUT=/tmp/bandsync-bench-<date>  where the JSON reports and server logs go
#   REPORT_ONLY=1                runs nothing: rebuilds the table and RESULTS.md from
#                                the reports already in OUT
#   SYNC=1                       then runs bench/sync.sh (clock accuracy, issue 11; BandSync
#                                only: the old server has no time_sync), which adds its
#                                section to RESULTS.md; SYNC=0 skips it
# With the defaults the whole run takes about 9 minutes (LONG_DURATION=600 adds 10).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
BIN=$(realpath "${1:-${BANDSYNC_BIN:-$root/build/app/bandsync}}")
FANOUT_SIZES=${FANOUT_SIZES-"250x8 500x8"}
FANOUT_DURATION=${FANOUT_DURATION:-30}
ATONCE_SIZES=${ATONCE_SIZES-"500x8"}
CAPACITY_SIZES=${CAPACITY_SIZES-"100x8 150x8 1000x8 1500x8 2000x8"}
CAPACITY_DURATION=${CAPACITY_DURATION:-15}
FLOOR_SIZES=${FLOOR_SIZES-"4000 8000"}
FLOOR_DURATION=${FLOOR_DURATION:-10}
FLOOR_ROUNDS=${FLOOR_ROUNDS:-2}
IDLE_DEVICES=${IDLE_DEVICES:-2000}
IDLE_DURATION=${IDLE_DURATION:-35}
LONG_DURATION=${LONG_DURATION:-0}
LONG_SIZE=${LONG_SIZE:-10x8}
SERVERS=${SERVERS:-"bandsync node"}
BENCH_NICE=${BENCH_NICE:-0}
GEN_POLL_MS=${GEN_POLL_MS:-2}
BENCH_PIN=${BENCH_PIN:-0}
server_cpu=()
gen_cpu=()
if [[ "$BENCH_PIN" == 1 ]]; then
  command -v taskset >/dev/null || { echo "compare.sh: BENCH_PIN=1 needs taskset" >&2; exit 1; }
  server_cpu=(taskset -c 0)
  gen_cpu=(taskset -c 1)
fi
OUT=${OUT:-${TMPDIR:-/tmp}/bandsync-bench-$(date +%Y%m%d-%H%M%S)}
RESULTS_FILE=${RESULTS_FILE:-$root/bench/RESULTS.md}

die() { echo "compare.sh: $*" >&2; exit 1; }
REPORT_ONLY=${REPORT_ONLY:-0}
[[ "$REPORT_ONLY" == 1 || -x "$BIN" ]] || die "no bandsync binary at $BIN (build it first: make build)"
command -v node >/dev/null || die "node is required"
mkdir -p "$OUT"

baseline="$here/baseline-node"
if [[ "$REPORT_ONLY" != 1 ]] &&
   [[ ! -f "$baseline/node_modules/.package-lock.json" ||
      "$baseline/package-lock.json" -nt "$baseline/node_modules/.package-lock.json" ]]; then
  echo "compare.sh: npm ci in bench/baseline-node" >&2
  (cd "$baseline" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# One descriptor per connection, in this shell and so in the servers and the
# generator it starts.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

server_pid=""
long_pids=()
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
stop_all() {
  stop_server
  local p
  for p in "${long_pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  long_pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start_server NAME PORT LOG: starts it in the background, sets server_pid,
# returns once the port accepts connections.
start_server() {
  local name=$1 port=$2 log=$3
  case $name in
    bandsync)
      # $server_env: extra settings of one scenario (the rehearsal's).
      # HANDSHAKE_*: the per-address session bucket (1000 at once, then 100/s)
      # would refuse most of a fleet that connects from one loopback address;
      # SESSION_CREATE_ADDRESS_*: likewise the sessions its leaders create
      # (64 of 1,250 were refused at 10,000 devices in the 02:03 UTC run).
      env $server_env RATE_LIMIT_MAX=100000000 HANDSHAKE_RATE=1000000 HANDSHAKE_BURST=1000000 \
        SESSION_CREATE_ADDRESS_BURST=1000000 SESSION_CREATE_ADDRESS_PER_MINUTE=1000000 \
        LOG_LEVEL=warn "${server_cpu[@]}" nice -n "$BENCH_NICE" "$BIN" serve \
        --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
      ;;
    node)
      (cd "$baseline" && HOST=127.0.0.1 PORT=$port LOG_LEVEL=warn exec "${server_cpu[@]}" nice -n "$BENCH_NICE" \
        node server.js) >"$log" 2>&1 &
      ;;
    *) die "unknown server $name" ;;
  esac
  server_pid=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || die "$name exited at start (see $log)"
    sleep 0.1
  done
  die "$name did not listen on port $port (see $log)"
}

commands="$OUT/commands.txt"
meta="$OUT/meta.env"

# run NAME SCENARIO ARGS...: a fresh server, one scenario, its JSON report.
run() {
  local name=$1 scenario=$2 tag=$3
  shift 3
  local port log json
  port=$(free_port)
  log="$OUT/$name-$tag.server.log"
  json="$OUT/$name-$tag.json"
  # The rehearsal's leader drop checks the departure contract (an election at
  # once); with connection state recovery on, BandSync holds the seat instead
  # (EVENTS.md "Seats"), so that scenario runs with recovery off.
  server_env=""
  [[ "$scenario" == rehearsal ]] && server_env="SOCKET_RECOVERY_WINDOW=0"
  start_server "$name" "$port" "$log"
  sleep 1  # let the server settle before the "before" memory sample
  echo "== $name: bench $scenario $* (port $port, pid $server_pid)" >&2
  echo "bandsync bench $scenario $* --port <port> --server-pid <pid> --json $name-$tag.json   # $name" >>"$commands"
  local rc=0
  "${gen_cpu[@]}" nice -n "$BENCH_NICE" "$BIN" bench "$scenario" "$@" --port "$port" --server-pid "$server_pid" --json "$json" \
    >"$OUT/$name-$tag.txt" 2>"$OUT/$name-$tag.progress" || rc=$?
  [[ "$scenario" == rehearsal ]] && grep -E '^(PASS|FAIL)' "$OUT/$name-$tag.txt" | sed "s/^/   $name: /" >&2
  stop_server
  [[ $rc -le 1 ]] || echo "compare.sh: $name $scenario exited $rc" >&2
}

# run_floor ROUND: the raw-write floor at every FLOOR_SIZES count (no server).
run_floor() {
  local round=$1 n json
  for n in $FLOOR_SIZES; do
    json="$OUT/floor-$n-$round.json"
    echo "== floor: bench floor --sockets $n --duration $FLOOR_DURATION (round $round)" >&2
    echo "bandsync bench floor --sockets $n --duration $FLOOR_DURATION --json floor-$n-$round.json   # no server" >>"$commands"
    local rc=0
    nice -n "$BENCH_NICE" "$BIN" bench floor --sockets "$n" --duration "$FLOOR_DURATION" \
      --json "$json" >"$OUT/floor-$n-$round.txt" 2>&1 || rc=$?
    [[ $rc == 0 ]] || echo "compare.sh: floor $n exited $rc (see $OUT/floor-$n-$round.txt)" >&2
  done
}

# The long run: every server at once, each with its own generator.
run_long() {
  local tag="long-$LONG_SIZE" name port log json gens=()
  for name in $SERVERS; do
    port=$(free_port)
    log="$OUT/$name-$tag.server.log"
    json="$OUT/$name-$tag.json"
    start_server "$name" "$port" "$log"
    local spid=$server_pid
    server_pid=""
    long_pids+=("$spid")
    echo "== $name: bench fanout --sessions ${LONG_SIZE%x*} --members ${LONG_SIZE#*x} --duration $LONG_DURATION (port $port, pid $spid, concurrent)" >&2
    echo "bandsync bench fanout --sessions ${LONG_SIZE%x*} --members ${LONG_SIZE#*x} --duration $LONG_DURATION --port <port> --server-pid <pid> --json $name-$tag.json   # $name, servers run concurrently" >>"$commands"
    "${gen_cpu[@]}" nice -n "$BENCH_NICE" "$BIN" bench fanout --sessions "${LONG_SIZE%x*}" \
      --members "${LONG_SIZE#*x}" --duration "$LONG_DURATION" --poll-interval "$GEN_POLL_MS" --progress-interval 60 \
      --port "$port" --server-pid "$spid" --json "$json" \
      >"$OUT/$name-$tag.txt" 2>"$OUT/$name-$tag.progress" &
    gens+=($!)
  done
  local g
  for g in "${gens[@]}"; do wait "$g" || true; done
  stop_all
}

# run_fanouts LABEL "SIZES" DURATION [extra fanout options]: every SxM size on
# every server, reported as LABEL-SxM.
run_fanouts() {
  local label=$1 sizes=$2 duration=$3 size name
  shift 3
  for size in $sizes; do
    for name in $SERVERS; do
      run "$name" fanout "$label-$size" --sessions "${size%x*}" --members "${size#*x}" \
        --duration "$duration" --poll-interval "$GEN_POLL_MS" "$@"
    done
  done
}

if [[ "$REPORT_ONLY" == 1 ]]; then
  [[ -f "$meta" ]] || die "REPORT_ONLY=1 needs the reports of an earlier run in OUT=$OUT"
  # shellcheck source=/dev/null
  source "$meta"
else
  : >"$commands"
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  for name in $SERVERS; do run "$name" rehearsal rehearsal; done
  round=1
  if [[ -n "$FLOOR_SIZES" ]]; then run_floor $round; fi
  run_fanouts fanout "$FANOUT_SIZES" "$FANOUT_DURATION"
  run_fanouts atonce "$ATONCE_SIZES" "$FANOUT_DURATION" --play-spread 0
  run_fanouts capacity "$CAPACITY_SIZES" "$CAPACITY_DURATION" --probe-interval 0
  while [[ -n "$FLOOR_SIZES" && $round -lt $FLOOR_ROUNDS ]]; do
    round=$((round + 1))
    run_floor $round
  done
  for name in $SERVERS; do
    run "$name" idle "idle-$IDLE_DEVICES" --devices "$IDLE_DEVICES" --duration "$IDLE_DURATION"
  done
  if [[ "$LONG_DURATION" != 0 ]]; then run_long; fi
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  declare -p started load_before load_after BIN BENCH_NICE FANOUT_SIZES ATONCE_SIZES FANOUT_DURATION \
    CAPACITY_SIZES CAPACITY_DURATION FLOOR_SIZES FLOOR_DURATION FLOOR_ROUNDS IDLE_DEVICES IDLE_DURATION LONG_DURATION LONG_SIZE \
    SERVERS GEN_POLL_MS BENCH_PIN >"$meta"
fi

table=$(node "$here/table.mjs" "$OUT" $SERVERS)
echo "$table"

if [[ "$RESULTS_FILE" != "-" ]]; then
  {
    echo "# BandSync benchmark results"
    echo
    echo "Generated by \`bench/compare.sh\` (do not edit by hand; the analysis is in bench/README.md)."
    echo "Several nodes on one Redis (cross-node tick latency, Redis commands per playing session, failover): [RESULTS-cluster.md](RESULTS-cluster.md) (\`bench/cluster.sh\`, \`tests/integration/lib/cluster_bench.mjs\`)."
    echo
    echo "- date: $started"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
    echo "- load average before / after: $load_before / $load_after (the 2 cores are shared; the generator runs on them too)"
    echo "- servers: BandSync \`$BIN\` ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) + work tree); Node $(node --version) with socket.io $(node -p 'require("'"$baseline"'/node_modules/socket.io/package.json").version')"
    echo "- open-file limit: $(ulimit -n); nice: $BENCH_NICE; generator poll interval: ${GEN_POLL_MS:-0} ms; pinned (server CPU 0, generator CPU 1): ${BENCH_PIN:-0}"
    echo "- sizes: FANOUT_SIZES=\"$FANOUT_SIZES\" ATONCE_SIZES=\"${ATONCE_SIZES-}\" FANOUT_DURATION=$FANOUT_DURATION CAPACITY_SIZES=\"$CAPACITY_SIZES\" CAPACITY_DURATION=$CAPACITY_DURATION FLOOR_SIZES=\"$FLOOR_SIZES\" FLOOR_DURATION=$FLOOR_DURATION FLOOR_ROUNDS=${FLOOR_ROUNDS:-2} IDLE_DEVICES=$IDLE_DEVICES IDLE_DURATION=$IDLE_DURATION LONG_DURATION=$LONG_DURATION LONG_SIZE=$LONG_SIZE"
    echo
    echo "$table"
    echo
    echo "## Commands"
    echo
    echo "Each line ran against a fresh server, BandSync and Node alternating, except \`bench floor\`, which runs no server (BandSync: \`RATE_LIMIT_MAX=100000000 HANDSHAKE_RATE=1000000 HANDSHAKE_BURST=1000000 SESSION_CREATE_ADDRESS_BURST=1000000 SESSION_CREATE_ADDRESS_PER_MINUTE=1000000 LOG_LEVEL=warn bandsync serve --host 127.0.0.1 --port <port>\`; Node: \`HOST=127.0.0.1 PORT=<port> LOG_LEVEL=warn node bench/baseline-node/server.js\`):"
    echo
    echo '```'
    cat "$commands"
    echo '```'
  } >"$RESULTS_FILE"
  echo "compare.sh: wrote $RESULTS_FILE (reports in $OUT)" >&2
fi

if [[ "${SYNC:-1}" == 1 && "$REPORT_ONLY" != 1 ]]; then
  OUT="$OUT/sync" RESULTS_FILE="$RESULTS_FILE" "$here/sync.sh" "$BIN"
fi
