// Connection state recovery with the real socket.io-client (4.8.1) against
// `bandsync conformance --recovery-window N`: `socket.recovered`, the same id,
// missed events exactly once and in order before `connect`, volatile events
// never replayed, an expired window, and links that die in the ways Wi-Fi
// links do, played by lib/tcp_proxy.mjs: a frozen link the server has not
// noticed (a new connection takes over), a cut (reset both ways), a stall
// longer than the ping timeout.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { serverPerSuite, sleep } from "./lib/server.mjs";
import { TcpProxy } from "./lib/tcp_proxy.mjs";
import { withTimeout } from "./lib/wire.mjs";

const WAIT_MS = 10_000;

const clients = new Set();
const proxies = new Set();

function cleanup() {
  for (const c of clients) {
    c.disconnect();
    c.io.engine?.close();
  }
  clients.clear();
  for (const p of proxies) p.stop();
  proxies.clear();
}

// A client that logs every event and every `connect`, in the order the
// application sees them.
function client(url, options = {}) {
  const socket = io(url, {
    forceNew: true,
    reconnectionDelay: 300,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
    timeout: WAIT_MS,
    ...options,
  });
  clients.add(socket);
  const log = [];
  socket.onAny((name, ...args) => log.push({ name, args }));
  socket.on("connect", () =>
    log.push({ name: "connect", id: socket.id, recovered: socket.recovered }),
  );
  return { socket, log };
}

function waitFor(predicate, what, ms = WAIT_MS) {
  return withTimeout(
    (async () => {
      while (!predicate()) await sleep(10);
    })(),
    ms,
    what,
  );
}

async function connected(c, count = 1) {
  await waitFor(
    () => c.log.filter((e) => e.name === "connect").length >= count && c.socket.connected,
    `connect #${count}`,
  );
}

function stats(c) {
  return withTimeout(c.socket.emitWithAck("recovery-stats"), WAIT_MS, "recovery-stats");
}

// The helper client `b` (the rest of the band) uses WebSocket only: its
// emits must not wait on a polling → WebSocket upgrade, which can stall until
// the next ping (10 s in the first suite) in this Engine.IO version.

// The `broadcast-back` payloads in the log, with where they sit.
function broadcasts(log) {
  return log
    .map((e, i) => ({ ...e, i }))
    .filter((e) => e.name === "broadcast-back")
    .map((e) => ({ n: e.args[0].n, offset: e.args[1], i: e.i }));
}

function connectIndexes(log) {
  return log.map((e, i) => (e.name === "connect" ? i : -1)).filter((i) => i >= 0);
}

// `a` missed `sent` while away: each exactly once, in order, after the first
// connect and before the second; each with its offset.
function assertReplayed(a, sent) {
  const [, second] = connectIndexes(a.log);
  assert.ok(second !== undefined, `no second connect: ${JSON.stringify(a.log)}`);
  const got = broadcasts(a.log);
  assert.deepEqual(
    got.map((b) => b.n),
    sent,
    `missed events not delivered exactly once in order: ${JSON.stringify(a.log)}`,
  );
  for (const b of got) {
    assert.ok(b.i < second, `event ${b.n} came after connect: ${JSON.stringify(a.log)}`);
    assert.equal(typeof b.offset, "string", "a stored event carries its offset last");
  }
}

// Device `a` (in room "band") through its own TCP proxy, `b` direct.
async function deviceBehindProxy(server) {
  const proxy = await TcpProxy.start(server.port);
  proxies.add(proxy);
  const a = client(`http://127.0.0.1:${proxy.port}`, { transports: ["websocket"] });
  const b = client(server.url, { transports: ["websocket"] });
  await connected(a);
  await connected(b);
  await a.socket.emitWithAck("join", "band");
  return { proxy, a, b, id: a.socket.id };
}

async function broadcastFrom(b, room, ns) {
  for (const n of ns) await withTimeout(b.socket.emitWithAck("broadcast", room, { n }), WAIT_MS, "broadcast");
}

