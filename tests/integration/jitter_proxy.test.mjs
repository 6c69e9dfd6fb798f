// The accuracy harness's own parts: the delay-and-jitter proxy (order, bytes,
// delay bounds, half-close) against a local echo server, and the NTP
// estimate through it against a local time server with a known offset.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import net from "node:net";
import { randomBytes } from "node:crypto";

import { startJitterProxy } from "./lib/jitter_proxy.mjs";
import {
  accuracyReport,
  burstEstimate,
  localNow,
  ntpSample,
} from "./lib/sync_harness.mjs";

const HOST = "127.0.0.1";

function listen(handler) {
  return new Promise((resolve) => {
    const server = net.createServer({ allowHalfOpen: true }, handler);
    server.listen(0, HOST, () => resolve(server));
  });
}

const echo = (socket) => {
  socket.pipe(socket);
};

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port, allowHalfOpen: true }, () => resolve(s));
    s.once("error", reject);
  });
}

// Lines received on `socket` until `n` have arrived.
function readLines(socket, n) {
  return new Promise((resolve, reject) => {
    const lines = [];
    let rest = "";
    socket.setEncoding("utf8");
    socket.on("data", (text) => {
      const parts = (rest + text).split("\n");
      rest = parts.pop();
      for (const p of parts) lines.push({ text: p, at: localNow() });
      if (lines.length >= n) resolve(lines);
    });
    socket.once("error", reject);
  });
}

describe("jitter proxy", () => {
  let server;
  before(async () => {
    server = await listen(echo);
  });
  after(() => new Promise((r) => server.close(r)));

  test("keeps order and delays every chunk within delay ± jitter each way", async () => {
    const delayMs = 20;
    const jitterMs = 10;
    const proxy = await startJitterProxy({
      target: { port: server.address().port },
      up: { delayMs, jitterMs },
      down: { delayMs, jitterMs },
      seed: 7,
    });
    const socket = await connect(proxy.port);
    socket.setNoDelay(true);
    const n = 200;
    const received = readLines(socket, n);
    const sentAt = [];
    // 1 ms apart, far closer than the jitter: without the ordering rule the
    // chunks would overtake one another.
    for (let i = 0; i < n; i += 1) {
      sentAt.push(localNow());
      socket.write(`${i}\n`);
      await new Promise((r) => setTimeout(r, 1));
    }
    const lines = await received;
    socket.destroy();
    await proxy.close();
    assert.deepEqual(
      lines.map((l) => Number(l.text)),
      Array.from({ length: n }, (_, i) => i),
    );
    for (let i = 0; i < n; i += 1) {
      const rtt = lines[i].at - sentAt[i];
      // Timers never fire early; the upper bound is generous for a loaded machine.
      assert.ok(rtt >= 2 * (delayMs - jitterMs) - 0.5, `line ${i}: rtt ${rtt} too short`);
      assert.ok(rtt <= 2 * (delayMs + jitterMs) + 250, `line ${i}: rtt ${rtt} too long`);
    }
    for (const dir of [proxy.stats.up, proxy.stats.down]) {
      assert.ok(dir.minDelayMs >= delayMs - jitterMs && dir.maxDelayMs <= delayMs + jitterMs);
      // The jitter is really applied, both ways round the mean.
      assert.ok(dir.minDelayMs < delayMs - jitterMs / 2, `min ${dir.minDelayMs}`);
      assert.ok(dir.maxDelayMs > delayMs + jitterMs / 2, `max ${dir.maxDelayMs}`);
      assert.ok(dir.held > 0, "the ordering rule never held a chunk back");
    }
  });

  test("relays bytes unchanged and a half-close after the data", async () => {
    const proxy = await startJitterProxy({
      target: { port: server.address().port },
      up: { delayMs: 2, jitterMs: 2 },
      down: { delayMs: 2, jitterMs: 2 },
    });
    const socket = await connect(proxy.port);
    const payload = randomBytes(3 * 1024 * 1024);
    const chunks = [];
    const ended = new Promise((resolve) => socket.once("end", resolve));
    socket.on("data", (c) => chunks.push(c));
    socket.end(payload);
    await ended;
    socket.destroy();
    await proxy.close();
    const got = Buffer.concat(chunks);
    assert.equal(got.length, payload.length);
    assert.ok(got.equals(payload), "bytes changed on the way");
    assert.ok(proxy.stats.up.chunks > 1);
  });
});

