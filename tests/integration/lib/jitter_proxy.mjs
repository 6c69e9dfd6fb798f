// A delay-and-jitter TCP proxy for the clock accuracy harness (issue 11 item
// 5): every connection accepted on a loopback port is relayed to `target`,
// each direction delaying every chunk it reads by `delayMs ± jitterMs`
// (uniform, from a seeded generator so that runs repeat).
//
// Jitter must not reorder a TCP stream: a chunk is released at
// max(previous release of that direction, arrival + delay + jitter), so
// bytes leave in the order they came and no chunk waits longer than
// delayMs + jitterMs after it arrived (the previous release was itself at
// most that long after an earlier arrival). A direction with more than
// MAX_QUEUED_BYTES in flight stops reading until the backlog drains, so
// a fast sender cannot grow the proxy's memory without bound.

import net from "node:net";
import { performance } from "node:perf_hooks";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const HOST = "127.0.0.1";
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const PRECISE_MS = 2;

// mulberry32: a small seeded PRNG, uniform in [0, 1).
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Per-direction statistics of the delays drawn (the delay the chunk was
// meant to get; the release may be later to keep the order), and of the
// delays the chunks really got (min/max actual, total lateness).
function newStats() {
  return {
    chunks: 0,
    bytes: 0,
    minDelayMs: Infinity,
    maxDelayMs: -Infinity,
    held: 0,
    minActualMs: Infinity,
    maxActualMs: -Infinity,
    sumLateMs: 0,
    maxLateMs: 0,
  };
}

// One direction of one connection: from `src` to `dst`. Chunks wait in a
// FIFO with their release times and one timer serves the head: Node's timers
// are kept per whole-millisecond duration against a cached loop time, so
// separate timers for close release times may fire out of order.
function relay(src, dst, { delayMs, jitterMs }, random, stats) {
  const queue = []; // { release, chunk, arrival } or { release, end: true }
  let lastRelease = 0;
  let queued = 0;
  let timer = null;
  let ended = false;

  const send = (item, now) => {
    if (dst.destroyed) return;
    if (item.end) {
      dst.end();
      return;
    }
    queued -= item.chunk.length;
    // How late the release is against its plan (order holding excluded):
    // timers and a busy event loop make the network the devices see worse
    // than the one drawn. Reported next to the drawn delays.
    const late = now - item.release;
    stats.minActualMs = Math.min(stats.minActualMs, now - item.arrival);
    stats.maxActualMs = Math.max(stats.maxActualMs, now - item.arrival);
    stats.sumLateMs += late;
    stats.maxLateMs = Math.max(stats.maxLateMs, late);
    dst.write(item.chunk);
  };
  const pump = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0].release <= now) send(queue.shift(), now);
    if (queued <= MAX_QUEUED_BYTES && src.isPaused() && !ended) src.resume();
    arm();
  };
  // Node's timers run on a whole-millisecond loop clock and fire up to ~1 ms
  // late, so a timer wakes the relay PRECISE_MS early and the last stretch
  // is polled with setImmediate (I/O still runs between polls).
  const arm = () => {
    if (timer || queue.length === 0) return;
    const wait = queue[0].release - performance.now();
    timer =
      wait > PRECISE_MS
        ? { timeout: setTimeout(pump, wait - PRECISE_MS) }
        : { immediate: setImmediate(pump) };
  };
  const disarm = () => {
    if (timer?.timeout) clearTimeout(timer.timeout);
    if (timer?.immediate) clearImmediate(timer.immediate);
    timer = null;
  };

  src.on("data", (chunk) => {
    const now = performance.now();
    const drawn = Math.max(0, delayMs + (2 * random() - 1) * jitterMs);
    const release = Math.max(lastRelease, now + drawn);
    if (release > now + drawn) stats.held += 1;
    lastRelease = release;
    stats.chunks += 1;
    stats.bytes += chunk.length;
    stats.minDelayMs = Math.min(stats.minDelayMs, drawn);
    stats.maxDelayMs = Math.max(stats.maxDelayMs, drawn);
    queued += chunk.length;
    // Due already (no delay, or the loop was late): sent now, not one timer
    // tick (≥ 1 ms in Node) later.
    if (queue.length === 0 && release <= now) {
      send({ chunk, arrival: now, release }, now);
      return;
    }
    if (queued > MAX_QUEUED_BYTES) src.pause();
    queue.push({ release, chunk, arrival: now });
    arm();
  });
  // A half-close travels behind the data it follows.
  src.on("end", () => {
    ended = true;
    queue.push({ release: Math.max(lastRelease, performance.now()), end: true });
    arm();
  });
  return () => {
    disarm();
    queue.length = 0;
  };
}

// Starts a proxy on a free loopback port relaying to `target` ({host, port}).
// `up` shapes client -> server, `down` server -> client; each
// { delayMs, jitterMs }. Returns { port, stats: {up, down}, close() }.
export function startJitterProxy({ target, up, down, seed = 1 }) {
  const random = seededRandom(seed);
  const stats = { up: newStats(), down: newStats(), connections: 0 };
  const sockets = new Set();
  const cancels = new Set();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    stats.connections += 1;
    const upstream = net.connect({ host: target.host ?? HOST, port: target.port, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const cancelUp = relay(client, upstream, up, random, stats.up);
    const cancelDown = relay(upstream, client, down, random, stats.down);
    cancels.add(cancelUp);
    cancels.add(cancelDown);
    const teardown = () => {
      cancelUp();
      cancelDown();
      cancels.delete(cancelUp);
      cancels.delete(cancelDown);
      client.destroy();
      upstream.destroy();
    };
    // A clean close travels as a half-close behind the data (relay's end
    // marker), so a side that closes does not cut the other's queue short;
    // an error ends the pair at once.
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
    client.on("error", teardown);
    upstream.on("error", teardown);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      resolve({
        port: server.address().port,
        stats,
        close: () =>
          new Promise((done) => {
            for (const cancel of cancels) cancel();
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

// `count` proxies (seeds seed, seed + 1, …) on an event loop of their own, in
// a worker thread: the clock harness's devices keep the main loop busy, and a
// proxy sharing it releases its chunks late (the lateness is reported either
// way). Resolves to { ports, stats(), close() }.
export function startJitterProxiesInWorker({ target, count, up, down, seed = 1 }) {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { jitterProxyPool: { target, count, up, down, seed } },
  });
  const request = (type) =>
    new Promise((resolve) => {
      worker.once("message", resolve);
      worker.postMessage({ type });
    });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", ({ ports }) =>
      resolve({
        ports,
        stats: async () => (await request("stats")).stats,
        close: async () => {
          await request("close");
          await worker.terminate();
        },
      }),
    );
  });
}

if (!isMainThread && workerData?.jitterProxyPool) {
  const { target, count, up, down, seed } = workerData.jitterProxyPool;
  const proxies = [];
  for (let i = 0; i < count; i += 1) {
    proxies.push(await startJitterProxy({ target, up, down, seed: seed + i }));
  }
  parentPort.on("message", async ({ type }) => {
    if (type === "stats") parentPort.postMessage({ stats: proxies.map((p) => p.stats) });
    if (type === "close") {
      await Promise.all(proxies.map((p) => p.close()));
      parentPort.postMessage({ closed: true });
    }
  });
  parentPort.postMessage({ ports: proxies.map((p) => p.port) });
}
