// The real socket.io-client (4.8.1) against `bandsync conformance`: every
// transport setup, auth, events, acks, binary, namespaces, the payload limit,
// reconnection after a server loss, and 200 concurrent clients.
//
// Broadcasts to rooms cannot be checked here (the conformance server has no
// rooms); the domain tests cover them.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { startServer, serverPerSuite } from "./lib/server.mjs";
import { withTimeout } from "./lib/wire.mjs";

const WAIT_MS = 10_000;
const MAX_PAYLOAD = 1_000_000;

const clients = new Set();

const server = serverPerSuite(["conformance"], () => closeClients());

function closeClients() {
  for (const c of clients) {
    c.disconnect();
    c.io.engine?.close();
  }
  clients.clear();
}

function client(options = {}, namespace = "/", baseUrl = server.url) {
  const socket = io(`${baseUrl}${namespace}`, {
    forceNew: true,
    reconnection: false,
    timeout: WAIT_MS,
    ...options,
  });
  clients.add(socket);
  return socket;
}

// Resolves with the arguments of the next `event` on `emitter`.
function once(emitter, event, ms = WAIT_MS) {
  return withTimeout(
    new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
    ms,
    `event "${event}"`,
  );
}

// Resolves once connected (rejects on connect_error).
function connected(socket) {
  if (socket.connected) return Promise.resolve();
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
    }),
    WAIT_MS,
    "connect",
  );
}

function assertBuffer(value, bytes) {
  assert.ok(Buffer.isBuffer(value), `expected a Buffer, got ${Object.prototype.toString.call(value)}`);
  assert.deepEqual([...value], bytes);
}

const transportSetups = [
  { name: "websocket only", options: { transports: ["websocket"] }, final: "websocket" },
  { name: "polling only", options: { transports: ["polling"] }, final: "polling" },
  { name: "polling upgraded to websocket", options: { transports: ["polling", "websocket"] }, final: "websocket" },
];