describe("NTP estimate", () => {
  test("offset and delay of one exchange", () => {
    // Server 1000 ms ahead; 3 ms up, 5 ms down, 0.5 ms inside the server.
    const s = ntpSample({ t1: 0, t2: 1003, t3: 1003.5, t4: 8.5 });
    assert.equal(s.delay, 8);
    assert.equal(s.offset, 999); // the 2 ms asymmetry halves into the offset
  });

  test("the burst keeps the lowest-delay sample", async () => {
    const delays = [
      [9, 1],
      [2, 2.5],
      [40, 3],
      [2.2, 2.2],
    ];
    let i = 0;
    const offset = 12345.678;
    const exchange = async (t1) => {
      const [u, d] = delays[i++];
      return { t1, t2: t1 + offset + u, t3: t1 + offset + u, t4: t1 + u + d };
    };
    const best = await burstEstimate(exchange, { count: 4, gapMs: 0 });
    assert.ok(Math.abs(best.delay - 4.4) < 1e-3, `delay ${best.delay}`);
    assert.ok(Math.abs(best.offset - offset) < 1e-3);
  });

  test("through the proxy the estimate is within half the best round trip", async () => {
    // A line-protocol time server whose clock is ours plus a known offset.
    const trueOffset = -3_600_000.25;
    const timeServer = await listen((socket) => {
      let rest = "";
      socket.setEncoding("utf8");
      socket.on("end", () => socket.end());
      socket.on("data", (text) => {
        const parts = (rest + text).split("\n");
        rest = parts.pop();
        for (const t1 of parts) {
          const t2 = localNow() + trueOffset;
          socket.write(`${t1} ${t2} ${localNow() + trueOffset}\n`);
        }
      });
    });
    const proxy = await startJitterProxy({
      target: { port: timeServer.address().port },
      up: { delayMs: 20, jitterMs: 10 },
      down: { delayMs: 20, jitterMs: 10 },
      seed: 3,
    });
    const socket = await connect(proxy.port);
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    let rest = "";
    let waiting = null;
    socket.on("data", (text) => {
      const parts = (rest + text).split("\n");
      rest = parts.pop();
      for (const line of parts) {
        const [t1, t2, t3] = line.split(" ").map(Number);
        waiting({ t1, t2, t3, t4: localNow() });
      }
    });
    const exchange = (t1) =>
      new Promise((resolve) => {
        waiting = resolve;
        socket.write(`${t1}\n`);
      });
    const best = await burstEstimate(exchange, { count: 16, gapMs: 5 });
    socket.destroy();
    await proxy.close();
    await new Promise((r) => timeServer.close(r));
    assert.ok(best.delay >= 20 - 0.5, `delay ${best.delay}: the proxy's minimum is 2 x 10 ms`);
    assert.ok(
      Math.abs(best.offset - trueOffset) <= best.delay / 2 + 0.1,
      `offset error ${Math.abs(best.offset - trueOffset)} beyond half of ${best.delay}`,
    );
    const report = accuracyReport([best, { offset: trueOffset + 0.5, delay: 1 }], {
      offset: trueOffset,
      boundMs: 0,
      serverNowAt: null,
    });
    assert.ok(Math.abs(report.errorsMs[1] - 0.5) < 1e-3);
    assert.ok(Math.abs(report.positionSpreadMs - Math.abs(best.offset - trueOffset - 0.5)) < 1e-3);
  });
});