describe("recovery after a transport close", () => {
  const server = serverPerSuite(
    ["conformance", "--recovery-window", "10000", "--ping-interval", "10000", "--ping-timeout", "5000"],
    cleanup,
  );

  for (const transports of [["websocket"], ["polling"]]) {
    it(`restores the id, the rooms and the missed events (${transports[0]})`, async () => {
      const a = client(server.url, { transports, reconnectionDelay: 1000, reconnectionDelayMax: 1000 });
      const b = client(server.url, { transports: ["websocket"] });
      await connected(a);
      await connected(b);
      await a.socket.emitWithAck("join", "band");
      await b.socket.emitWithAck("join", "band");
      const id = a.socket.id;
      assert.equal(a.socket.recovered, false);

      const lost = new Promise((resolve) => a.socket.once("disconnect", resolve));
      a.socket.io.engine.close();
      await lost;
      await broadcastFrom(b, "band", [1, 2, 3]);
      // A volatile broadcast reaches those connected, without an offset, and
      // is never replayed.
      await b.socket.emitWithAck("broadcast-volatile", "band", { n: "v" });
      await waitFor(() => broadcasts(b.log).some((e) => e.n === "v"), "volatile at b");
      assert.equal(b.log.find((e) => e.args?.[0]?.n === "v").args.length, 1);

      await connected(a, 2);
      assert.equal(a.socket.id, id);
      assert.equal(a.socket.recovered, true);
      assertReplayed(a, [1, 2, 3]);

      // Still in its room, and once more nothing is duplicated.
      await broadcastFrom(b, "band", [4]);
      await waitFor(() => broadcasts(a.log).some((e) => e.n === 4), "event after recovery");
      await sleep(100);
      assert.deepEqual(broadcasts(a.log).map((e) => e.n), [1, 2, 3, 4]);

      const s = await stats(a);
      assert.equal(s.id, id);
      assert.equal(s.recovered, true);
      assert.ok(s.disconnects.some((d) => d.id === id && d.held), JSON.stringify(s));
      assert.ok(s.recovers.includes(id), JSON.stringify(s));
    });
  }

  it("a new connection takes over a frozen one the server has not noticed", async () => {
    const { proxy, a, b, id } = await deviceBehindProxy(server);
    const old = proxy.last;

    old.freeze(); // the server still sees an open connection (pings every 10 s)
    await broadcastFrom(b, "band", [1, 2]); // stuck in the frozen link
    a.socket.io.engine.close(); // the device gives up on the link and reconnects
    await connected(a, 2);
    assert.notEqual(proxy.last, old);
    assert.equal(a.socket.id, id);
    assert.equal(a.socket.recovered, true);
    assertReplayed(a, [1, 2]);

    const s = await stats(a);
    assert.ok(s.recovers.includes(id), JSON.stringify(s));
    assert.ok(!s.disconnects.some((d) => d.id === id), `takeover fired a disconnect: ${JSON.stringify(s)}`);
    await old.cut();
  });

  it("a cut link comes back recovered", async () => {
    const { proxy, a, b, id } = await deviceBehindProxy(server);

    await proxy.last.cut();
    await broadcastFrom(b, "band", [1, 2]);
    await connected(a, 2);
    assert.equal(a.socket.id, id);
    assert.equal(a.socket.recovered, true);
    assertReplayed(a, [1, 2]);
  });
});

describe("recovery after a stall longer than the ping timeout", () => {
  // The protocol suite's heartbeat (300 + 200 ms): both sides give up on a
  // stalled link within half a second.
  const server = serverPerSuite(["conformance", "--recovery-window", "10000"], cleanup);

  it("comes back recovered with what was sent during the stall", async () => {
    const { proxy, a, b, id } = await deviceBehindProxy(server);

    proxy.freeze(1500); // the whole device, its reconnection attempts too
    await broadcastFrom(b, "band", [1, 2]);
    await sleep(800); // both sides see the ping timeout
    await broadcastFrom(b, "band", [3]);
    await connected(a, 2);
    assert.equal(a.socket.id, id);
    assert.equal(a.socket.recovered, true);
    assertReplayed(a, [1, 2, 3]);
    const s = await stats(a);
    assert.ok(
      s.disconnects.some((d) => d.id === id && d.reason === "ping timeout" && d.held),
      JSON.stringify(s),
    );
  });
});

describe("recovery after the window", () => {
  const server = serverPerSuite(["conformance", "--recovery-window", "300"], cleanup);

  it("is a new connection with a new id", async () => {
    const a = client(server.url, {
      transports: ["websocket"],
      reconnectionDelay: 1200,
      reconnectionDelayMax: 1200,
    });
    await connected(a);
    const id = a.socket.id;
    a.socket.io.engine.close();
    await connected(a, 2);
    assert.notEqual(a.socket.id, id);
    assert.equal(a.socket.recovered, false);
    const s = await stats(a);
    assert.ok(
      s.expires.some((e) => e.id === id && e.reason === "recovery window expired"),
      JSON.stringify(s),
    );
  });
});
