// Engine.IO transports under real-world timing and abuse, against
// `bandsync conformance` (Socket.IO on /socket.io/, "message-with-ack"
// answered with its arguments) with a production-like heartbeat
// (pingInterval 10 s): a reply that waits for the next ping shows up as a
// multi-second delay.
//
// - the polling → WebSocket upgrade must not hold replies back;
// - no second transport may attach to a session once it is upgraded;
// - a client that stops reading loses its TCP connection soon after its
//   session closes;
// and, against `bandsync serve` with chosen settings: the per-address
// handshake and connection limits (a NAT's reconnect storm passes with the
// defaults), the Origin check of WebSocket upgrades, slow request headers,
// and descriptor pressure under a 1024 soft limit.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

import net from "node:net";
import { execFileSync, spawn } from "node:child_process";

import { serverPerSuite, startServer } from "./lib/server.mjs";
import { SocketJar, WireSocket, rawHttpRequest, sleep, withTimeout } from "./lib/wire.mjs";
import { BANDSYNC_BIN, cleanEnv, freePort, launch, waitListening } from "./lib/bandsync.mjs";
import { emptyCwd } from "./lib/server.mjs";

const HOST = "127.0.0.1";

const WAIT_MS = 20_000;
const jar = new SocketJar();
const clients = new Set();

// socket.io's default connectTimeout (45 s), not the protocol suite's 1 s: 40
// default clients connecting at once on a loaded machine can take over a
// second between handshake and CONNECT, and the server rightly closes them.
const server = serverPerSuite(
  ["conformance", "--ping-interval", "10000", "--ping-timeout", "5000", "--connect-timeout", "45000"],
  () => {
    for (const c of clients) c.disconnect();
    clients.clear();
    jar.closeAll();
  },
);

function connectDefault() {
  // socket.io-client's defaults: polling first, then the upgrade, as browsers do.
  const socket = io(server.url, { forceNew: true, reconnection: false, timeout: WAIT_MS });
  clients.add(socket);
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
    }),
    WAIT_MS,
    "connect",
  );
}

