// The server's WebSocket framing (RFC 6455) on raw TCP, against `bandsync
// conformance --engineio` (an echo server on /engine.io/): the frame reader
// and close handshake of src/engineio/ws_connection.cpp seen from the wire.
//
// - pings are answered with their payload; a message may arrive in pieces,
//   fragmented, with a ping between its fragments, or right behind the
//   upgrade request;
// - a client's close is answered with its code, then the server ends the
//   TCP connection;
// - each protocol violation closes with its code (1002, 1007, 1009), the
//   oversized message refused from its header alone.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";

import { serverPerSuite } from "./lib/server.mjs";
import { withTimeout } from "./lib/wire.mjs";

const HOST = "127.0.0.1";
const PATH = "/engine.io/?EIO=4&transport=websocket";
const WAIT_MS = 5_000;
const sockets = new Set();

// A long heartbeat: no ping of the server's gets in the way of the frames.
const server = serverPerSuite(["conformance", "--engineio", "--ping-interval", "20000", "--ping-timeout", "10000"], () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
});

const upgradeRequest = (port) =>
  `GET ${PATH} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

// A client frame: masked (§5.3) unless `masked` is false; `b0` carries
// FIN, RSV and the opcode.
function frame(b0, payload, { masked = true, length } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "utf8");
  const n = length ?? data.length;
  let head;
  if (n < 126) {
    head = Buffer.from([b0, (masked ? 0x80 : 0) | n]);
  } else if (n <= 0xffff) {
    head = Buffer.from([b0, (masked ? 0x80 : 0) | 126, n >> 8, n & 0xff]);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = (masked ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  if (!masked) return Buffer.concat([head, data]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(data.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, body]);
}
const text = (s) => frame(0x81, s);
const closePayload = (code, reason = "") =>
  Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, "utf8")]);

// A raw WebSocket: the frames the server sends, parsed as they come
// (unmasked server frames), and how the TCP connection ended.
class RawSocket {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.frames = [];
    this.waiters = [];
    this.ended = new Promise((resolve) => {
      socket.on("end", () => resolve("end"));
      socket.on("error", () => resolve("reset"));
      socket.on("close", () => resolve("closed"));
    });
    socket.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
  }

  parse() {
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0];
      const b1 = this.buf[1];
      assert.equal(b1 & 0x80, 0, "a server frame is never masked");
      let n = b1 & 0x7f;
      let at = 2;
      if (n === 126) {
        if (this.buf.length < 4) return;
        n = this.buf.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (this.buf.length < 10) return;
        n = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + n) return;
      const payload = this.buf.subarray(at, at + n);
      this.buf = this.buf.subarray(at + n);
      const f = { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload };
      if (f.opcode === 0x8) {
        f.code = n >= 2 ? payload.readUInt16BE(0) : undefined;
        f.reason = payload.subarray(2).toString("utf8");
      }
      this.frames.push(f);
      for (const w of this.waiters.splice(0)) w();
    }
  }

  // The next frame the server sent.
  async next(what = "a frame") {
    await withTimeout(
      new Promise((resolve) => {
        if (this.frames.length) return resolve();
        this.waiters.push(resolve);
      }),
      WAIT_MS,
      what,
    );
    return this.frames.shift();
  }

  // The next text frame's payload.
  async nextText(what) {
    const f = await this.next(what);
    assert.equal(f.opcode, 0x1, `${what}: a text frame, got opcode ${f.opcode}`);
    return f.payload.toString("utf8");
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  // Writes `bytes` one byte at a time, each in a TCP segment of its own.
  async trickle(bytes) {
    for (const b of bytes) {
      await new Promise((resolve) => this.socket.write(Buffer.from([b]), resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

// Opens a WebSocket on the Engine.IO path by hand, `early` written in the
// same TCP write as the upgrade request; resolves once the open packet is in.
async function open(early = Buffer.alloc(0)) {
  const socket = net.connect({ port: server.port, host: HOST });
  sockets.add(socket);
  let head = Buffer.alloc(0);
  const rest = await withTimeout(
    new Promise((resolve, reject) => {
      socket.on("error", reject);
      socket.on("data", function onData(d) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.off("error", reject);
        assert.match(head.subarray(0, end).toString("latin1"), /^HTTP\/1\.1 101 /);
        resolve(head.subarray(end + 4));
      });
      socket.write(Buffer.concat([Buffer.from(upgradeRequest(server.port), "latin1"), early]));
    }),
    WAIT_MS,
    "the WebSocket handshake",
  );
  const ws = new RawSocket(socket);
  if (rest.length) {
    ws.buf = rest;
    ws.parse();
  }
  const openPacket = await ws.nextText("the open packet");
  assert.ok(openPacket.startsWith('0{"sid":'), openPacket);
  return ws;
}

// Expects a close frame with `code`, then the end of the TCP connection.
async function expectClose(ws, code, what) {
  let f;
  do f = await ws.next(`${what}: the close frame`);
  while (f.opcode !== 0x8);
  assert.equal(f.code, code, `${what}: close code`);
  const how = await withTimeout(ws.ended, WAIT_MS, `${what}: the end of the TCP connection`);
  assert.notEqual(how, "reset", `${what}: the connection ends without a reset`);
}

describe("WebSocket frames read by the server", () => {
  it("answers a ping with its payload, and an unsolicited pong is ignored", async () => {
    const ws = await open();
    ws.write(frame(0x89, "are you there?"));
    const pong = await ws.next("the pong");
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), "are you there?");
    ws.write(frame(0x8a, "unsolicited"));
    ws.write(text("4still here"));
    assert.equal(await ws.nextText("the echo"), "4still here");
  });

  it("reads a message sent one byte per TCP segment, 16- and 64-bit lengths, binary", async () => {
    const ws = await open();
    const long = "4" + "x".repeat(300);
    await ws.trickle(text(long));
    assert.equal(await ws.nextText("the 16-bit message"), long);
    const huge = "4" + "é".repeat(40000); // 80,001 bytes: a 64-bit length
    ws.write(text(huge));
    assert.equal(await ws.nextText("the 64-bit message"), huge);
    ws.write(frame(0x82, Buffer.from([0, 1, 2, 255])));
    const bin = await ws.next("the binary echo");
    assert.equal(bin.opcode, 0x2);
    assert.deepEqual([...bin.payload], [0, 1, 2, 255]);
  });

  it("joins a fragmented message, with a ping between its fragments and a code point split across them", async () => {
    const ws = await open();
    const euro = Buffer.from("€", "utf8"); // 3 bytes, split 1 + 2
    ws.write(
      Buffer.concat([
        frame(0x01, Buffer.concat([Buffer.from("4price: "), euro.subarray(0, 1)])),
        frame(0x89, "mid"),
        frame(0x00, Buffer.concat([euro.subarray(1), Buffer.from("5")])),
        frame(0x80, ""),
      ]),
    );
    const pong = await ws.next("the pong between fragments");
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), "mid");
    assert.equal(await ws.nextText("the joined message"), "4price: €5");
  });

  it("takes frames sent right behind the upgrade request", async () => {
    const ws = await open(text("4early"));
    assert.equal(await ws.nextText("the echo of the early frame"), "4early");
  });

  it("answers a client's close with its code, then ends the TCP connection", async () => {
    const ws = await open();
    ws.write(frame(0x88, closePayload(4001, "bye")));
    await expectClose(ws, 4001, "close 4001");
    const again = await open();
    again.write(frame(0x88, ""));
    await expectClose(again, 1000, "a close without a code");
  });

  const violations = [
    ["an unmasked client frame", frame(0x81, "4x", { masked: false }), 1002],
    ["RSV1 without permessage-deflate", frame(0xc1, "4x"), 1002],
    ["an unknown opcode", frame(0x83, "4x"), 1002],
    ["a fragmented ping", frame(0x09, "x"), 1002],
    ["a ping of 126 bytes", frame(0x89, "p".repeat(126)), 1002],
    ["a continuation without a message", frame(0x80, "4x"), 1002],
    ["a new message inside a fragmented one", Buffer.concat([frame(0x01, "4a"), frame(0x81, "4b")]), 1002],
    ["a close with an invalid code", frame(0x88, closePayload(1005)), 1002],
    ["invalid UTF-8 in a text message", frame(0x81, Buffer.from([0x34, 0xc3, 0x28])), 1007],
    // The header alone: the server must refuse it before any payload arrives.
    ["a message over maxPayload (1,000,000)", frame(0x82, Buffer.alloc(0), { length: 1_000_001 }).subarray(0, 14), 1009],
  ];
  for (const [what, bytes, code] of violations) {
    it(`closes with ${code} on ${what}`, async () => {
      const ws = await open();
      ws.write(bytes);
      await expectClose(ws, code, what);
    });
  }
});
