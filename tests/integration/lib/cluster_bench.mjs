// Cluster measurements (issue 15), by hand:
//   node tests/integration/lib/cluster_bench.mjs --bin build/app/bandsync \
//        --nodes 2 --sessions 50 --members 4 --seconds 10
// One redis-server and `--nodes` bandsync processes on loopback (cluster mode;
// with --nodes 1 --single, one plain Redis node without cluster mode, as the
// baseline). Each session's devices are spread over the nodes (device i on
// node i mod N); the first device joins on node 0, so node 0 owns every
// session, and device 1 (node 1 when N > 1) takes the lead and plays.
// Prints one JSON object:
//   tick latency p50/p99 (arrival time, performance.timeOrigin + now(), −
//   the tick's serverTimestamp; server time is wall time anchored at the
//   server's start, same machine, so the offset error is well under 1 ms), split into
//   devices on the owner node and on other nodes; Redis commands per second
//   per playing session (INFO stats over the window); with --failover, the
//   time from SIGKILL of node 0 to each session's first tick on a survivor.
import { io } from "socket.io-client";

const argv = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1]?.startsWith("--") || all[i + 1] === undefined ? "1" : all[i + 1]]);
    return acc;
  }, []),
);
const NODES = Number(argv.nodes ?? 2);
const SESSIONS = Number(argv.sessions ?? 20);
const MEMBERS = Number(argv.members ?? 4);
const SECONDS = Number(argv.seconds ?? 10);
const SINGLE = argv.single === "1";
const FAILOVER = argv.failover === "1";
if (argv.bin) process.env.BANDSYNC_BIN = argv.bin;
// Imported after --bin is in the environment (server.mjs reads it once).
const { freePort, sleep, waitListening, launch, cleanEnv, HOST } = await import("./server.mjs");
const { redisCommand, startRedis } = await import("./redis.mjs");

function pct(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2));
}

async function commandsProcessed(port) {
  const info = await redisCommand(port, "INFO", "stats");
  return Number(/total_commands_processed:(\d+)/.exec(info)[1]);
}

// INFO commandstats as Map(command -> calls).
async function commandStats(port) {
  const info = await redisCommand(port, "INFO", "commandstats");
  const out = new Map();
  for (const m of info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

const redis = await startRedis();
const nodes = [];
try {
  for (let i = 0; i < NODES; i++) {
    const port = await freePort();
    const env = cleanEnv({ REDIS_HOST: HOST, REDIS_PORT: String(redis.port), LOG_LEVEL: "warn",
      ...(SINGLE ? {} : { NODE_ID: `bench-${i}` }) });
    const p = launch(["serve", "--port", String(port), "--host", HOST], { env });
    if (!(await waitListening(p, port))) throw new Error(`node ${i} did not start: ${p.stderr()}`);
    nodes.push(Object.assign(p, { url: `http://${HOST}:${port}` }));
  }
  await sleep(1200); // heartbeats: every node knows the others

  const sessions = [];
  for (let s = 0; s < SESSIONS; s++) {
    const id = `bench-${process.pid}-${s}`;
    const devices = [];
    for (let m = 0; m < MEMBERS; m++) {
      const node = m % NODES;
      const socket = io(nodes[node].url, { forceNew: true, reconnection: false, transports: ["websocket"] });
      await new Promise((res, rej) => { socket.once("connect", res); socket.once("connect_error", rej); });
      const d = { socket, node, ticks: [] };
      socket.on("scroll_tick", (t) => d.ticks.push({ at: performance.timeOrigin + performance.now(), ts: t.serverTimestamp }));
      const joined = new Promise((res) => socket.once("snapshot", res));
      socket.emit("join_session", { sessionId: id, displayName: `m${m}` });
      await joined;
      devices.push(d);
    }
    const lead = devices[Math.min(1, MEMBERS - 1)];
    if (lead !== devices[0]) {
      const changed = new Promise((res) => devices[0].socket.once("role_changed", res));
      lead.socket.emit("set_role", { sessionId: id, role: "leader" });
      await changed;
    }
    sessions.push({ id, devices, lead });
  }
  for (const s of sessions) s.lead.socket.emit("play", { sessionId: s.id });
  await sleep(1000);
  for (const s of sessions) for (const d of s.devices) d.ticks.length = 0;
  const c0 = await commandsProcessed(redis.port);
  const s0 = await commandStats(redis.port);
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const c1 = await commandsProcessed(redis.port);
  const s1 = await commandStats(redis.port);
  const window = (Date.now() - t0) / 1000;

  const owner = [], other = [];
  let ticks = 0;
  for (const s of sessions) for (const d of s.devices) {
    for (const t of d.ticks) (d.node === 0 ? owner : other).push(t.at - t.ts);
    ticks += d.ticks.length;
  }
  const out = {
    nodes: NODES, cluster: !SINGLE, sessions: SESSIONS, members: MEMBERS, seconds: SECONDS,
    ticksPerDevicePerSecond: Number((ticks / (SESSIONS * MEMBERS) / window).toFixed(2)),
    latencyOwnerNodeMs: { p50: pct(owner, 50), p99: pct(owner, 99), n: owner.length },
    latencyOtherNodesMs: { p50: pct(other, 50), p99: pct(other, 99), n: other.length },
    redisCommandsPerSecondPerPlayingSession: Number(((c1 - c0) / window / SESSIONS).toFixed(2)),
    // The same by command (commands run inside scripts counted as such; the
    // INFO calls of this script are in it too).
    redisCommandsBreakdown: Object.fromEntries(
      [...s1]
        .map(([k, v]) => [k, Number(((v - (s0.get(k) ?? 0)) / window / SESSIONS).toFixed(2))])
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]),
    ),
  };

  if (FAILOVER && NODES > 1 && !SINGLE) {
    const killedAt = performance.timeOrigin + performance.now();
    process.kill(nodes[0].proc.pid, "SIGKILL");
    const gaps = await Promise.all(sessions.map((s) => new Promise((res) => {
      const d = s.devices.find((x) => x.node !== 0);
      const start = d.ticks.length;
      const timer = setInterval(() => {
        const fresh = d.ticks.slice(start).find((t) => t.at > killedAt + 150);
        if (fresh || performance.timeOrigin + performance.now() - killedAt > 5000) {
          clearInterval(timer);
          res(fresh ? fresh.at - killedAt : null);
        }
      }, 5);
    })));
    const ok = gaps.filter((g) => g !== null);
    out.failoverMs = { p50: pct(ok, 50), max: ok.length ? Math.max(...ok) : null, resumed: ok.length, of: gaps.length };
  }
  console.log(JSON.stringify(out));
  for (const s of sessions) for (const d of s.devices) d.socket.close();
} finally {
  for (const n of nodes) await n.kill();
  await redis.kill();
}
process.exit(0);