describe("polling → WebSocket upgrade", () => {
  // Before the fix a reply emitted around the upgrade waited for the next
  // ping: here (pingInterval 10 s, asked 0–300 ms after connect) 9.7–10 s.
  // What this checks is that no reply waits for a ping or a timer; how fast
  // a reply is belongs to bench/. The bound is 1 s plus twice the round trip
  // of a control (an ack asked at the same moment on a client already on
  // WebSocket), so that a loaded machine (parallel builds) slows both alike,
  // and a reply held for a ping still fails unless the control itself took
  // over 4 s.
  it("answers every ack without waiting for a ping, whatever the delay after connect (40 clients, 0–300 ms)", async (t) => {
    const COUNT = 40;
    const control = io(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    clients.add(control);
    await withTimeout(new Promise((resolve) => control.once("connect", resolve)), WAIT_MS, "control connect");
    const timed = async (socket, value) => {
      const t = performance.now();
      const reply = await socket.timeout(WAIT_MS).emitWithAck("message-with-ack", value);
      assert.equal(reply, value);
      return performance.now() - t;
    };
    const results = await Promise.all(
      Array.from({ length: COUNT }, async (_, i) => {
        const socket = await connectDefault();
        const delay = Math.round((i * 300) / (COUNT - 1));
        await sleep(delay);
        const [took, controlTook] = await Promise.all([timed(socket, i), timed(control, 1000 + i)]);
        return { delay, took, controlTook, transport: socket.io.engine.transport.name };
      }),
    );
    // The figures (issue 8 asked for every reply under 50 ms on a quiet
    // machine): in the test log, not asserted.
    const took = results.map((r) => r.took).sort((x, y) => x - y);
    const controlTook = results.map((r) => r.controlTook).sort((x, y) => x - y);
    const under50 = took.filter((x) => x < 50).length;
    t.diagnostic(
      `reply ms: median ${took[took.length >> 1].toFixed(2)}, max ${took.at(-1).toFixed(2)}; ` +
        `control (already on WebSocket) median ${controlTook[controlTook.length >> 1].toFixed(2)}, ` +
        `max ${controlTook.at(-1).toFixed(2)}; ${under50}/${took.length} under 50 ms; ` +
        `${results.filter((r) => r.transport === "websocket").length}/${took.length} on WebSocket`,
    );
    const slow = results.filter((r) => r.took >= 1_000 + 2 * r.controlTook);
    assert.deepEqual(
      slow.map(
        (r) =>
          `delay ${r.delay} ms: reply after ${r.took.toFixed(1)} ms on ${r.transport} ` +
          `(control ${r.controlTook.toFixed(1)} ms)`,
      ),
      [],
    );
  });
});

// A polling session upgraded to WebSocket by hand: resolves { sid, socket }.
async function upgradedSession() {
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  const sid = JSON.parse(body.slice(1)).sid;
  const socket = jar.add(new WireSocket(`${server.wsUrl}/socket.io/?EIO=4&transport=websocket&sid=${sid}`));
  await socket.opened;
  socket.send("2probe");
  assert.equal(await socket.next(), "3probe");
  socket.send("5");
  // Let "5" be read before the next request: a connect proves it was.
  socket.send("40");
  assert.ok((await socket.next()).startsWith("40"));
  return { sid, socket };
}

async function stillWorks(socket) {
  socket.send('421["message-with-ack","still here"]');
  for (;;) {
    const frame = await socket.next();
    if (frame.startsWith("4")) {
      if (frame.startsWith("43")) {
        assert.equal(frame, '431["still here"]');
        return;
      }
    }
  }
}

describe("no second transport on an upgraded session", () => {
  it("refuses polling GET and POST with the session id after the upgrade (400)", async () => {
    const { sid, socket } = await upgradedSession();
    const get = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(get.status, 400);
    assert.equal((await get.json()).code, 3);
    const post = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      body: "41",
    });
    assert.equal(post.status, 400);
    await stillWorks(socket);
  });

  it("closes a second WebSocket with the session id, leaving the first one untouched", async () => {
    const { sid, socket } = await upgradedSession();
    const second = jar.add(new WireSocket(`${server.wsUrl}/socket.io/?EIO=4&transport=websocket&sid=${sid}`));
    // As the reference server: the handshake completes, then the socket closes.
    await second.opened;
    await withTimeout(second.closed, WAIT_MS, "the second WebSocket's close");
    await stillWorks(socket);
  });

  it("closes a WebSocket with the id of a session opened on WebSocket", async () => {
    const first = jar.add(new WireSocket(`${server.wsUrl}/socket.io/?EIO=4&transport=websocket`));
    const open = await first.next();
    const sid = JSON.parse(open.slice(1)).sid;
    first.send("40");
    assert.ok((await first.next()).startsWith("40"));
    const second = jar.add(new WireSocket(`${server.wsUrl}/socket.io/?EIO=4&transport=websocket&sid=${sid}`));
    await second.opened;
    await withTimeout(second.closed, WAIT_MS, "the second WebSocket's close");
    await stillWorks(first);
  });
});

// ---------------------------------------------------------------------------
// Raw TCP helpers.

// Opens a TCP connection and completes a WebSocket handshake on `target` by
// hand; resolves { socket, head } with the socket paused right after the
// 101 (nothing more is read until the test resumes it).
function rawWebSocket(port, target, headers = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: HOST });
      let buf = Buffer.alloc(0);
      socket.on("error", reject);
      socket.on("data", function onData(d) {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.pause();
        socket.off("error", reject);
        // A reset may arrive while the test is not reading: keep it.
        socket.on("error", (err) => (socket.resetError = err));
        resolve({ socket, head: buf.subarray(0, end).toString("latin1") });
      });
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    }),
    WAIT_MS,
    `WebSocket handshake on ${target}`,
  );
}

// Resolves "reset" or "end" once the peer has closed `socket`, "open" if it
// is still connected after `ms` (reading resumes: buffered data is drained).
function closedWithin(socket, ms) {
  return new Promise((resolve) => {
    const done = (how) => {
      clearTimeout(timer);
      resolve(how);
    };
    if (socket.resetError) return resolve("reset");
    if (socket.destroyed) return resolve("end");
    const timer = setTimeout(() => done("open"), ms);
    socket.on("error", () => done("reset"));
    socket.on("end", () => done("end"));
    socket.on("close", () => done("end"));
    socket.on("data", () => {});
    socket.resume();
  });
}

