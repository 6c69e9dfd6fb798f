// Engine.IO v4 protocol, black-box, against `bandsync conformance --engineio`
// (an echo server on /engine.io/: every message packet goes back as it came).
//
// Follows the Engine.IO v4 specification (socketio/engine.io-protocol,
// README.md) and the behaviour its test suite checks. The server runs with
// pingInterval 300 ms, pingTimeout 200 ms and maxPayload 1,000,000 bytes.
//
// Error bodies: the spec only demands HTTP 400; the codes checked here are
// those of the reference server (0 unknown transport, 1 unknown session id,
// 2 bad handshake method, 3 bad request, 5 unsupported protocol version).

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { startServer, serverPerSuite } from "./lib/server.mjs";
import {
  PollingSession,
  SEP,
  SocketJar,
  WireSocket,
  openWebSocketSession,
  rawHttpRequest,
  sleep,
  withTimeout,
} from "./lib/wire.mjs";

const PATH = "/engine.io/";
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const MAX_PAYLOAD = 1_000_000;

const jar = new SocketJar();

const server = serverPerSuite(["conformance", "--engineio"], () => jar.closeAll());

const httpUrl = (query) => `${server.url}${PATH}${query}`;

async function newPolling() {
  const s = new PollingSession(server.url, PATH);
  await s.handshake();
  return s;
}

async function newWebSocket(options) {
  const { socket, open } = await openWebSocketSession(server.wsUrl, PATH, options);
  jar.add(socket);
  return { socket, open };
}

function openWs(query, options) {
  return jar.add(new WireSocket(`${server.wsUrl}${PATH}${query}`, options));
}

async function expectError(res, code) {
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(typeof body.message, "string", `error body ${JSON.stringify(body)}`);
  assert.equal(body.code, code, `error body ${JSON.stringify(body)}`);
}

function assertOpenPacket(value, upgrades) {
  assert.deepEqual(Object.keys(value).sort(), [
    "maxPayload",
    "pingInterval",
    "pingTimeout",
    "sid",
    "upgrades",
  ]);
  assert.equal(typeof value.sid, "string");
  assert.ok(value.sid.length > 0);
  assert.deepEqual(value.upgrades, upgrades);
  assert.equal(value.pingInterval, PING_INTERVAL);
  assert.equal(value.pingTimeout, PING_TIMEOUT);
  assert.equal(value.maxPayload, MAX_PAYLOAD);
}

// A WebSocket the server must refuse: either the upgrade fails or the socket
// is closed without an open packet.
async function expectRefusedWebSocket(query) {
  const s = openWs(query);
  await s.waitClosed();
  assert.equal(s.queue.length, 0, `unexpected frames ${JSON.stringify(s.queue)}`);
}

