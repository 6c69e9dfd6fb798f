// Helpers for the BandSync domain tests (bandsync_*.test.mjs): a recording
// socket.io-client "device", payload checks and /metrics parsing. Servers
// (and the shared sleep/withTimeout/canConnect) come from ./server.mjs, the
// one launcher; they are re-exported here for the suites' convenience.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { clusterUrls, nodeFor, sleep, withTimeout } from "./server.mjs";

export {
  BANDSYNC_BIN,
  canConnect,
  cleanEnv,
  freePort,
  hasIpv6Loopback,
  launch,
  sleep,
  waitListening,
  withTimeout,
} from "./server.mjs";

export const WAIT_MS = 5_000;
export const TICK_MS = 100;

let sessionCounter = 0;
// A fresh, valid session id ("band-…"), unique per call.
export function sessionName(prefix = "band") {
  sessionCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sessionCounter}`;
}

// One band member's phone: a socket.io-client socket whose every incoming event
// is recorded (with Date.now() at dispatch) from the moment it is created, so
// no event can be missed between an emit and the await that looks for it.
//
// Tests take a `mark()` before an action and then look only at what arrived
// after it: `waitFor(name, { after, where })`, `waitCount(name, n, { after })`,
// `events({ after, names })`.
export class Device {
  constructor(url, options = {}, label = "device") {
    this.label = label;
    this.records = [];
    this.waiters = [];
    this.disconnectReason = null;
    this.url = nodeFor(url); // a cluster's URL: its next node (server.mjs cluster mode)
    this.socket = io(this.url, {
      forceNew: true,
      reconnection: false,
      timeout: WAIT_MS,
      transports: ["websocket"],
      ...options,
    });
    this.socket.onAny((name, ...args) => this.#record(name, args));
    this.connected = new Promise((resolve, reject) => {
      this.socket.once("connect", () => {
        this.socketId = this.socket.id; // socket.id is cleared on disconnect
        resolve();
      });
      this.socket.once("connect_error", (err) =>
        reject(new Error(`${label}: connect_error: ${err.message}`)),
      );
    });
    this.connected.catch(() => {});
    // The Engine.IO-level cause of a disconnect, for failure messages.
    this.closeDetail = null;
    this.socket.io.on("close", (reason, description) => {
      const d = description ?? {};
      const status = d.context?.status ?? d.context?.statusCode;
      const body = d.context?.responseText;
      this.closeDetail =
        `${reason}` +
        (d.message ? `: ${d.message}` : d.description !== undefined ? `: ${d.description}` : "") +
        (status !== undefined ? ` (HTTP ${status}${body ? ` ${String(body).slice(0, 120)}` : ""})` : "");
    });
    this.disconnected = new Promise((resolve) => {
      this.socket.once("disconnect", (reason) => {
        this.disconnectReason = reason;
        resolve(reason);
      });
    });
  }

  static async connect(url, options = {}, label = "device") {
    const d = new Device(url, options, label);
    await withTimeout(d.connected, WAIT_MS, `${label} to connect to ${url}`);
    return d;
  }

  // The socket id, kept after a disconnect.
  get id() {
    return this.socket.id ?? this.socketId;
  }

  // The default display name the contract gives a member without one.
  get defaultName() {
    return `User ${this.id.slice(-4)}`;
  }

  emit(name, ...args) {
    this.socket.emit(name, ...args);
  }

  mark() {
    return this.records.length;
  }

  #record(name, args) {
    const rec = { name, args, payload: args[0], at: Date.now(), seq: this.records.length };
    this.records.push(rec);
    for (const w of [...this.waiters]) w.check();
  }

  // Records after `after` (a mark), optionally restricted to some names.
  events({ after = 0, names, exclude } = {}) {
    return this.records
      .slice(after)
      .filter((r) => (!names || names.includes(r.name)) && (!exclude || !exclude.includes(r.name)));
  }

  payloads(name, after = 0) {
    return this.events({ after, names: [name] }).map((r) => r.payload);
  }

  // Resolves with the `count`-th record named `name` (matching `where`) at or
  // after `after`; resolves with all `count` of them.
  waitCount(name, count, { after = 0, where = () => true, timeout = WAIT_MS } = {}) {
    const matching = () =>
      this.records.slice(after).filter((r) => r.name === name && where(r.payload, r));
    const found = matching();
    if (found.length >= count) return Promise.resolve(found.slice(0, count));
    let waiter;
    const p = new Promise((resolve) => {
      waiter = {
        check: () => {
          const now = matching();
          if (now.length >= count) {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            resolve(now.slice(0, count));
          }
        },
      };
      this.waiters.push(waiter);
    });
    return withTimeout(p, timeout, `${count} × "${name}" on ${this.label} (${this.#recent()})`).catch(
      (err) => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        throw err;
      },
    );
  }

  // Resolves with the first record named `name` (matching `where`) at or after `after`.
  async waitFor(name, options = {}) {
    const [rec] = await this.waitCount(name, 1, options);
    return rec;
  }

  #recent() {
    const tail = this.records.slice(-6).map((r) => `${r.name} ${JSON.stringify(r.payload)?.slice(0, 160)}`);
    return tail.length ? `last events: ${tail.join(" | ")}` : "no events received";
  }

  close() {
    try {
      this.socket.disconnect();
    } catch {
      // already closed
    }
    try {
      this.socket.io.engine?.close();
    } catch {
      // already closed
    }
  }
}

