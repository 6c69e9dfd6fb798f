// The clock accuracy harness (issue 11 item 5): N devices, each behind its
// own delay-and-jitter proxy, estimate the server time with NTP's
// four-timestamp exchange over `time_sync` and are compared, at one instant,
// with the true server time.
//
// What is compared. Every device runs in this process, so they share one
// local clock, `localNow()` = performance.timeOrigin + performance.now() (ms,
// monotonic). Each device's estimate is an offset: server time ≈ localNow() +
// offset. At one instant T the harness reads the true server time S(T) from a
// reference and reports, per device, |T + offset_i − S(T)|, and the spread
// (max − min) of the positions the devices compute for a running song at T,
// position_i = startPosition + (T + offset_i − startsAt).
//
// The reference ("true server time") is one of:
//   - referenceFromOffset(serverOffsetUs): exact. The server's clock is
//     std::chrono::steady_clock (CLOCK_MONOTONIC on Linux) plus a constant,
//     server_offset_us; process.hrtime.bigint() reads the same CLOCK_MONOTONIC
//     here, so S = (hrtime_us + serverOffsetUs) / 1000 with no estimation.
//     Needs the server to publish server_offset_us (e.g. in its start-up log).
//   - directReference(exchange): the same NTP exchange on a direct loopback
//     connection (no proxy), the lowest-delay sample of a long burst. Its own
//     error is at most half that sample's round trip, reported as `boundMs`,
//     so figures below about that bound are not resolved by it.
//
// An `exchange(t1)` is a function that sends time_sync { t1 } and resolves to
// { t1, t2, t3, t4 } with t4 = localNow() when the ack arrived.

import { performance } from "node:perf_hooks";

export const localNow = () => performance.timeOrigin + performance.now();

// NTP's offset and round-trip delay from one exchange (RFC 5905 §8):
// offset = ((t2 − t1) + (t3 − t4)) / 2, delay = (t4 − t1) − (t3 − t2).
export function ntpSample({ t1, t2, t3, t4 }) {
  return { offset: (t2 - t1 + (t3 - t4)) / 2, delay: t4 - t1 - (t3 - t2) };
}

// A burst of `count` exchanges `gapMs` apart; keeps the lowest-delay sample,
// whose offset error is at most half its delay (and far less when the two
// directions' delays are alike).
export async function burstEstimate(exchange, { count = 16, gapMs = 15 } = {}) {
  let best = null;
  for (let i = 0; i < count; i += 1) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    const sample = ntpSample(await exchange(localNow()));
    if (!best || sample.delay < best.delay) best = sample;
  }
  return best;
}

// An exchange over a socket.io-client socket with an ack callback.
export function socketExchange(socket, timeoutMs = 5000) {
  return (t1) =>
    new Promise((resolve, reject) => {
      socket.timeout(timeoutMs).emit("time_sync", { t1 }, (err, ack) => {
        const t4 = localNow();
        if (err) return reject(new Error(`time_sync: no ack within ${timeoutMs} ms`));
        resolve({ t1: ack.t1, t2: ack.t2, t3: ack.t3, t4 });
      });
    });
}

// The same bursts through bandsync-client's estimator (client/bandsync-client.js
// ClockEstimator with the library's defaults: each burst's intersected offset
// bounds, fitted over the bursts) on the library's schedule, as an app using
// the library would estimate. `bursts` bursts in all, of exchanges `gapMs`
// apart: the first of `firstCount` (bandsync-client's firstSyncBurst, 32),
// then up to `settleBursts` more of `firstCount` each starting `settleGapMs`
// after the previous one ended (the library's settleBursts 2, settleGapMs
// 2000), then bursts of `count` starting `intervalMs` after the previous one
// ended (the library's resyncMs, 15 000), or `gapMs` after it when intervalMs
// is 0. settleBursts/settleGapMs default to $SYNC_SETTLE_BURSTS and
// $SYNC_SETTLE_GAP_MS (so that `bandsync bench sync` can pass them), else 2/2000.
export async function clientEstimate(
  exchange,
  {
    count = 16,
    firstCount = count,
    gapMs = 15,
    bursts = 1,
    intervalMs = 0,
    settleBursts = Number(process.env.SYNC_SETTLE_BURSTS ?? 2),
    settleGapMs = Number(process.env.SYNC_SETTLE_GAP_MS ?? 2000),
  } = {},
) {
  const { ClockEstimator } = await import("../../../client/bandsync-client.js");
  const est = new ClockEstimator();
  for (let b = 0; b < bursts; b += 1) {
    const settling = b <= settleBursts;
    if (b > 0) {
      const wait = b <= settleBursts ? settleGapMs : intervalMs > 0 ? intervalMs : gapMs;
      await new Promise((r) => setTimeout(r, wait));
    }
    for (let i = 0; i < (settling ? firstCount : count); i += 1) {
      if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
      est.add(await exchange(localNow()));
    }
    est.endBurst();
  }
  // An offset for the report instant, which follows within milliseconds.
  return { offset: est.offsetAt(localNow()), delay: est.rtt };
}