describe("handshake", () => {
  describe("HTTP long-polling", () => {
    it("opens a session", async () => {
      const res = await fetch(httpUrl("?EIO=4&transport=polling"));
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.ok(body.startsWith("0"), body);
      assertOpenPacket(JSON.parse(body.slice(1)), ["websocket"]);
    });

    it("gives every session its own sid", async () => {
      const a = await newPolling();
      const b = await newPolling();
      assert.notEqual(a.sid, b.sid);
    });

    it("rejects a missing or invalid EIO parameter", async () => {
      for (const query of ["?transport=polling", "?EIO=abc&transport=polling", "?EIO=3&transport=polling"]) {
        const res = await fetch(httpUrl(query));
        await expectError(res, 5);
      }
    });

    it("rejects a missing or invalid transport parameter", async () => {
      for (const query of ["?EIO=4", "?EIO=4&transport=abc"]) {
        const res = await fetch(httpUrl(query));
        await expectError(res, 0);
      }
    });

    it("rejects a handshake with a method other than GET", async () => {
      for (const method of ["POST", "PUT"]) {
        const res = await fetch(httpUrl("?EIO=4&transport=polling"), { method, body: "" });
        await expectError(res, 2);
      }
    });

    it("rejects a plain HTTP request for the websocket transport", async () => {
      await expectError(await fetch(httpUrl("?EIO=4&transport=websocket")), 3);
      const s = await newPolling();
      await expectError(await fetch(httpUrl(`?EIO=4&transport=websocket&sid=${s.sid}`)), 3);
    });

    it("rejects an unknown sid", async () => {
      await expectError(await fetch(httpUrl("?EIO=4&transport=polling&sid=unknown")), 1);
      await expectError(
        await fetch(httpUrl("?EIO=4&transport=polling&sid=unknown"), { method: "POST", body: "4hello" }),
        1,
      );
    });
  });

  describe("WebSocket", () => {
    it("opens a session", async () => {
      const { open } = await newWebSocket();
      assertOpenPacket(open, []);
    });

    it("refuses a missing or invalid EIO parameter", async () => {
      await expectRefusedWebSocket("?transport=websocket");
      await expectRefusedWebSocket("?EIO=abc&transport=websocket");
      await expectRefusedWebSocket("?EIO=3&transport=websocket");
    });

    it("refuses a missing or invalid transport parameter", async () => {
      await expectRefusedWebSocket("?EIO=4");
      await expectRefusedWebSocket("?EIO=4&transport=abc");
    });

    it("refuses an unknown sid", async () => {
      await expectRefusedWebSocket("?EIO=4&transport=websocket&sid=unknown");
    });
  });
});

describe("message", () => {
  describe("HTTP long-polling", () => {
    it("sends and receives a payload with one text packet", async () => {
      const s = await newPolling();
      const push = await s.post("4hello");
      assert.equal(push.status, 200);
      assert.equal(push.body, "ok");
      assert.deepEqual(await s.collect(1), ["4hello"]);
    });

    it("sends and receives a payload with several text packets", async () => {
      const s = await newPolling();
      const push = await s.post(`4test1${SEP}4test2${SEP}4test3`);
      assert.equal(push.status, 200);
      assert.equal(push.body, "ok");
      assert.deepEqual(await s.collect(3), ["4test1", "4test2", "4test3"]);
    });

    it("sends and receives a payload with text and binary packets", async () => {
      const s = await newPolling();
      const push = await s.post(`4hello${SEP}bAQIDBA==`);
      assert.equal(push.status, 200);
      assert.equal(push.body, "ok");
      assert.deepEqual(await s.collect(2), ["4hello", "bAQIDBA=="]);
    });

    it("keeps UTF-8 text intact", async () => {
      const s = await newPolling();
      const text = "4€ é 😀";
      assert.equal((await s.post(text)).status, 200);
      assert.deepEqual(await s.collect(1), [text]);
    });

    it("closes the session upon an invalid packet format", async () => {
      const s = await newPolling();
      let status;
      try {
        status = (await s.post("abc")).status;
      } catch {
        status = "connection closed";
      }
      assert.ok(status === 400 || status === "connection closed", `POST abc answered ${status}`);
      assert.equal((await s.get()).status, 400);
    });

    it("closes the session upon duplicate GET requests", async () => {
      const s = await newPolling();
      const first = s.get();
      await sleep(50);
      const second = s.get("&t=burst");
      const [r1, r2] = await Promise.all([first, second]);
      assert.equal(r1.status, 200);
      assert.equal(r1.body, "1");
      assert.ok([400, 500].includes(r2.status), `second GET answered ${r2.status}`);
      assert.equal((await s.get()).status, 400);
    });
  });

  describe("WebSocket", () => {
    it("sends and receives a text packet", async () => {
      const { socket } = await newWebSocket();
      socket.send("4hello");
      assert.equal(await socket.next(), "4hello");
    });

    it("sends and receives a binary packet", async () => {
      const { socket } = await newWebSocket();
      socket.send(Uint8Array.from([1, 2, 3, 4]));
      const frame = await socket.next();
      assert.ok(Buffer.isBuffer(frame), `expected a binary frame, got ${JSON.stringify(frame)}`);
      assert.deepEqual([...frame], [1, 2, 3, 4]);
    });

    it("keeps packets in order", async () => {
      const { socket } = await newWebSocket();
      const sent = [];
      for (let i = 0; i < 50; i++) {
        sent.push(`4msg${i}`);
        socket.send(`4msg${i}`);
      }
      assert.deepEqual(await socket.nextN(sent.length), sent);
    });

    it("closes the session upon an invalid packet format", async () => {
      const { socket } = await newWebSocket();
      socket.send("abc");
      await socket.waitClosed();
    });
  });
});