describe("a client that stops reading", () => {
  it("loses its TCP connection within a bounded time after its session closed (ping timeout)", async () => {
    // pingInterval 300 + pingTimeout 200: the session closes ~0.5 s in.
    const eio = await startServer(["conformance", "--engineio"]);
    try {
      const { socket, head } = await rawWebSocket(eio.port, "/engine.io/?EIO=4&transport=websocket");
      assert.match(head, /^HTTP\/1\.1 101/);
      // Never read, never answer a ping. Session closed at ~0.5 s; the close
      // frame is never answered either: the server must give up on it.
      await sleep(4_500);
      const how = await closedWithin(socket, 500);
      socket.destroy();
      assert.notEqual(how, "open", "the server still holds the TCP connection 5 s after the session closed");
    } finally {
      await eio.stop();
    }
  });
});

// The server's side of one TCP connection as the kernel sees it: [] when
// it is gone, else { state, sendQ } per socket (ss from iproute2).
function serverSide(serverPort, clientPort) {
  const out = execFileSync("ss", ["-tanH", `( sport = :${serverPort} and dport = :${clientPort} )`]).toString();
  return out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [state, , sendQ] = l.trim().split(/\s+/);
      return { state, sendQ: Number(sendQ) };
    });
}

// A masked client text frame (mask key 0: the payload goes as it is).
function clientTextFrame(text) {
  const payload = Buffer.from(text);
  const head = Buffer.alloc(14);
  head[0] = 0x81;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(payload.length), 2);
  head.writeUInt32BE(0, 10);
  return Buffer.concat([head, payload]);
}

describe("a client that stops reading while the server has megabytes for it", () => {
  // The case: the kernel send queue full (~3.7 MB) when the session
  // closes, so not even the close frame can be written. The server must reset
  // the connection (and so free the queue) instead of waiting for a write
  // that never completes.
  it("loses its TCP connection, and the server its send queue, within a bounded time after the session closed", async (t) => {
    // pingInterval 300 + pingTimeout 200: the session closes ~0.5 s in, if
    // the 4 MiB transport queue has not closed it before.
    const eio = await startServer(["conformance", "--engineio"]);
    try {
      const { socket, head } = await rawWebSocket(eio.port, "/engine.io/?EIO=4&transport=websocket");
      assert.match(head, /^HTTP\/1\.1 101/);
      const clientPort = socket.localPort;
      // 12 MB of echo requests, never reading the answers.
      const chunk = clientTextFrame("4" + "x".repeat(100_000));
      for (let i = 0; i < 120; i++) socket.write(chunk);
      let peakSendQ = 0;
      const started = performance.now();
      let gone = false;
      while (performance.now() - started < 10_000) {
        const side = serverSide(eio.port, clientPort);
        for (const x of side) peakSendQ = Math.max(peakSendQ, x.sendQ);
        if (side.every((x) => x.state === "TIME-WAIT" && x.sendQ === 0)) {
          gone = true;
          break;
        }
        await sleep(100);
      }
      const took = performance.now() - started;
      const left = serverSide(eio.port, clientPort);
      socket.destroy();
      // The scenario was reached: the server had a full send queue for us.
      assert.ok(peakSendQ > 256 * 1024, `the server's send queue peaked at ${peakSendQ} bytes only`);
      t.diagnostic(`server send queue peaked at ${peakSendQ} bytes; ${gone ? "released" : "still held"} ${took.toFixed(0)} ms after the writes`);
      assert.ok(gone, `10 s later the server still holds ${JSON.stringify(left)}`);
      // The session closes within ~0.5 s, the close handshake gets 3 s; the
      // rest is margin for a loaded machine (a server that waits for the
      // write never lets go at all).
      assert.ok(took < 8_000, `released after ${took.toFixed(0)} ms`);
    } finally {
      await eio.stop();
    }
  });
});

// ---------------------------------------------------------------------------
// `bandsync serve` with chosen settings.

