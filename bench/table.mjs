// Turns the JSON reports of one compare.sh run into one markdown table:
//   node bench/table.mjs OUT_DIR bandsync node
// Reports are OUT_DIR/<server>-<tag>.json, as compare.sh names them.
import fs from "node:fs";
import path from "node:path";

const [dir, ...servers] = process.argv.slice(2);
if (!dir || servers.length === 0) {
  console.error("usage: node table.mjs OUT_DIR SERVER...");
  process.exit(2);
}
const label = { bandsync: "BandSync", node: "Node baseline" };
// The capacity criterion of the issue.
const P99_LIMIT_MS = 15;
const LOSS_LIMIT_PCT = 0.1;
// The old server's ticker runs slow even unloaded (setInterval drift), so it
// misses a few tenths of a percent of ticks at any size; this looser bound
// shows where its delivery, rather than its clock, gives out.
const LOOSE_LOSS_LIMIT_PCT = 1;

function load(server, tag) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${server}-${tag}.json`), "utf8"));
  } catch {
    return null;
  }
}

// Tags in run order (the first server's files, oldest first).
const tags = fs
  .readdirSync(dir)
  .filter((f) => f.startsWith(`${servers[0]}-`) && f.endsWith(".json"))
  .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
  .sort((a, b) => a.t - b.t)
  .map(({ f }) => f.slice(servers[0].length + 1, -5));

// The raw-write floor (`bench floor`, no server): floor-<sockets>-<round>.json.
// Each server's CPU per delivered tick is shown as a ratio of the mean floor
// at the socket count nearest to the run's device count.
const floors = new Map();  // sockets -> [cpu µs per write, one per round]
const floorSteal = new Map();  // sockets -> [host steal % of the machine, one per round]
for (const f of fs.readdirSync(dir)) {
  const m = /^floor-(\d+)-\d+\.json$/.exec(f);
  if (!m) continue;
  try {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    const v = r.writer && r.writer.cpu_us_per_write;
    if (typeof v !== "number") continue;
    const n = Number(m[1]);
    if (!floors.has(n)) floors.set(n, []);
    floors.get(n).push(v);
    if (!floorSteal.has(n)) floorSteal.set(n, []);
    floorSteal.get(n).push(r.machine?.steal_pct);
  } catch {
    // an unreadable report is a missing one
  }
}
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
function floorFor(devices) {
  let best;
  for (const n of floors.keys())
    if (best === undefined || Math.abs(n - devices) < Math.abs(best - devices)) best = n;
  return best === undefined ? undefined : { sockets: best, us: mean(floors.get(best)) };
}
// Server CPU per delivered tick: from the report, or from its CPU % and the
// ticks received in the window for reports written before the field existed.
function cpuPerTick(r) {
  const v = get(r, "server.cpu_us_per_tick");
  if (typeof v === "number") return v;
  const pct = get(r, "server.cpu_pct"), ticks = get(r, "ticks.received"), w = get(r, "ticks.window_s");
  if (typeof pct !== "number" || !ticks || !w) return undefined;
  return (pct / 100) * w * 1e6 / ticks;
}

const get = (o, p) => p.split(".").reduce((v, k) => (v == null ? undefined : v[k]), o);
const fmt = (v, digits = 2) => {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  if (typeof v !== "number") return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Number(v.toFixed(digits)));
};
const ratio = (a, b) => {
  if (typeof a !== "number" || typeof b !== "number" || b === 0 || a === 0) return "–";
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}×`;
};

const rows = [];
const row = (metric, values, showRatio = true) =>
  rows.push([metric, ...values.map((v) => fmt(v)), showRatio && servers.length === 2 ? ratio(values[0], values[1]) : ""]);

const capacity = Object.fromEntries(servers.map((s) => [s, { strict: 0, loose: 0 }]));