describe("heartbeat", () => {
  describe("HTTP long-polling", () => {
    it("sends pings that the client answers", async () => {
      const s = await newPolling();
      for (let i = 0; i < 3; i++) {
        const poll = await s.get();
        assert.equal(poll.status, 200);
        assert.equal(poll.body, "2");
        const push = await s.post("3");
        assert.equal(push.status, 200);
        assert.equal(push.body, "ok");
      }
    });

    it("closes the session upon ping timeout", async () => {
      const s = await newPolling();
      await sleep(PING_INTERVAL + PING_TIMEOUT + 400);
      assert.equal((await s.post("3")).status, 400);
      assert.equal((await s.get()).status, 400);
    });
  });

  describe("WebSocket", () => {
    it("sends pings that the client answers", async () => {
      const { socket } = await newWebSocket({ autoPong: false });
      for (let i = 0; i < 3; i++) {
        assert.equal(await socket.next(), "2");
        socket.send("3");
      }
      assert.ok(socket.isOpen);
      socket.send("4still-there");
      assert.equal(await socket.next(), "4still-there");
    });

    it("closes the session upon ping timeout", async () => {
      const { socket } = await newWebSocket({ autoPong: false });
      assert.equal(await socket.next(), "2");
      const pinged = Date.now();
      await socket.waitClosed(PING_TIMEOUT + 3_000);
      // Not closed right at the ping: the server waited for a pong (the
      // margin covers the ping's own delivery time).
      assert.ok(Date.now() - pinged >= PING_TIMEOUT / 2, `closed ${Date.now() - pinged} ms after the ping`);
    });
  });
});

describe("close", () => {
  it("HTTP long-polling: a close packet ends the pending GET with a noop", async () => {
    const s = await newPolling();
    const pending = s.get();
    await sleep(50);
    const push = await s.post("1");
    assert.equal(push.status, 200);
    const poll = await pending;
    assert.equal(poll.status, 200);
    assert.equal(poll.body, "6");
    assert.equal((await s.get()).status, 400);
  });

  it("WebSocket: a close packet closes the connection", async () => {
    const { socket } = await newWebSocket();
    socket.send("1");
    await socket.waitClosed();
  });
});