async function serve(env = {}) {
  const port = await freePort();
  const args = ["serve", "--port", String(port), "--host", HOST];
  const s = launch(args, { env: cleanEnv(env) });
  assert.ok(await waitListening(s, port, HOST), `the server did not start; stderr:\n${s.stderr()}`);
  return { ...s, port, url: `http://${HOST}:${port}`, wsUrl: `ws://${HOST}:${port}` };
}

async function stopped(s) {
  const exit = await s.stop();
  assert.equal(exit.code, 0, `serve exited with ${JSON.stringify(exit)}; stderr:\n${s.stderr()}`);
}

// A polling handshake then a client close: one reconnect's worth of
// admission. Resolves the handshake's HTTP status.
async function handshakeAndLeave(url) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(WAIT_MS) });
  const body = await res.text();
  if (res.status !== 200) return res.status;
  const sid = JSON.parse(body.slice(1)).sid;
  const bye = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: "POST",
    body: "1",
    signal: AbortSignal.timeout(WAIT_MS),
  });
  await bye.text();
  return 200;
}

describe("handshake and connection limits", () => {
  // What a venue needs is the default burst (HANDSHAKE_BURST, 1,000): every
  // phone behind the NAT re-handshakes within seconds. The refill is slowed
  // to 1/s here so that the burst alone is measured, however slowly a loaded
  // machine sends the storm (at the default 100/s, 1,100 handshakes spread
  // over 10 s would pass with any burst of 100 or more).
  it("a NAT's reconnect storm passes: the default burst admits 1,000 handshakes from one address, then refuses; /health still 200", async () => {
    const s = await serve({ HANDSHAKE_RATE: "1" });
    try {
      const started = performance.now();
      const statuses = [];
      const BATCH = 50;
      for (let i = 0; i < 1_000; i += BATCH) {
        statuses.push(...(await Promise.all(Array.from({ length: BATCH }, () => handshakeAndLeave(s.url)))));
      }
      const refused = statuses.filter((x) => x !== 200);
      assert.deepEqual(refused, [], `${refused.length} of ${statuses.length} handshakes refused`);
      // At most one token per second came back while the storm ran.
      const refilled = Math.ceil((performance.now() - started) / 1000) + 1;
      const after = [];
      for (let i = 0; i < refilled + 5; i++) after.push(await handshakeAndLeave(s.url));
      assert.ok(after.includes(429), `the bucket never refused past its burst: ${after.join(",")}`);
      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 200);
      await health.text();
    } finally {
      await stopped(s);
    }
  });

  it("the handshake bucket refuses beyond its burst with 429, an Engine.IO body and Retry-After", async () => {
    const s = await serve({ HANDSHAKE_BURST: "3", HANDSHAKE_RATE: "1" });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await handshakeAndLeave(s.url), 200, `handshake ${i + 1} of 3`);
      const res = await fetch(`${s.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(res.status, 429);
      assert.deepEqual(await res.json(), { code: 7, message: "Too many handshakes" });
      assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
      // The same bucket covers WebSockets without a session id.
      const { head } = await rawWebSocket(s.port, "/socket.io/?EIO=4&transport=websocket");
      assert.match(head, /^HTTP\/1\.1 429/);
      // Plain routes are not affected.
      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 200);
      await health.text();
      // One token back after a second.
      await sleep(1_100);
      assert.equal(await handshakeAndLeave(s.url), 200);
    } finally {
      await stopped(s);
    }
  });

  it("the per-address connection cap refuses the next connection with 429", async () => {
    const s = await serve({ MAX_CONNECTIONS_PER_ADDRESS: "3" });
    const held = [];
    try {
      for (let i = 0; i < 3; i++) {
        const { socket, head } = await rawWebSocket(s.port, "/socket.io/?EIO=4&transport=websocket");
        assert.match(head, /^HTTP\/1\.1 101/, `connection ${i + 1} of 3`);
        held.push(socket);
      }
      const res = await rawHttpRequest(s.port, { method: "GET", target: "/health" });
      assert.equal(res.status, 429, "the 4th connection");
      assert.deepEqual(JSON.parse(res.body), { code: 7, message: "Too many connections" });
      held.pop().destroy();
      await sleep(200);
      const ok = await rawHttpRequest(s.port, { method: "GET", target: "/health" });
      assert.equal(ok.status, 200, "a connection closed, another one may open");
    } finally {
      for (const h of held) h.destroy();
      await stopped(s);
    }
  });
});

describe("CORS", () => {
  const listed = "http://band.example";
  const other = "http://evil.example";

  it("with the default *, answers * without credentials on Engine.IO and plain routes", async () => {
    const s = await serve();
    try {
      for (const target of ["/socket.io/?EIO=4&transport=polling", "/health"]) {
        const res = await fetch(`${s.url}${target}`, { headers: { Origin: other } });
        assert.equal(res.headers.get("access-control-allow-origin"), "*", target);
        assert.equal(res.headers.get("access-control-allow-credentials"), null, target);
        await res.text();
      }
    } finally {
      await stopped(s);
    }
  });

  it("with a list, reflects listed origins with credentials and refuses other origins' WebSockets (403)", async () => {
    const s = await serve({ CORS_ORIGIN: `${listed}, http://other-band.example` });
    try {
      for (const target of ["/socket.io/?EIO=4&transport=polling", "/health"]) {
        const ok = await fetch(`${s.url}${target}`, { headers: { Origin: listed } });
        assert.equal(ok.headers.get("access-control-allow-origin"), listed, target);
        assert.equal(ok.headers.get("access-control-allow-credentials"), "true", target);
        assert.match(ok.headers.get("vary") ?? "", /Origin/, target);
        await ok.text();
        const no = await fetch(`${s.url}${target}`, { headers: { Origin: other } });
        assert.equal(no.headers.get("access-control-allow-origin"), null, target);
        await no.text();
      }
      const pre = await fetch(`${s.url}/socket.io/?EIO=4&transport=polling`, {
        method: "OPTIONS",
        headers: { Origin: listed, "Access-Control-Request-Method": "POST" },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), listed);

      const { head } = await rawWebSocket(s.port, "/socket.io/?EIO=4&transport=websocket", { Origin: other });
      assert.match(head, /^HTTP\/1\.1 403/);
      assert.match(head, /application\/json/);

      for (const headers of [{ Origin: listed }, {}]) {
        const ws = jar.add(new WireSocket(`${s.wsUrl}/socket.io/?EIO=4&transport=websocket`, { headers }));
        assert.ok((await ws.next()).startsWith("0{"), `WebSocket with ${JSON.stringify(headers)} opens`);
      }
    } finally {
      jar.closeAll();
      await stopped(s);
    }
  });
});