// Devices opened by a test, closed by its hooks.
export class DeviceJar {
  constructor() {
    this.items = new Set();
  }
  async connect(url, options = {}, label = "device") {
    const d = new Device(url, options, label);
    this.items.add(d);
    await withTimeout(d.connected, WAIT_MS, `${label} to connect to ${url}`);
    return d;
  }
  closeAll() {
    for (const d of this.items) d.close();
    this.items.clear();
  }
}

// Joins `device` to `sessionId` and resolves with the snapshot it receives,
// once `device` and every device in `others` (the members already there)
// have received the user_joined for it.
export async function join(device, sessionId, extra = {}, others = []) {
  const marks = new Map([device, ...others].map((d) => [d, d.mark()]));
  device.emit("join_session", { sessionId, ...extra });
  const rec = await device.waitFor("snapshot", {
    after: marks.get(device),
    where: (p) => p?.sessionId === sessionId || p?.sessionId === undefined,
  });
  for (const d of [device, ...others]) {
    await d.waitFor("user_joined", { after: marks.get(d), where: (p) => p?.member?.socketId === device.id });
  }
  return rec.payload;
}

// Asserts that `obj` has exactly the keys `keys` (order-insensitive).
export function assertKeys(obj, keys, what) {
  assert.ok(obj && typeof obj === "object" && !Array.isArray(obj), `${what}: not an object: ${JSON.stringify(obj)}`);
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(), `${what}: field names differ: ${JSON.stringify(obj)}`);
}

// Asserts that `obj` has at least the keys `keys`.
export function assertHasKeys(obj, keys, what) {
  assert.ok(obj && typeof obj === "object" && !Array.isArray(obj), `${what}: not an object: ${JSON.stringify(obj)}`);
  const missing = keys.filter((k) => !(k in obj));
  assert.deepEqual(missing, [], `${what}: missing fields ${missing.join(", ")}: ${JSON.stringify(obj)}`);
}

export function assertEpochNear(value, what, toleranceMs = 2_000) {
  assert.equal(typeof value, "number", `${what} must be a number, got ${JSON.stringify(value)}`);
  assert.ok(
    Math.abs(Date.now() - value) <= toleranceMs,
    `${what} = ${value} is not an epoch-ms time near now (${Date.now()})`,
  );
}