describe("upgrade", () => {
  // Polling session + probed WebSocket; resolves before the "5" packet.
  async function probe() {
    const s = await newPolling();
    const socket = jar.add(await WireSocket.open(`${server.wsUrl}${PATH}?EIO=4&transport=websocket&sid=${s.sid}`));
    socket.send("2probe");
    assert.equal(await socket.next(), "3probe");
    return { s, socket };
  }

  it("upgrades from HTTP long-polling to WebSocket", async () => {
    const { s, socket } = await probe();
    // The pending (or next) GET is ended by a noop; a ping queued earlier may
    // come with it.
    const poll = await s.get();
    assert.equal(poll.status, 200);
    const packets = poll.body.split(SEP).filter((p) => p !== "2");
    assert.deepEqual(packets, ["6"]);
    socket.send("5");
    socket.send("4hello");
    assert.equal(await socket.next(), "4hello");
  });

  it("ends a GET pending during the probe with a noop", async () => {
    const s = await newPolling();
    const pending = s.get();
    await sleep(50);
    const socket = jar.add(await WireSocket.open(`${server.wsUrl}${PATH}?EIO=4&transport=websocket&sid=${s.sid}`));
    socket.send("2probe");
    assert.equal(await socket.next(), "3probe");
    const poll = await withTimeout(pending, 5_000, "the pending GET");
    assert.equal(poll.status, 200);
    assert.deepEqual(poll.body.split(SEP).filter((p) => p !== "2"), ["6"]);
    socket.send("5");
    socket.send("4after");
    assert.equal(await socket.next(), "4after");
  });

  it("delivers packets buffered before the upgrade", async () => {
    const { s, socket } = await probe();
    const push = await s.post("4buffered");
    assert.equal(push.status, 200);
    socket.send("5");
    // The echo was queued while polling was still the transport: it comes
    // either in a GET or, once upgraded, over the WebSocket. Never lost.
    const poll = await s.get();
    const polled = poll.status === 200 ? poll.body.split(SEP).filter((p) => p !== "2" && p !== "6") : [];
    if (!polled.includes("4buffered")) {
      assert.equal(await socket.next(), "4buffered");
    }
    socket.send("4hello");
    assert.equal(await socket.next(), "4hello");
  });

  it("rejects HTTP requests with the same sid after the upgrade", async () => {
    const { s, socket } = await probe();
    assert.deepEqual((await s.get()).body.split(SEP).filter((p) => p !== "2"), ["6"]);
    socket.send("5");
    // The echo proves "5" was processed before the GET below.
    socket.send("4hello");
    assert.equal(await socket.next(), "4hello");
    assert.equal((await s.get()).status, 400);
    socket.send("4again");
    assert.equal(await socket.next(), "4again");
  });

  it("refuses a second WebSocket with the same sid after the upgrade", async () => {
    const { s, socket } = await probe();
    socket.send("5");
    socket.send("4hello");
    assert.equal(await socket.next(), "4hello");
    await expectRefusedWebSocket(`?EIO=4&transport=websocket&sid=${s.sid}`);
    socket.send("4again");
    assert.equal(await socket.next(), "4again");
  });

  it("refuses an upgrade of a session opened over WebSocket", async () => {
    const { socket, open } = await newWebSocket();
    await expectRefusedWebSocket(`?EIO=4&transport=websocket&sid=${open.sid}`);
    socket.send("4hello");
    assert.equal(await socket.next(), "4hello");
  });
});

describe("limits", () => {
  it("rejects a POST body over maxPayload with 413 and closes the session", async () => {
    const s = await newPolling();
    const res = await rawHttpRequest(server.port, {
      method: "POST",
      target: `${PATH}?EIO=4&transport=polling&sid=${s.sid}`,
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: "4" + "a".repeat(MAX_PAYLOAD),
    });
    assert.equal(res.status, 413);
    assert.equal((await s.get()).status, 400);
  });

  it("closes a WebSocket that sends a message over maxPayload", async () => {
    const { socket } = await newWebSocket();
    socket.send("4" + "a".repeat(MAX_PAYLOAD));
    await socket.waitClosed();
  });

  it("accepts a POST body of exactly maxPayload bytes", async () => {
    const s = await newPolling();
    const body = "4" + "a".repeat(MAX_PAYLOAD - 1);
    const push = await s.post(body);
    assert.equal(push.status, 200);
    const [echo] = await s.collect(1, 10_000);
    assert.equal(echo, body);
  });
});

describe("CORS", () => {
  const origin = "http://band.example";

  it("answers * without credentials (CORS_ORIGIN *, socket.io's default)", async () => {
    const res = await fetch(httpUrl("?EIO=4&transport=polling"), { headers: { Origin: origin } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    await res.text();
  });

  it("answers a preflight with 204 and the allowed methods", async () => {
    const res = await fetch(httpUrl("?EIO=4&transport=polling"), {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const methods = (res.headers.get("access-control-allow-methods") ?? "").toUpperCase().split(/\s*,\s*/);
    assert.ok(methods.includes("GET") && methods.includes("POST"), `allowed methods: ${methods}`);
    await res.text();
  });
});