for (const setup of transportSetups) {
  describe(`transport: ${setup.name}`, () => {
    // Connected, with the "auth" event already received.
    async function ready(options = {}, namespace = "/") {
      const socket = client({ ...setup.options, ...options }, namespace);
      const auth = once(socket, "auth");
      await connected(socket);
      return { socket, auth: (await auth)[0] };
    }

    it("connects with auth and receives it back", async () => {
      const { socket, auth } = await ready({ auth: { token: "abc", n: 1 } });
      assert.deepEqual(auth, { token: "abc", n: 1 });
      assert.equal(typeof socket.id, "string");
    });

    it(`ends on the ${setup.final} transport`, async () => {
      const { socket } = await ready();
      const engine = socket.io.engine;
      if (setup.final === "websocket" && engine.transport.name !== "websocket") {
        await once(engine, "upgrade");
      }
      assert.equal(engine.transport.name, setup.final);
      // Still usable after the upgrade.
      socket.emit("message", "after upgrade");
      assert.deepEqual(await once(socket, "message-back"), ["after upgrade"]);
    });

    it("emits and receives message-back with mixed arguments", async () => {
      const { socket } = await ready();
      const args = [1, "2", { 3: [true, null] }, [4.5, "é😀"], false];
      socket.emit("message", ...args);
      assert.deepEqual(await once(socket, "message-back"), args);
    });

    it("keeps the order of many events", async () => {
      const { socket } = await ready();
      const received = [];
      const done = new Promise((resolve) =>
        socket.on("message-back", (i) => {
          received.push(i);
          if (received.length === 100) resolve();
        }),
      );
      for (let i = 0; i < 100; i++) socket.emit("message", i);
      await withTimeout(done, WAIT_MS, "100 message-back events");
      assert.deepEqual(
        received,
        Array.from({ length: 100 }, (_, i) => i),
      );
    });

    it("gets an acknowledgement with emitWithAck", async () => {
      const { socket } = await ready();
      const reply = await socket.timeout(WAIT_MS).emitWithAck("message-with-ack", 1, "2", { 3: [true] });
      assert.deepEqual(reply, 1);
      // The ack carries every argument; the callback form sees them all.
      const all = await withTimeout(
        new Promise((resolve) => socket.emit("message-with-ack", 1, "2", { 3: [true] }, (...a) => resolve(a))),
        WAIT_MS,
        "ack",
      );
      assert.deepEqual(all, [1, "2", { 3: [true] }]);
    });

    it("sends and receives binary data", async () => {
      const { socket } = await ready();
      socket.emit("message", Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]), text: "t" }, "plain");
      const [first, second, third] = await once(socket, "message-back");
      assertBuffer(first, [1, 2, 3]);
      assertBuffer(second.nested, [4, 5]);
      assert.equal(second.text, "t");
      assert.equal(third, "plain");
    });

    it("gets a binary acknowledgement", async () => {
      const { socket } = await ready();
      const reply = await socket.timeout(WAIT_MS).emitWithAck("message-with-ack", Buffer.from([9, 8, 7]));
      assertBuffer(reply, [9, 8, 7]);
    });

    it("uses a custom namespace", async () => {
      const { socket, auth } = await ready({ auth: { ns: "custom" } }, "/custom");
      assert.deepEqual(auth, { ns: "custom" });
      assert.equal(socket.nsp, "/custom");
      socket.emit("message", "in custom");
      assert.deepEqual(await once(socket, "message-back"), ["in custom"]);
      assert.equal(await socket.timeout(WAIT_MS).emitWithAck("message-with-ack", "ack custom"), "ack custom");
    });

    it("shares one connection between namespaces", async () => {
      const main = client({ ...setup.options });
      const custom = main.io.socket("/custom");
      clients.add(custom);
      await Promise.all([connected(main), connected(custom)]);
      main.emit("message", "main");
      custom.emit("message", "custom");
      const [m, c] = await Promise.all([once(main, "message-back"), once(custom, "message-back")]);
      assert.deepEqual(m, ["main"]);
      assert.deepEqual(c, ["custom"]);
    });

    it("refuses an unknown namespace with connect_error", async () => {
      const socket = client({ ...setup.options }, "/random");
      const [err] = await once(socket, "connect_error");
      assert.equal(err.message, "Invalid namespace");
    });

    it("disconnects cleanly on the client side", async () => {
      const { socket } = await ready();
      const gone = once(socket, "disconnect");
      socket.disconnect();
      assert.deepEqual(await gone, ["io client disconnect", undefined]);
    });
  });
}

describe("rooms", () => {
});

describe("payload limit", () => {
  for (const transports of [["websocket"], ["polling"]]) {
    it(`a message over maxPayload closes the connection (${transports[0]})`, async () => {
      const socket = client({ transports });
      await connected(socket);
      const gone = once(socket, "disconnect");
      socket.emit("message", "x".repeat(MAX_PAYLOAD + 100_000));
      const [reason] = await gone;
      assert.ok(["transport close", "transport error"].includes(reason), `disconnect reason: ${reason}`);

      const other = client({ transports });
      await connected(other);
      other.emit("message", "fine");
      assert.deepEqual(await once(other, "message-back"), ["fine"]);
    });
  }
});