for (const n of [...floors.keys()].sort((a, b) => a - b)) {
  const runs = floors.get(n);
  // No server in this scenario: the same figure stands in every column.
  const text = `${fmt(mean(runs))} (${runs.map((v) => fmt(v)).join(" / ")})`;
  row(`floor ${n} sockets: raw write CPU per frame, mean (each round) (µs)`, servers.map(() => text), false);
  // CPU the hypervisor gave to other guests while the floor ran: a floor
  // measured under steal is not this machine's floor (bench/README.md).
  const steal = floorSteal.get(n).map((v) => (typeof v === "number" ? fmt(v) : "–")).join(" / ");
  row(`floor ${n} sockets: host steal in each round (% of all cores)`, servers.map(() => steal), false);
}

for (const tag of tags) {
  const reports = servers.map((s) => load(s, tag));
  const any = reports.find(Boolean);
  if (!any) continue;
  const scenario = any.scenario;
  if (scenario === "rehearsal") {
    row(
      "rehearsal: criteria passed",
      reports.map((r) => {
        const c = (r && r.criteria) || [];
        return `${c.filter((x) => x.pass).length}/${c.length}`;
      }),
      false,
    );
    row("rehearsal: tick latency p99 (ms)", reports.map((r) => get(r, "ticks.latency_ms.p99")));
    row("rehearsal: max position error (ms)", reports.map((r) => get(r, "position.abs_error_ms.max")));
    continue;
  }
  if (scenario === "fanout") {
    const devices = get(any, "config.devices");
    const atOnce = tag.startsWith("atonce-") ? ", play at once" : "";
    const name = `${tag.replace(/^(fanout|capacity|long|atonce)-/, "")} (${devices} devices, ${get(any, "config.duration_s")} s${atOnce})`;
    row(`${name}: joined`, reports.map((r) => get(r, "connect.joined")));
    row(`${name}: join time p99 (ms)`, reports.map((r) => get(r, "connect.join_ms.p99")));
    for (const q of ["p50", "p99", "p99_9", "max"])
      row(`${name}: tick latency ${q.replace("_", ".")} (ms)`, reports.map((r) => get(r, `ticks.latency_ms.${q}`)));
    // The same ticks timed when the one-threaded generator read them (its
    // own backlog included): what "tick latency" was before the kernel's
    // receive stamp (SO_TIMESTAMPNS) was used; absent in older reports.
    if (get(any, "ticks.read_latency_ms") !== undefined)
      for (const q of ["p50", "p99"])
        row(`${name}: tick latency ${q} when the generator read it (ms)`, reports.map((r) => get(r, `ticks.read_latency_ms.${q}`)));
    row(`${name}: per-session mean tick latency min / max (ms)`, reports.map((r) => {
      const m = get(r, "ticks.session_mean_latency_ms");
      return m === undefined ? undefined : `${fmt(m.min)} / ${fmt(m.max)}`;
    }), false);
    row(`${name}: ticks missing (%)`, reports.map((r) => get(r, "ticks.loss_pct")));
    row(`${name}: position error max (ms)`, reports.map((r) => get(r, "position.abs_error_ms.max")));
    row(`${name}: position drift (ms/min)`, reports.map((r) => get(r, "position.drift_ms_per_min")));
    if (get(any, "probes.sent") > 0)
      row(`${name}: probe RTT p99 (ms)`, reports.map((r) => get(r, "probes.rtt_ms.p99")));
    row(`${name}: messages received /s`, reports.map((r) => get(r, "messages.per_second")));
    row(`${name}: server CPU (% of a core)`, reports.map((r) => get(r, "server.cpu_pct")));
    const perTick = reports.map((r) => cpuPerTick(r));
    row(`${name}: server CPU per delivered tick (µs)`, perTick);
    const floor = floorFor(devices);
    if (floor)
      row(
        `${name}: server CPU per delivered tick ÷ floor at ${floor.sockets} sockets (${fmt(floor.us)} µs)`,
        // A server that skips ticks spends its per-device costs (pings,
        // reads, timers) on fewer ticks: the ratio then overstates the cost
        // per tick, so it is marked.
        perTick.map((v, i) => {
          if (typeof v !== "number") return undefined;
          const loss = get(reports[i], "ticks.loss_pct");
          const joined = get(reports[i], "connect.joined");
          const text = `${(v / floor.us).toFixed(2)}×`;
          // Fewer devices than the floor's sockets: not the same load.
          if (joined !== undefined && joined < devices) return `${text} (${fmt(joined)} joined)`;
          return loss > LOOSE_LOSS_LIMIT_PCT ? `${text} (${fmt(loss)} % missing)` : text;
        }),
        false,
      );
    row(`${name}: server RSS (MiB)`, reports.map((r) => (get(r, "server.rss_end_kib") ?? NaN) / 1024));
    row(`${name}: generator CPU (%)`, reports.map((r) => get(r, "generator.cpu_pct")));
    // Absent in reports older than the epoll generator (bench/README.md, "Fourth pass").
    if (get(any, "generator.cpu_us_per_message") !== undefined)
      row(`${name}: generator CPU per message received (µs)`, reports.map((r) => get(r, "generator.cpu_us_per_message")));
    row(`${name}: generator loop lag p99 (ms)`, reports.map((r) => get(r, "generator.loop_lag_ms.p99")));
    row(`${name}: machine busy / softirq / host steal (% of all cores)`, reports.map((r) => {
      const b = get(r, "machine.busy_pct");
      return b === undefined
        ? undefined
        : `${b} / ${get(r, "machine.softirq_pct")} / ${get(r, "machine.steal_pct") ?? "–"}`;
    }), false);
    if (tag.startsWith("long-")) continue;  // one small size, run for long: not a capacity point
    servers.forEach((s, i) => {
      const r = reports[i];
      if (!r) return;
      const fast =
        get(r, "connect.joined") === devices && get(r, "ticks.latency_ms.p99") <= P99_LIMIT_MS;
      const loss = get(r, "ticks.loss_pct");
      if (fast && loss <= LOSS_LIMIT_PCT) capacity[s].strict = Math.max(capacity[s].strict, devices);
      if (fast && loss <= LOOSE_LOSS_LIMIT_PCT) capacity[s].loose = Math.max(capacity[s].loose, devices);
    });
    continue;
  }
  if (scenario === "idle") {
    const name = `idle ${get(any, "config.devices")} devices`;
    row(`${name}: joined`, reports.map((r) => get(r, "connect.joined")));
    row(`${name}: server RSS per device (KiB)`, reports.map((r) => get(r, "server.rss_per_device_kib")));
    row(`${name}: server RSS connected (MiB)`, reports.map((r) => (get(r, "server.rss_connected_kib") ?? NaN) / 1024));
    row(`${name}: server RSS before (MiB)`, reports.map((r) => (get(r, "server.rss_before_kib") ?? NaN) / 1024));
    row(`${name}: server CPU holding (%)`, reports.map((r) => get(r, "server.cpu_pct_holding")));
  }
}
row(
  `largest fanout run with tick p99 ≤ ${P99_LIMIT_MS} ms and ≤ ${LOSS_LIMIT_PCT} % missing (devices)`,
  servers.map((s) => capacity[s].strict),
);
row(
  `largest fanout run with tick p99 ≤ ${P99_LIMIT_MS} ms and ≤ ${LOOSE_LOSS_LIMIT_PCT} % missing (devices)`,
  servers.map((s) => capacity[s].loose),
);

const header = ["metric", ...servers.map((s) => label[s] || s), servers.length === 2 ? `ratio (${label[servers[0]] || servers[0]} ÷ ${label[servers[1]] || servers[1]})` : ""];
const lines = [
  `| ${header.join(" | ")} |`,
  `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ...rows.map((r) => `| ${r.join(" | ")} |`),
];
console.log(lines.join("\n"));
