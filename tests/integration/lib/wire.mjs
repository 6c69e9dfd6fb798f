// Raw Engine.IO v4 clients for the protocol tests: a WebSocket with a message
// queue (so no frame is lost between two awaits) and an HTTP long-polling
// session driven with fetch.
//
// Engine.IO v4 facts used here: the server sends ping "2" every pingInterval
// and the client answers "3"; a polling payload joins packets with "\x1e";
// binary packets in a polling payload are "b" + base64.

import net from "node:net";
import WebSocket from "ws";

import { sleep, withTimeout } from "./server.mjs";

export { sleep, withTimeout };

export const SEP = "\x1e";
export const DEFAULT_WAIT_MS = 5_000;

// A WebSocket whose incoming frames are queued. Text frames are strings,
// binary frames are Buffers. With `autoPong` (the default) every text frame
// "2" is answered with "3" and never queued, so tests that last longer than a
// ping interval do not have to care about heartbeats.
export class WireSocket {
  constructor(url, { autoPong = true, headers } = {}) {
    this.url = url;
    this.autoPong = autoPong;
    this.queue = [];
    this.waiters = [];
    this.pings = 0;
    this.errors = [];
    this.isClosed = false;
    this.ws = new WebSocket(url, { headers });
    this.ws.binaryType = "nodebuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("close", () => reject(new Error(`WebSocket ${url} closed before opening`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once("close", (code, reason) => {
        this.isClosed = true;
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`WebSocket closed (code ${code})`));
      });
    });
    this.ws.on("error", (err) => this.errors.push(err));
    this.ws.on("message", (data, isBinary) => {
      const frame = isBinary ? Buffer.from(data) : data.toString("utf8");
      if (!isBinary && frame === "2") {
        this.pings++;
        if (this.autoPong) {
          if (this.ws.readyState === WebSocket.OPEN) this.ws.send("3");
          return;
        }
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(frame);
      else this.queue.push(frame);
    });
  }

  static async open(url, options) {
    const s = new WireSocket(url, options);
    await withTimeout(s.opened, DEFAULT_WAIT_MS, `WebSocket open ${url}`);
    return s;
  }

  get readyState() {
    return this.ws.readyState;
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data) {
    this.ws.send(data);
  }

  // The next queued frame (pings excluded when autoPong). Rejects if the
  // socket closes first or nothing comes within `ms`.
  next(ms = DEFAULT_WAIT_MS) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.isClosed) return Promise.reject(new Error(`WebSocket closed (code ${this.closeInfo.code})`));
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(p, ms, `a frame on ${this.url}`).catch((err) => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      throw err;
    });
  }

  async nextN(count, ms = DEFAULT_WAIT_MS) {
    const frames = [];
    for (let i = 0; i < count; i++) frames.push(await this.next(ms));
    return frames;
  }

  // Resolves with { code, reason } once closed; rejects after `ms`.
  waitClosed(ms = DEFAULT_WAIT_MS) {
    return withTimeout(this.closed, ms, `close of ${this.url}`);
  }

  close() {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.terminate();
    }
  }
}

// Sockets opened by a test, closed by its afterEach hook.
export class SocketJar {
  constructor() {
    this.items = new Set();
  }
  add(s) {
    this.items.add(s);
    return s;
  }
  closeAll() {
    for (const s of this.items) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.items.clear();
  }
}

// Engine.IO handshake over WebSocket: resolves { socket, open } where `open`
// is the parsed payload of the "0" packet.
export async function openWebSocketSession(wsBase, path, options = {}) {
  const socket = await WireSocket.open(`${wsBase}${path}?EIO=4&transport=websocket`, options);
  const first = await socket.next();
  if (typeof first !== "string" || !first.startsWith("0")) {
    socket.close();
    throw new Error(`expected an open packet, got ${JSON.stringify(first)}`);
  }
  return { socket, open: JSON.parse(first.slice(1)) };
}