describe("reconnection", () => {
  it("reconnects to a server restarted on the same port", async () => {
    const first = await startServer(["conformance"]);
    let second;
    try {
      const socket = client(
        {
          transports: ["websocket"],
          reconnection: true,
          reconnectionDelay: 100,
          reconnectionDelayMax: 300,
          randomizationFactor: 0,
        },
        "/",
        first.url,
      );
      await connected(socket);
      const firstId = socket.id;

      const gone = once(socket, "disconnect");
      await first.kill();
      const [reason] = await gone;
      assert.ok(["transport close", "transport error", "ping timeout"].includes(reason), reason);

      const back = once(socket, "connect", 15_000);
      second = await startServer(["conformance"], { port: first.port });
      await back;
      assert.ok(socket.connected);
      assert.notEqual(socket.id, firstId);
      socket.emit("message", "again");
      assert.deepEqual(await once(socket, "message-back"), ["again"]);
    } finally {
      closeClients();
      await first.stop();
      if (second) {
        const exit = await second.stop();
        assert.equal(exit.code, 0, `second server exit ${JSON.stringify(exit)}`);
      }
    }
  });

  it("a server shutdown (SIGTERM) disconnects its clients", async () => {
    const own = await startServer(["conformance"]);
    try {
      const socket = client({ transports: ["websocket"] }, "/", own.url);
      await connected(socket);
      const gone = once(socket, "disconnect");
      const exit = await own.stop();
      assert.equal(exit.forced, false);
      assert.equal(exit.code, 0);
      const [reason] = await gone;
      assert.ok(["transport close", "transport error"].includes(reason), reason);
    } finally {
      closeClients();
      await own.stop();
    }
  });
});

describe("load", () => {
  // Its own server with a heartbeat of 1 s + 2 s and socket.io's default
  // connectTimeout (45 s) instead of the suite's 300 + 200 ms and 1 s: 200
  // clients in one Node process on a loaded machine (parallel builds) can
  // stall past half a second, and a heartbeat that short then drops a client
  // for the test's own slowness. What is checked is that the server serves
  // 200 at once: every one connected, authenticated, echoed, pinged and
  // answering (nobody dropped: a drop fails at once, with its reason), and
  // the server responsive afterwards; speed is bench/'s.
  let own;
  before(async () => {
    own = await startServer(["conformance", "--ping-interval", "1000", "--ping-timeout", "2000", "--connect-timeout", "45000"]);
  });
  after(async () => {
    closeClients();
    const exit = await own.stop();
    assert.equal(exit.forced, false, "the server ignored SIGTERM");
    assert.equal(exit.code, 0, `the server exited with ${JSON.stringify(exit)}`);
  });

  it("serves 200 websocket clients at once", async () => {
    const N = 200;
    const sockets = [];
    const auths = [];
    const pinged = [];
    let dropped;
    const drop = new Promise((_, reject) => {
      dropped = reject;
    });
    drop.catch(() => {});
    for (let i = 0; i < N; i++) {
      const s = client({ transports: ["websocket"], auth: { i } }, "/", own.url);
      sockets.push(s);
      auths.push(once(s, "auth", 30_000));
      // The heartbeat reaches every client: its first ping, answered (the
      // client pongs on its own; a server that does not get it drops it).
      pinged.push(once(s.io, "ping", 30_000));
      s.on("disconnect", (reason) => dropped(new Error(`client ${i} disconnected: ${reason}`)));
    }
    const all = (promises, what) => withTimeout(Promise.race([Promise.all(promises), drop]), 30_000, what);

    await all(sockets.map(connected), `${N} connections`);
    const authArgs = await all(auths, `${N} auth events`);
    authArgs.forEach(([auth], i) => assert.deepEqual(auth, { i }));

    const backs = sockets.map((s) => once(s, "message-back", 30_000));
    sockets.forEach((s, i) => s.emit("message", i, `from ${i}`));
    const echoed = await all(backs, `${N} message-back events`);
    echoed.forEach((args, i) => assert.deepEqual(args, [i, `from ${i}`]));
    await all(pinged, `a ping to each of the ${N} clients`);

    sockets.forEach((s) => s.removeAllListeners("disconnect"));
    const gone = sockets.map((s) => once(s, "disconnect"));
    sockets.forEach((s) => s.disconnect());
    await Promise.all(gone);
    clients.clear();

    // The server is still responsive once they are all gone.
    const after = client({ transports: ["websocket"] }, "/", own.url);
    await connected(after);
    after.emit("message", "after load");
    assert.deepEqual(await once(after, "message-back"), ["after load"]);
  });
});