export const SNAPSHOT_FIELDS = [
  "message",
  "tempo",
  "tempoBpm",
  "position",
  "isPlaying",
  "leaderSocketId",
  "createdAt",
  "lastActiveAt",
  "settings",
  "members",
  "serverTimestamp",
];
// The fields issue 11 (docs/EVENTS.md "Clock") adds to old events: the old
// fields keep their meaning, and these are the only new ones.
export const CLOCK_FIELDS = {
  play: ["startsAt", "countInBars", "beatsPerBar", "beat", "bar"],
  pause: ["beat", "bar"],
  seek: ["effectiveAt", "beat", "bar"],
  scroll_tick: ["beat", "bar"],
  sync_response: ["beatsPerBar", "beat", "bar", "startsAt"],
};
// `connected` is BandSync (seats): false while the member's connection is held;
// `link` is BandSync: the member's last link_report or null (EVENTS.md "Link quality").
export const MEMBER_FIELDS = ["socketId", "displayName", "role", "joinedAt", "lastPingAt", "link", "connected", "heldUntil"];
export const ROOM_STATS_FIELDS = [
  "sessionId",
  "memberCount",
  "connectedCount",
  "isPlaying",
  "tempo",
  "position",
  "leader",
  "uptime",
  "lastActiveAt",
];

// Checks the shape of a snapshot and that its members are `members`
// ([{ device, name, role }] in join order).
export function checkSnapshot(snap, { sessionId, members, leader, what = "snapshot" } = {}) {
  assertHasKeys(snap, SNAPSHOT_FIELDS, what);
  if ("sessionId" in snap && sessionId !== undefined) assert.equal(snap.sessionId, sessionId, `${what}.sessionId`);
  assert.equal(snap.tempo, snap.tempoBpm, `${what}: tempo and tempoBpm must be kept equal`);
  assert.deepEqual(snap.settings, { maxMembers: 8 }, `${what}.settings`);
  assert.equal(typeof snap.position, "number", `${what}.position`);
  assert.equal(typeof snap.isPlaying, "boolean", `${what}.isPlaying`);
  assert.equal(typeof snap.createdAt, "number", `${what}.createdAt`);
  assert.equal(typeof snap.lastActiveAt, "number", `${what}.lastActiveAt`);
  assertEpochNear(snap.serverTimestamp, `${what}.serverTimestamp`);
  assert.ok(Array.isArray(snap.members), `${what}.members must be an array`);
  for (const m of snap.members) {
    assertKeys(m, MEMBER_FIELDS, `${what} member`);
    assert.equal(typeof m.joinedAt, "number", `${what} member.joinedAt`);
    assert.equal(typeof m.lastPingAt, "number", `${what} member.lastPingAt`);
  }
  const leaders = snap.members.filter((m) => m.role === "leader");
  assert.equal(leaders.length, snap.members.length ? 1 : 0, `${what}: exactly one leader expected: ${JSON.stringify(snap.members)}`);
  if (leader !== undefined) {
    assert.equal(snap.leaderSocketId, leader.id, `${what}.leaderSocketId`);
    assert.equal(leaders[0]?.socketId, leader.id, `${what}: the member marked "leader"`);
  }
  if (members) {
    assert.deepEqual(
      snap.members.map((m) => m.socketId),
      members.map((m) => m.device.id),
      `${what}.members must be the members in join order`,
    );
    members.forEach((m, i) => {
      assert.equal(snap.members[i].displayName, m.name, `${what}.members[${i}].displayName`);
      if (m.role) assert.equal(snap.members[i].role, m.role, `${what}.members[${i}].role`);
    });
  }
}

// Parses a Prometheus text exposition into Map("name{labels}" → number).
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^(\S+?(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

// GET /metrics; for a cluster's URL (server.mjs cluster mode), the values of
// all its nodes summed (the counters the suites read are per node).
export async function metrics(url) {
  const out = new Map();
  for (const u of clusterUrls(url)) {
    const res = await fetch(`${u}/metrics`, { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(res.status, 200, "GET /metrics");
    for (const [k, v] of parseMetrics(await res.text())) out.set(k, (out.get(k) ?? 0) + v);
  }
  return out;
}

export async function errorCount(url, code) {
  return (await metrics(url)).get(`bandsync_errors_total{code="${code}"}`) ?? 0;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// Polls `fn` every `every` ms until `ok(value)`; returns the value or fails
// naming `what` with the last value seen.
export async function eventually(fn, ok, what, ms = 10_000, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 600)}`);
    }
    await sleep(every);
  }
}

// GET /health as JSON.
export async function health(url) {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(WAIT_MS) });
  return res.json();
}
