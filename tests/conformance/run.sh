#!/usr/bin/env bash
# Runs the official protocol test suites (socketio/engine.io-protocol and
# socketio/socket.io-protocol, folder `test-suite/`) against `bandsync
# conformance` and against the Node reference servers, in the same run, and
# prints which tests pass on each. The suites' code is not in this repository:
# check them out anywhere and `npm ci` in each `test-suite/` folder first
# (docs/PROTOCOL.md, "The official test suites", has the exact commands).
#
#   tests/conformance/run.sh --engineio-suite DIR --socketio-suite DIR \
#       [--bin build/app/bandsync] [--servers "bandsync node"] [--repeat N] [--out DIR]
#       [--nice N]
#
# The suites connect to localhost:3000, fixed in their code. Each server and
# its suite run in a network namespace of their own (unshare), so port 3000
# is private to that run and nothing else on the machine can answer or be
# disturbed; without unshare the run uses the machine's port 3000, which must
# then be free. `--nice -10` (root) runs server and suite ahead of other work:
# several tests have 200-1000 ms deadlines that a loaded machine misses.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
eio_suite="" sio_suite="" bin="$root/build/app/bandsync" servers="bandsync node" repeat=1 nice=""
out=""

while [ $# -gt 0 ]; do
  case "$1" in
    --engineio-suite) eio_suite=$(cd "$2" && pwd); shift 2 ;;
    --socketio-suite) sio_suite=$(cd "$2" && pwd); shift 2 ;;
    --bin) bin=$(realpath "$2"); shift 2 ;;
    --servers) servers="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --out) out="$2"; mkdir -p "$out"; shift 2 ;;
    --nice) nice="nice -n $2"; shift 2 ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
  esac
done
[ -n "$eio_suite$sio_suite" ] || { sed -n '2,19p' "$0"; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/bandsync-conformance.XXXXXX)
for s in $eio_suite $sio_suite; do
  [ -x "$s/node_modules/.bin/mocha" ] || { echo "run: no mocha in $s (npm ci there first)" >&2; exit 2; }
done

# One server + one suite, inside the namespace when there is one. Writes
# mocha's JSON report to $4 and the server's output to $4.server.log.
run_one() {  # <server> <mode engineio|socketio> <suite dir> <report file>
  local server=$1 mode=$2 suite=$3 report=$4 cmd
  if [ "$server" = bandsync ]; then
    cmd="$nice \"$bin\" conformance --port 3000"
    [ "$mode" = engineio ] && cmd="$cmd --engineio"
  else
    cmd="$nice node \"$here/node_reference.mjs\" $mode 3000"
  fi
  local script="
    set -u
    ip link set lo up 2>/dev/null || true
    $cmd >\"$report.server.log\" 2>&1 &
    pid=\$!
    for i in \$(seq 100); do
      (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null && break
      sleep 0.1
    done
    cd \"$suite\"
    # --exit: a test that leaves a socket open must not keep mocha alive.
    timeout 600 $nice ./node_modules/.bin/mocha --exit --reporter json --reporter-option output=\"$report\" test-suite.js \
      >\"$report.mocha.log\" 2>&1
    kill -TERM \$pid 2>/dev/null; wait \$pid 2>/dev/null
    true"
  if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    unshare -n bash -c "$script"
  elif unshare -rn true 2>/dev/null; then
    unshare -rn bash -c "$script"
  else
    bash -c "$script"
  fi
}

# Prints "<passed> passed, <failed> failed" and the failing titles.
summarize() {  # <report file>
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.stats.passes} passed, ${r.stats.failures} failed`);
    for (const f of r.failures) console.log(`  FAIL ${f.fullTitle}: ${(f.err.message || "").split("\n")[0]}`);
  ' "$1"
}

echo "reports in $out"
status=0
for n in $(seq "$repeat"); do
  for mode in engineio socketio; do
    suite=$eio_suite
    [ "$mode" = socketio ] && suite=$sio_suite
    [ -n "$suite" ] || continue
    for server in $servers; do
      report="$out/$mode-$server-$n.json"
      run_one "$server" "$mode" "$suite" "$report"
      if [ -s "$report" ]; then
        echo "run $n, $mode suite, $server: $(summarize "$report")"
        node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1])).stats.failures ? 1 : 0)' "$report" || status=1
      else
        echo "run $n, $mode suite, $server: no report (see $report.mocha.log, $report.server.log)"
        status=1
      fi
    done
  done
done

# Every test that failed at least once, with its pass count per server.
node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1], byTest = new Map(), runs = {};
  for (const f of fs.readdirSync(dir).filter((f) => /^(engineio|socketio)-.*\.json$/.test(f)).sort()) {
    const [mode, server] = f.split("-");
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    runs[`${mode} ${server}`] = (runs[`${mode} ${server}`] || 0) + 1;
    for (const t of [...r.passes, ...r.failures]) {
      const key = `${mode}: ${t.fullTitle}`;
      if (!byTest.has(key)) byTest.set(key, {});
      const e = byTest.get(key);
      e[server] ??= { pass: 0, fail: 0 };
      e[server][r.passes.includes(t) ? "pass" : "fail"]++;
    }
  }
  const flaky = [...byTest].filter(([, e]) => Object.values(e).some((c) => c.fail > 0));
  console.log(`\nruns: ${Object.entries(runs).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  console.log(flaky.length ? "tests that failed at least once (passes/runs per server):" : "no test failed");
  for (const [key, e] of flaky)
    console.log(`  ${key}: ${Object.entries(e).map(([s, c]) => `${s} ${c.pass}/${c.pass + c.fail}`).join(", ")}`);
' "$out"
exit $status