describe("slow request headers", () => {
  it("a header trickled byte by byte is cut after HTTP_HEADER_TIMEOUT", async () => {
    const s = await serve({ HTTP_HEADER_TIMEOUT: "1000" });
    try {
      const socket = net.connect({ port: s.port, host: HOST });
      await new Promise((resolve) => socket.once("connect", resolve));
      const closed = new Promise((resolve) => socket.once("close", resolve));
      socket.on("error", () => {});
      const started = performance.now();
      socket.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write("a");
      }, 100);
      const how = await Promise.race([closed.then(() => "closed"), sleep(5_000).then(() => "open")]);
      clearInterval(drip);
      socket.destroy();
      assert.equal(how, "closed", "a slowloris header is still held after 5 s");
      assert.ok(performance.now() - started < 3_000, "closed within about the header timeout");
    } finally {
      await stopped(s);
    }
  });
});

describe("descriptor pressure", () => {
  const hard = Number(execFileSync("sh", ["-c", "ulimit -Hn"]).toString().trim());
  const DEVICES = 5_000;

  // Within 64 descriptors of a limit that cannot be raised (soft = hard),
  // new Engine.IO sessions get 503 code 6 and one warning names the limit,
  // while /health and the sessions already open keep working.
  it("near a limit it cannot raise: new sessions refused with 503 code 6 and a warning; /health and open sessions go on", async (t) => {
    const LIMIT = 256;
    const port = await freePort();
    const proc = spawn(
      "prlimit",
      [`--nofile=${LIMIT}:${LIMIT}`, BANDSYNC_BIN, "serve", "--port", String(port), "--host", HOST],
      { env: cleanEnv(), cwd: emptyCwd(), stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    proc.stderr.on("data", (d) => (stderr = (stderr + d).slice(-16_000)));
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    const held = [];
    const witnesses = new SocketJar();
    try {
      const alive = { alive: () => proc.exitCode === null && proc.signalCode === null };
      assert.ok(await waitListening(alive, port, HOST), `the server did not start; stderr:\n${stderr}`);
      const witness = witnesses.add(new WireSocket(`ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`));
      assert.ok((await witness.next()).startsWith("0{"));
      witness.send("40");
      assert.ok((await witness.next()).startsWith("40"));
      let opened = 0;
      let refused = null;
      while (opened < LIMIT) {
        const { socket, head } = await rawWebSocket(port, "/socket.io/?EIO=4&transport=websocket");
        held.push(socket);
        if (!/^HTTP\/1\.1 101/.test(head)) {
          refused = head;
          break;
        }
        opened += 1;
      }
      t.diagnostic(`${opened} WebSocket sessions opened (and one before them), then refused`);
      assert.match(refused ?? "none refused", /^HTTP\/1\.1 503/, `after ${opened} sessions`);
      assert.ok(opened > LIMIT / 2 && opened < LIMIT - 32, `refused after ${opened} of ${LIMIT} descriptors`);
      const handshake = await rawHttpRequest(port, { method: "GET", target: "/socket.io/?EIO=4&transport=polling" });
      assert.equal(handshake.status, 503);
      assert.deepEqual(JSON.parse(handshake.body), { code: 6, message: "Server at capacity" });
      const health = await rawHttpRequest(port, { method: "GET", target: "/health" });
      assert.equal(health.status, 200, "the reserve keeps /health answering");
      witness.send('42["latency_probe",{"timestamp":1}]');
      for (;;) {
        const frame = await witness.next();
        if (frame.startsWith('42["latency_response"')) break;
      }
      const warnings = stderr.split("\n").filter((l) => /descriptors in use of the 256 allowed/.test(l));
      assert.equal(warnings.length, 1, `one warning per 10 s; stderr:\n${stderr.slice(-2_000)}`);
      assert.match(warnings[0], /new Engine\.IO sessions refused/);
    } finally {
      for (const h of held) h.destroy();
      witnesses.closeAll();
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  });

  it(
    `started under a 1024 soft limit, holds ${DEVICES} idle devices and still answers /health`,
    { skip: !(hard >= DEVICES + 1_000) && `hard open-file limit ${hard} is below ${DEVICES + 1_000}` },
    async () => {
      const port = await freePort();
      // As a service manager would start it: soft 1024, hard as the system allows.
      const proc = spawn(
        "prlimit",
        [`--nofile=1024:${hard}`, BANDSYNC_BIN, "serve", "--port", String(port), "--host", HOST],
        { env: cleanEnv({ HANDSHAKE_BURST: String(DEVICES * 2) }), cwd: emptyCwd(), stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      proc.stderr.on("data", (d) => (stderr = (stderr + d).slice(-16_000)));
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      const devices = new SocketJar();
      try {
        const alive = { alive: () => proc.exitCode === null && proc.signalCode === null };
        assert.ok(await waitListening(alive, port, HOST), `the server did not start; stderr:\n${stderr}`);
        assert.match(stderr, /open-file limit raised from 1024/);
        let opened = 0;
        const BATCH = 250;
        for (let i = 0; i < DEVICES; i += BATCH) {
          const batch = Array.from({ length: BATCH }, () =>
            devices.add(new WireSocket(`ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`)),
          );
          const frames = await Promise.all(batch.map((d) => d.next(20_000).catch((e) => e)));
          opened += frames.filter((f) => typeof f === "string" && f.startsWith("0{")).length;
        }
        assert.equal(opened, DEVICES, `devices connected; stderr:\n${stderr.slice(-2_000)}`);
        const health = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(WAIT_MS) });
        assert.equal(health.status, 200);
        const body = await health.json();
        assert.equal(body.status, "healthy");
        const metrics = await (await fetch(`http://${HOST}:${port}/metrics`)).text();
        assert.match(metrics, new RegExp(`^bandsync_connections ${DEVICES}$`, "m"));
      } finally {
        devices.closeAll();
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  );
});