export function referenceFromOffset(serverOffsetUs) {
  const offset = BigInt(Math.round(serverOffsetUs));
  return {
    boundMs: 0,
    serverNowAt: () => Number(process.hrtime.bigint() / 1000n + offset) / 1000,
  };
}

// The reference as a local-clock offset measured directly: server time at
// local time T is T + offset, within ±boundMs.
export async function directReference(exchange, { count = 64, gapMs = 5 } = {}) {
  const best = await burstEstimate(exchange, { count, gapMs });
  return { boundMs: best.delay / 2, offset: best.offset, serverNowAt: null };
}

// Per-device errors and the position spread at one instant, from the devices'
// estimated offsets and the reference. `song` = { startsAt, startPosition }
// (server ms; a song started before the instant).
export function accuracyReport(estimates, reference, song = { startsAt: 0, startPosition: 0 }) {
  const local = localNow();
  const truth =
    reference.serverNowAt !== null && reference.serverNowAt !== undefined
      ? reference.serverNowAt()
      : local + reference.offset;
  const errors = estimates.map((e) => Math.abs(local + e.offset - truth));
  const positions = estimates.map((e) => song.startPosition + (local + e.offset - song.startsAt));
  return {
    devices: estimates.length,
    referenceBoundMs: reference.boundMs,
    errorsMs: errors,
    maxErrorMs: Math.max(...errors),
    positionSpreadMs: Math.max(...positions) - Math.min(...positions),
    roundTripsMs: estimates.map((e) => e.delay),
  };
}

// The whole run against a BandSync server at `url` (http://127.0.0.1:port):
// `devices` socket.io clients, each through its own proxy shaped by `up` and
// `down`, each estimating with a burst; the reference is exact when
// `serverOffsetUs` is given, else a direct loopback burst. Resolves to the
// accuracyReport plus the proxies' statistics.
export async function runSyncAccuracy({
  url,
  devices = 8,
  up = { delayMs: 0, jitterMs: 0 },
  down = { delayMs: 0, jitterMs: 0 },
  burst = { count: 16, gapMs: 15 },
  serverOffsetUs = null,
  seed = 1,
  estimator = "burst",
  proxyThread = "worker",
}) {
  const { io } = await import("socket.io-client");
  const { startJitterProxy, startJitterProxiesInWorker } = await import("./jitter_proxy.mjs");
  const target = new URL(url);
  const connect = (port) =>
    new Promise((resolve, reject) => {
      const s = io(`http://127.0.0.1:${port}`, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
      });
      s.once("connect", () => resolve(s));
      s.once("connect_error", reject);
    });
  // The proxies run in a worker thread of their own (proxyThread "worker")
  // or on this event loop, next to the devices ("main").
  let pool = null;
  const proxies = [];
  const sockets = [];
  try {
    const targetAddr = { host: target.hostname, port: Number(target.port) };
    let ports;
    if (proxyThread === "worker") {
      pool = await startJitterProxiesInWorker({ target: targetAddr, count: devices, up, down, seed });
      ports = pool.ports;
    } else {
      for (let i = 0; i < devices; i += 1) {
        proxies.push(await startJitterProxy({ target: targetAddr, up, down, seed: seed + i }));
      }
      ports = proxies.map((p) => p.port);
    }
    for (const port of ports) sockets.push(await connect(port));
    const estimate = estimator === "client" ? clientEstimate : burstEstimate;
    const estimates = await Promise.all(sockets.map((s) => estimate(socketExchange(s), burst)));
    // The truth is exact when the server's offset is known; else the
    // direct burst below is the reference. With both, the direct burst is an
    // independent check of the exact truth: the lowest-delay exchange on a
    // direct loopback connection (no proxy) must agree with it within half
    // that exchange's round trip.
    const exact = serverOffsetUs !== null ? referenceFromOffset(serverOffsetUs) : null;
    const report = exact ? accuracyReport(estimates, exact) : null;
    const direct = await connect(Number(target.port));
    sockets.push(direct);
    const check = await directReference(socketExchange(direct));
    let result;
    if (exact) {
      const local = localNow();
      result = {
        ...report,
        referenceCheck: {
          directMinusExactMs: local + check.offset - exact.serverNowAt(),
          boundMs: check.boundMs,
        },
      };
    } else {
      result = accuracyReport(estimates, check);
    }
    const stats = pool ? await pool.stats() : proxies.map((p) => p.stats);
    const directions = stats.flatMap((p) => [p.up, p.down]);
    return {
      ...result,
      proxyMaxLateMs: Math.max(...directions.map((d) => d.maxLateMs)),
      proxyMeanLateMs:
        directions.reduce((a, d) => a + d.sumLateMs, 0) /
        Math.max(1, directions.reduce((a, d) => a + d.chunks, 0)),
      proxyThread,
      proxy: stats,
    };
  } finally {
    for (const s of sockets) s.disconnect();
    await Promise.all(proxies.map((p) => p.close()));
    if (pool) await pool.close();
  }
}

