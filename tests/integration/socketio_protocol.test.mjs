// Socket.IO v5 protocol on raw Engine.IO v4 transports (ws / fetch), against
// `bandsync conformance`: namespaces "/" and "/custom"; on connection the
// server emits "auth" with the handshake payload; "message" is answered with
// "message-back" and the same arguments, "message-with-ack" is acknowledged
// with the same arguments. connectTimeout is 1000 ms, pingInterval 300 ms.
//
// Written from the Socket.IO v5 specification (socketio/socket.io-protocol,
// Readme.md) and the behaviour its test suite checks. Every Socket.IO packet
// travels in an Engine.IO message packet, hence the leading "4".

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { startServer, serverPerSuite } from "./lib/server.mjs";
import { PollingSession, SEP, SocketJar, WireSocket, openWebSocketSession } from "./lib/wire.mjs";

const PATH = "/socket.io/";
const CONNECT_TIMEOUT = 1000;

const jar = new SocketJar();

const server = serverPerSuite(["conformance"], () => jar.closeAll());

// An Engine.IO session over WebSocket, no namespace joined yet. Pings are
// answered automatically unless { autoPong: false }.
async function engineSession(options) {
  const { socket, open } = await openWebSocketSession(server.wsUrl, PATH, options);
  jar.add(socket);
  return { socket, open };
}

function assertConnectPacket(frame, prefix) {
  assert.equal(typeof frame, "string");
  assert.ok(frame.startsWith(prefix), `expected ${prefix}{"sid":...}, got ${frame}`);
  const payload = JSON.parse(frame.slice(prefix.length));
  assert.deepEqual(Object.keys(payload), ["sid"]);
  assert.equal(typeof payload.sid, "string");
  assert.ok(payload.sid.length > 0);
  return payload.sid;
}

// Connected to the main namespace; the CONNECT reply and "auth" are consumed.
async function connected(options) {
  const { socket } = await engineSession(options);
  socket.send("40");
  assertConnectPacket(await socket.next(), "40");
  assert.equal(await socket.next(), '42["auth",{}]');
  return socket;
}

function assertBinary(frame, bytes) {
  assert.ok(Buffer.isBuffer(frame), `expected a binary frame, got ${JSON.stringify(frame)}`);
  assert.deepEqual([...frame], bytes);
}

describe("Engine.IO handshake on /socket.io/", () => {
  it("opens a session over HTTP long-polling", async () => {
    const res = await fetch(`${server.url}${PATH}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.ok(body.startsWith("0"), body);
    const open = JSON.parse(body.slice(1));
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1_000_000);
  });

  it("opens a session over WebSocket", async () => {
    const { open } = await engineSession();
    assert.deepEqual(open.upgrades, []);
  });

  it("does not serve the Engine.IO-only path", async () => {
    const res = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`);
    assert.notEqual(res.status, 200);
    await res.text();
  });
});

describe("connect", () => {
  it("connects to the main namespace", async () => {
    const { socket, open } = await engineSession();
    socket.send("40");
    const sid = assertConnectPacket(await socket.next(), "40");
    assert.notEqual(sid, open.sid, "the Socket.IO sid must not reveal the Engine.IO sid");
    assert.equal(await socket.next(), '42["auth",{}]');
  });

  it("connects to the main namespace with a payload", async () => {
    const { socket } = await engineSession();
    socket.send('40{"token":"123"}');
    assertConnectPacket(await socket.next(), "40");
    assert.equal(await socket.next(), '42["auth",{"token":"123"}]');
  });

  it("connects to a custom namespace", async () => {
    const { socket } = await engineSession();
    socket.send("40/custom,");
    assertConnectPacket(await socket.next(), "40/custom,");
    assert.equal(await socket.next(), '42/custom,["auth",{}]');
  });

  it("connects to a custom namespace with a payload", async () => {
    const { socket } = await engineSession();
    socket.send('40/custom,{"token":"abc"}');
    assertConnectPacket(await socket.next(), "40/custom,");
    assert.equal(await socket.next(), '42/custom,["auth",{"token":"abc"}]');
  });

  it("connects to two namespaces over one connection", async () => {
    const socket = await connected();
    socket.send("40/custom,");
    assertConnectPacket(await socket.next(), "40/custom,");
    assert.equal(await socket.next(), '42/custom,["auth",{}]');
    socket.send('42["message","main"]');
    assert.equal(await socket.next(), '42["message-back","main"]');
    socket.send('42/custom,["message","custom"]');
    assert.equal(await socket.next(), '42/custom,["message-back","custom"]');
  });

  it("refuses an unknown namespace", async () => {
    const { socket } = await engineSession();
    socket.send("40/random");
    assert.equal(await socket.next(), '44/random,{"message":"Invalid namespace"}');
  });

  it("closes the connection upon an invalid handshake", async () => {
    const { socket } = await engineSession();
    socket.send("4abc");
    await socket.waitClosed();
  });

  it("closes the connection when no CONNECT comes within connectTimeout", async () => {
    const { socket } = await engineSession(); // pings are answered
    const start = Date.now();
    await socket.waitClosed(CONNECT_TIMEOUT + 5_000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= CONNECT_TIMEOUT - 200, `closed after ${elapsed} ms, before connectTimeout`);
    assert.ok(socket.pings >= 1, "the session was kept alive by pongs until the timeout");
    // Nothing but, possibly, an Engine.IO close packet before the close.
    assert.ok(
      socket.queue.every((f) => f === "1"),
      `unexpected frames ${JSON.stringify(socket.queue)}`,
    );
  });

  it("keeps a connected client past connectTimeout", async () => {
    const socket = await connected();
    await new Promise((resolve) => setTimeout(resolve, CONNECT_TIMEOUT + 300));
    assert.ok(socket.isOpen);
    socket.send('42["message","late"]');
    assert.equal(await socket.next(), '42["message-back","late"]');
  });
});