// An Engine.IO session over HTTP long-polling.
export class PollingSession {
  constructor(baseUrl, path) {
    this.baseUrl = baseUrl;
    this.path = path;
    this.sid = null;
  }

  url(extra = "") {
    const sid = this.sid ? `&sid=${encodeURIComponent(this.sid)}` : "";
    return `${this.baseUrl}${this.path}?EIO=4&transport=polling${sid}${extra}`;
  }

  async handshake() {
    const res = await fetch(this.url(), { signal: AbortSignal.timeout(DEFAULT_WAIT_MS) });
    const body = await res.text();
    if (res.status !== 200 || !body.startsWith("0")) {
      throw new Error(`polling handshake failed: ${res.status} ${body}`);
    }
    this.open = JSON.parse(body.slice(1));
    this.sid = this.open.sid;
    return this.open;
  }

  // GET: resolves { status, body }.
  async get(extra = "", ms = DEFAULT_WAIT_MS) {
    const res = await fetch(this.url(extra), { signal: AbortSignal.timeout(ms) });
    return { status: res.status, body: await res.text(), headers: res.headers };
  }

  // POST: resolves { status, body }.
  async post(body, extra = "", ms = DEFAULT_WAIT_MS) {
    const res = await fetch(this.url(extra), {
      method: "POST",
      signal: AbortSignal.timeout(ms),
      body,
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    return { status: res.status, body: await res.text(), headers: res.headers };
  }

  // Polls until `count` packets other than pings have arrived; each ping is
  // answered with "3". Resolves to the packets in order.
  async collect(count, ms = DEFAULT_WAIT_MS) {
    const packets = [];
    const work = async () => {
      while (packets.length < count) {
        const { status, body } = await this.get();
        if (status !== 200) throw new Error(`poll failed: ${status} ${body}`);
        let pinged = false;
        for (const p of body.split(SEP)) {
          if (p === "2") pinged = true;
          else packets.push(p);
        }
        if (pinged) {
          const pong = await this.post("3");
          if (pong.status !== 200) throw new Error(`pong failed: ${pong.status} ${pong.body}`);
        }
      }
      return packets;
    };
    return withTimeout(work(), ms, `${count} polled packet(s)`);
  }
}

// A raw HTTP/1.1 request over a fresh TCP connection, for bodies the server
// may refuse before reading them (fetch reports EPIPE when the server answers
// early and closes). The head goes first; the body only if no response came
// within `headWaitMs`. Resolves { status, headers, body } of the response.
export function rawHttpRequest(port, { method, target, headers = {}, body = "" }, headWaitMs = 1_000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1" });
      const chunks = [];
      let settled = false;
      const finish = () => {
        if (settled) return;
        const text = Buffer.concat(chunks).toString("latin1");
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
        const parsedHeaders = {};
        for (const line of lines) {
          const i = line.indexOf(":");
          parsedHeaders[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const length = Number(parsedHeaders["content-length"] ?? 0);
        const rest = text.slice(end + 4);
        if (rest.length < length) return;
        settled = true;
        clearTimeout(bodyTimer);
        socket.destroy();
        resolve({ status: Number(statusLine.split(" ")[1]), headers: parsedHeaders, body: rest.slice(0, length) });
      };
      socket.on("data", (d) => {
        chunks.push(d);
        finish();
      });
      socket.on("error", () => {}); // EPIPE/ECONNRESET once the server gave up on the body
      socket.on("close", () => {
        finish();
        if (!settled) reject(new Error(`connection closed without a complete response: ${Buffer.concat(chunks)}`));
      });
      const bodyBytes = Buffer.from(body);
      const head =
        `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${bodyBytes.length}\r\n` +
        Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join("") +
        "\r\n";
      socket.write(head);
      const bodyTimer = setTimeout(() => {
        if (!settled && !socket.destroyed) socket.write(bodyBytes);
      }, headWaitMs);
    }),
    DEFAULT_WAIT_MS + headWaitMs,
    `a response to ${method} ${target}`,
  );
}
