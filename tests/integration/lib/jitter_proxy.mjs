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

const HOST = "127.0.0.1";
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

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
  const queue = []; // { release, chunk } or { release, end: true }
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
    // What the chunk really got: the timer fires on the event loop's
    // whole-millisecond clock, so late by up to ~1 ms, more when the loop
    // is busy. Reported next to the drawn delays.
    const actual = now - item.arrival;
    stats.minActualMs = Math.min(stats.minActualMs, actual);
    stats.maxActualMs = Math.max(stats.maxActualMs, actual);
    stats.sumLateMs += actual - item.drawn;
    stats.maxLateMs = Math.max(stats.maxLateMs, actual - item.drawn);
    dst.write(item.chunk);
  };
  const pump = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0].release <= now) send(queue.shift(), now);
    if (queued <= MAX_QUEUED_BYTES && src.isPaused() && !ended) src.resume();
    arm();
  };
  const arm = () => {
    if (timer || queue.length === 0) return;
    timer = setTimeout(pump, Math.max(0, queue[0].release - performance.now()));
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
      send({ chunk, arrival: now, drawn }, now);
      return;
    }
    if (queued > MAX_QUEUED_BYTES) src.pause();
    queue.push({ release, chunk, arrival: now, drawn });
    arm();
  });
  // A half-close travels behind the data it follows.
  src.on("end", () => {
    ended = true;
    queue.push({ release: Math.max(lastRelease, performance.now()), end: true });
    arm();
  });
  return () => {
    if (timer) clearTimeout(timer);
    timer = null;
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