describe("disconnect", () => {
  it("keeps the Engine.IO session after leaving the main namespace", async () => {
    const socket = await connected({ autoPong: false });
    socket.send("41");
    assert.equal(await socket.next(), "2");
  });

  it("leaves a custom namespace and keeps the main one", async () => {
    const socket = await connected();
    socket.send("40/custom");
    assertConnectPacket(await socket.next(), "40/custom,");
    assert.equal(await socket.next(), '42/custom,["auth",{}]');
    socket.send("41/custom");
    socket.send('42["message","message to main namespace"]');
    assert.equal(await socket.next(), '42["message-back","message to main namespace"]');
  });
});

describe("message", () => {
  it("echoes a plain-text event", async () => {
    const socket = await connected();
    socket.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await socket.next(), '42["message-back",1,"2",{"3":[true]}]');
  });

  it("echoes a plain-text event in a custom namespace", async () => {
    const { socket } = await engineSession();
    socket.send("40/custom,");
    assertConnectPacket(await socket.next(), "40/custom,");
    assert.equal(await socket.next(), '42/custom,["auth",{}]');
    socket.send('42/custom,["message",{"a":null},[false,"x"]]');
    assert.equal(await socket.next(), '42/custom,["message-back",{"a":null},[false,"x"]]');
  });

  it("echoes JSON values of every kind with the same value", async () => {
    const socket = await connected();
    const args = [
      -7,
      1.5,
      -0.25,
      1e21,
      2 ** 53 - 1,
      "",
      "é 😀 \"quoted\" \\ \n \u0001 \u2028",
      null,
      [],
      {},
      { nested: { deeper: [1, { k: "v" }] } },
    ];
    socket.send(`42${JSON.stringify(["message", ...args])}`);
    const frame = await socket.next();
    assert.ok(frame.startsWith("42["), frame);
    assert.deepEqual(JSON.parse(frame.slice(2)), ["message-back", ...args]);
  });

  // The spec only asks for JSON; the JavaScript reference writes numbers as
  // JSON.stringify does, so a byte-exact echo is expected of a drop-in server.
  it("writes numbers as JSON.stringify does (1.5, not 1.5E0)", async () => {
    const socket = await connected();
    socket.send('42["message",1.5,-0.25,1e+21]');
    assert.equal(await socket.next(), '42["message-back",1.5,-0.25,1e+21]');
  });

  it("echoes an event with two binary attachments", async () => {
    const socket = await connected();
    socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    socket.send(Uint8Array.from([1, 2, 3]));
    socket.send(Uint8Array.from([4, 5, 6]));
    const [head, first, second] = await socket.nextN(3);
    assert.equal(head, '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assertBinary(first, [1, 2, 3]);
    assertBinary(second, [4, 5, 6]);
  });

  it("acknowledges an event", async () => {
    const socket = await connected();
    socket.send('421["message-with-ack",1,"2",{"3":[true]}]');
    assert.equal(await socket.next(), '431[1,"2",{"3":[true]}]');
    socket.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await socket.next(), '43456[1,"2",{"3":[false]}]');
  });

  it("acknowledges an event in a custom namespace", async () => {
    const { socket } = await engineSession();
    socket.send("40/custom,");
    assertConnectPacket(await socket.next(), "40/custom,");
    assert.equal(await socket.next(), '42/custom,["auth",{}]');
    socket.send('42/custom,7["message-with-ack","x"]');
    assert.equal(await socket.next(), '43/custom,7["x"]');
  });

  it("acknowledges an event with binary attachments with a binary ack", async () => {
    const socket = await connected();
    socket.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    socket.send(Uint8Array.from([1, 2, 3]));
    socket.send(Uint8Array.from([4, 5, 6]));
    const [head, first, second] = await socket.nextN(3);
    assert.equal(head, '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assertBinary(first, [1, 2, 3]);
    assertBinary(second, [4, 5, 6]);

    socket.send('451-11["message-with-ack",{"_placeholder":true,"num":0}]');
    socket.send(Uint8Array.from([9]));
    const [head2, only] = await socket.nextN(2);
    assert.equal(head2, '461-11[{"_placeholder":true,"num":0}]');
    assertBinary(only, [9]);
  });

  it.skip("acknowledges a server-to-client event (the conformance server never asks for an ack)");
});