// Starts `bin serve` on a free loopback port and reads the server clock's
// offset from its start-up log ("server_offset_us N"). Resolves to
// { url, serverOffsetUs, stop() }.
export async function spawnServer(bin) {
  const { spawn } = await import("node:child_process");
  const net = await import("node:net");
  const port = await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
  const proc = spawn(bin, ["serve", "--port", String(port), "--host", "127.0.0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const offset = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no server_offset_us in 10 s:\n${log}`)), 10_000);
    const onData = (chunk) => {
      log += chunk;
      const m = /server_offset_us (-?\d+)/.exec(log);
      if (m && /listening/.test(log)) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`${bin} exited (${code}):\n${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    serverOffsetUs: offset,
    stop: () =>
      new Promise((resolve) => {
        proc.once("exit", resolve);
        proc.kill("SIGTERM");
      }),
  };
}

// node tests/integration/lib/sync_harness.mjs (--url http://127.0.0.1:PORT | --bin PATH)
//   [--devices 8] [--delay 20] [--jitter 10] [--count 16] [--first-count 16] [--bursts 1]
//   [--burst-interval-ms 0] [--gap-ms 25]
//   [--offset-us N] [--estimator client|burst] [--seed 1] [--proxy-thread worker|main]
// With --bin it starts that server itself and takes the exact reference from
// its log; with --url the reference is exact only when --offset-us is given.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const delayMs = Number(arg("delay", 0));
  const jitterMs = Number(arg("jitter", 0));
  const bin = arg("bin", null);
  const server = bin ? await spawnServer(bin) : null;
  try {
    const report = await runSyncAccuracy({
      url: server ? server.url : arg("url", "http://127.0.0.1:3001"),
      devices: Number(arg("devices", 8)),
      up: { delayMs, jitterMs },
      down: { delayMs, jitterMs },
      burst: {
        count: Number(arg("count", 16)),
        firstCount: Number(arg("first-count", arg("count", 16))),
        gapMs: Number(arg("gap-ms", 25)), // bandsync-client's syncGapMs
        bursts: Number(arg("bursts", 1)),
        intervalMs: Number(arg("burst-interval-ms", 0)),
      },
      serverOffsetUs: server
        ? server.serverOffsetUs
        : arg("offset-us", null) === null
          ? null
          : Number(arg("offset-us")),
      estimator: arg("estimator", "client"),
      seed: Number(arg("seed", 1)),
      proxyThread: arg("proxy-thread", "worker"),
    });
    console.log(
      JSON.stringify({
        delayMs,
        jitterMs,
        estimator: arg("estimator", "client"),
        count: Number(arg("count", 16)),
        firstCount: Number(arg("first-count", arg("count", 16))),
        bursts: Number(arg("bursts", 1)),
        burstIntervalMs: Number(arg("burst-interval-ms", 0)),
        ...report,
      }),
    );
  } finally {
    if (server) await server.stop();
  }
}
