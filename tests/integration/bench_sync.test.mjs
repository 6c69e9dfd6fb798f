// `bandsync bench sync`: a correctness check of the clock accuracy scenario
// (it starts its own servers through the Node harness and reports per-device
// errors against the exact server time), not a timing test: the bounds below
// only catch a broken truth or estimate (a wall clock mistaken for the
// monotonic one is tens of ms off), the accuracy figures live in bench/.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { runBandsync } from "./lib/server.mjs";

const bench = (args, timeoutMs = 90_000) => runBandsync(["bench", "sync", ...args], timeoutMs);

test("bench sync measures every device against the exact server time, per shape", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-sync-"));
  const json = path.join(dir, "report.json");
  try {
    const r = await bench([
      "--shape", "0x0", "--shape", "5x2",
      "--devices", "3", "--first-count", "8", "--count", "4", "--bursts", "2",
      "--repeats", "1", "--json", json,
    ]);
    const out = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.code, 0, out);
    assert.match(r.stdout, /^  loopback\.error_ms +count 3 +p50 /m, out);
    assert.match(r.stdout, /^  jitter_5x2\.position_spread_ms +count 1 /m, out);
    const report = JSON.parse(fs.readFileSync(json, "utf8"));
    assert.equal(report.scenario, "sync");
    assert.equal(report.config.exchanges_first_burst, 8);
    for (const [key, delay] of [["loopback", 0], ["jitter_5x2", 5]]) {
      const s = report[key];
      assert.equal(s.delay_ms, delay);
      assert.equal(s.runs.length, 1);
      const [run] = s.runs;
      assert.equal(run.error, undefined, JSON.stringify(run));
      assert.equal(run.errors_ms.length, 3);
      for (const e of run.errors_ms) assert.ok(e >= 0 && e < 20, `${key}: error ${e} ms`);
      // The exact truth against the direct loopback estimate, within its bound (+ slack).
      assert.ok(
        Math.abs(run.reference_check_ms) <= run.reference_check_bound_ms + 2,
        `${key}: truth check ${run.reference_check_ms} ± ${run.reference_check_bound_ms}`,
      );
      // Through 5 ± 2 ms each way no round trip is under 6 ms.
      assert.ok(s.best_round_trip_ms.p50 >= 2 * (delay - 2), `${key}: round trip ${s.best_round_trip_ms.p50}`);
      assert.equal(s.load_averages.length, 1);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bench sync refuses a malformed shape (exit 2) and reports a missing node (exit 1)", async () => {
  const bad = await bench(["--shape", "20-10"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /bad --shape 20-10/);
  const noNode = await bench(["--shape", "0x0", "--repeats", "1", "--node", "/nonexistent/node"]);
  assert.equal(noNode.code, 1, noNode.stdout + noNode.stderr);
  assert.match(noNode.stderr, /cannot start \/nonexistent\/node/);
});