describe("HTTP long-polling", () => {
  async function pollingConnected() {
    const s = new PollingSession(server.url, PATH);
    await s.handshake();
    assert.equal((await s.post("40")).status, 200);
    const [connect, auth] = await s.collect(2);
    assertConnectPacket(connect, "40");
    assert.equal(auth, '42["auth",{}]');
    return s;
  }

  it("connects and echoes an event", async () => {
    const s = await pollingConnected();
    assert.equal((await s.post('42["message",1,"2",{"3":[true]}]')).status, 200);
    assert.deepEqual(await s.collect(1), ['42["message-back",1,"2",{"3":[true]}]']);
  });

  it("echoes an event with a binary attachment sent in the same payload", async () => {
    const s = await pollingConnected();
    const push = await s.post(`451-["message",{"_placeholder":true,"num":0}]${SEP}bAQID`);
    assert.equal(push.status, 200);
    assert.deepEqual(await s.collect(2), ['451-["message-back",{"_placeholder":true,"num":0}]', "bAQID"]);
  });

  it("acknowledges an event", async () => {
    const s = await pollingConnected();
    assert.equal((await s.post('4212["message-with-ack","a"]')).status, 200);
    assert.deepEqual(await s.collect(1), ['4312["a"]']);
  });
});

describe("invalid packets", () => {
  const malformed = [
    ["an unknown packet type", "4999"],
    ["an invalid CONNECT after connecting", "4abc"],
    ["an event payload that is an object", '42{"a":1}'],
    ["an event payload that is not an array", "42{}"],
    ["an empty event payload", "42[]"],
    ["an invalid ack id", '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ["an invalid attachment count", "45x-[]"],
    ["truncated JSON", '42["message",1'],
  ];

  for (const [what, packet] of malformed) {
    it(`closes the connection upon ${what} (${packet})`, async () => {
      const socket = await connected();
      socket.send(packet);
      await socket.waitClosed();
    });
  }

  it("closes the connection upon a binary attachment with no pending packet", async () => {
    const socket = await connected();
    socket.send(Uint8Array.from([1, 2, 3]));
    await socket.waitClosed();
  });

  it("closes the connection upon more attachments than announced", async () => {
    const socket = await connected();
    socket.send('451-["message",{"_placeholder":true,"num":0}]');
    socket.send(Uint8Array.from([1]));
    socket.send(Uint8Array.from([2]));
    // The complete packet may be echoed before the extra attachment is seen.
    const frames = [];
    await assert.rejects(async () => {
      for (;;) frames.push(await socket.next());
    });
    await socket.waitClosed();
    // An Engine.IO close packet may precede the close.
    const data = frames.filter((f) => f !== "1");
    assert.ok(data.length === 0 || data.length === 2, `frames ${JSON.stringify(frames)}`);
  });

  it("keeps serving new clients afterwards", async () => {
    const socket = await connected();
    socket.send('42["message","still here"]');
    assert.equal(await socket.next(), '42["message-back","still here"]');
  });
});

describe("robustness", () => {
  it("keeps serving after many clients vanish without closing", async () => {
    const sockets = [];
    for (let i = 0; i < 20; i++) sockets.push(await connected());
    for (const s of sockets) s.close(); // TCP reset, no close packet
    const socket = await connected();
    socket.send('42["message","after"]');
    assert.equal(await socket.next(), '42["message-back","after"]');
  });

  it("accepts a WebSocket opened as an upgrade of a polling session", async () => {
    const s = new PollingSession(server.url, PATH);
    await s.handshake();
    const socket = jar.add(await WireSocket.open(`${server.wsUrl}${PATH}?EIO=4&transport=websocket&sid=${s.sid}`));
    socket.send("2probe");
    assert.equal(await socket.next(), "3probe");
    socket.send("5");
    socket.send("40");
    assertConnectPacket(await socket.next(), "40");
    assert.equal(await socket.next(), '42["auth",{}]');
  });
});
