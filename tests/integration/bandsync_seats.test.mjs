// Seats that survive drops (issue 10; EVENTS.md "Seats"), from outside, with
// the stock socket.io-client 4.8 and a TCP proxy per device
// (lib/tcp_proxy.mjs) that freezes or cuts its link:
//   - follower and leader drops of 1, 3, 10 and 30 s over WebSocket and
//     polling: the device comes back recovered, with the same id and role,
//     every stored event it missed exactly once and in order, following
//     ticks again within 1 s; the band keeps getting ticks while its leader
//     is frozen; a leader frozen past LEADER_GRACE hands the lead over and
//     comes back as a follower;
//   - a cut with an immediate reconnect while the server holds the old
//     connection;
//   - clientId seat reclaim with recovery off (the old app's re-join);
//   - a full session whose held seat admits a new device;
//   - member_status: the others learn which seat is held (with heldUntil),
//     back, or released when its window passes.
// Short pings (1 s + 1 s) make the server notice a frozen link within 2 s.
// Every case runs concurrently: the suite takes about as long as the 30 s drop.
//
// With BANDSYNC_TEST_NODES=N (integration.cluster_contract_*; lib/server.mjs
// cluster mode) every server is N nodes on one Redis and the devices of a
// case are on different nodes: in the drop cases over WebSocket the session
// runs on B's node and A's held seat is on another (its hold and return are
// forwarded to the owner), over polling on A's node; a cut and a full
// session hold a seat on a node that does not run the session; the
// clientId re-join arrives on another node than the ghost's; and a device
// that a load balancer moves to another node keeps its seat and role with
// its clientId (recovery itself is per node: socket.recovered is false).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { CLUSTER_NODES, cleanEnv, clusterUrls, sleep, startServer, withTimeout } from "./lib/server.mjs";
import { TcpProxy } from "./lib/tcp_proxy.mjs";

const GRACE_MS = 15_000;
// Longer drops than the suite's (issue 10: "frozen for 1–60 s"), by hand:
// BANDSYNC_SEATS_DROPS_MS=60000 adds follower and leader cases over both
// transports; the window grows to keep their seats.
const EXTRA_DROPS_MS = (process.env.BANDSYNC_SEATS_DROPS_MS ?? "")
  .split(",")
  .filter((x) => x.trim())
  .map(Number);
const WINDOW_MS = Math.max(45_000, ...EXTRA_DROPS_MS.map((d) => d + 30_000));
const PINGS = { SOCKET_PING_INTERVAL: "1000", SOCKET_PING_TIMEOUT: "1000" };
const WAIT_MS = 10_000;

const clients = new Set();
const proxies = new Set();
let counter = 0;
const unique = (prefix) => `${prefix}-${process.pid}-${++counter}`;

function closeAll() {
  for (const c of clients) {
    c.disconnect();
    c.io.engine?.close();
  }
  clients.clear();
  for (const p of proxies) p.stop();
  proxies.clear();
}

// A band device: every event (with all its arguments) and every `connect`,
// in the order the application sees them.
function phone(url, options = {}) {
  const socket = io(url, {
    forceNew: true,
    reconnectionDelay: 200,
    reconnectionDelayMax: 200,
    randomizationFactor: 0,
    timeout: 5_000,
    transports: ["websocket"],
    ...options,
  });
  clients.add(socket);
  const log = [];
  socket.onAny((name, ...args) => log.push({ name, p: args[0], args, at: Date.now() }));
  socket.on("connect", () =>
    log.push({ name: "connect", id: socket.id, recovered: socket.recovered, at: Date.now() }),
  );
  return { socket, log, emit: (...a) => socket.emit(...a) };
}

function waitUntil(predicate, what, ms = WAIT_MS) {
  return withTimeout(
    (async () => {
      while (!predicate()) await sleep(20);
    })(),
    ms,
    what,
  );
}

const named = (ph, name, from = 0) => ph.log.slice(from).filter((e) => e.name === name);
const connects = (ph) => named(ph, "connect");

async function connected(ph) {
  await waitUntil(() => ph.socket.connected && connects(ph).length > 0, "connect");
}

// The device's socket id, from its first `connect`: socket.id is cleared
// while the client sees its link down, which under load happens on its own
// (a late pong) between two awaits.
const idOf = (ph) => connects(ph)[0].id;

// Emits `name` until `done()`: again after each reconnect of the device while
// not done. An emit rides on the transport of the moment; one that dies with
// it is lost (Socket.IO delivers client packets at most once; recovery
// replays only the server's). Under load, links with 1 s + 1 s pings drop
// and come back (recovered) on their own, before any freeze.
async function emitUntil(ph, name, payload, done, what, ms = WAIT_MS) {
  let sentAfter = connects(ph).length;
  ph.emit(name, payload);
  await waitUntil(
    () => {
      if (done()) return true;
      if (connects(ph).length > sentAfter && ph.socket.connected) {
        sentAfter = connects(ph).length;
        ph.emit(name, payload);
      }
      return false;
    },
    what,
    ms,
  );
}

// join_session, resolved with the joiner's snapshot.
async function join(ph, sessionId, extra = {}) {
  const from = ph.log.length;
  await emitUntil(
    ph,
    "join_session",
    { sessionId, ...extra },
    () => named(ph, "snapshot", from).length > 0 || named(ph, "error", from).length > 0,
    "snapshot",
  );
  const err = named(ph, "error", from)[0];
  assert.equal(err, undefined, `join refused: ${JSON.stringify(err?.p)}`);
  return named(ph, "snapshot", from)[0].p;
}

// Stored events carry their offset last (a string): no offset twice.
function assertNoDuplicates(ph) {
  const offsets = ph.log
    .filter((e) => e.args && e.args.length >= 2 && typeof e.args[e.args.length - 1] === "string")
    .map((e) => e.args[e.args.length - 1]);
  assert.equal(new Set(offsets).size, offsets.length, "a stored event was delivered twice");
}

const portOf = (url) => Number(new URL(url).port);

// The URL of node `k` (mod the node count) of `server`: the server itself
// when it is a single node.
function nodeUrl(server, k) {
  const urls = clusterUrls(server.url);
  return urls[k % urls.length];
}

// A proxy to node `k` of `server` (its only node when single).
async function withProxy(server, k = 0) {
  const proxy = await TcpProxy.start(portOf(nodeUrl(server, k)));
  proxies.add(proxy);
  return proxy;
}

// One drop: device A (behind its proxy; leader or follower) and device B
// (direct) in a playing session; A's link freezes for `dropMs` while B
// changes the message every 500 ms. `k`: the case's number, which puts A and
// B on different nodes of a cluster.
// `pingsMs`: the server's ping interval + timeout, within which it notices a
// frozen link.
async function dropCase(server, { role, transport, dropMs, k, afterThawMs = 15_000, pingsMs = 2_000 }) {
  const sessionId = unique(`drop-${role}-${transport}-${dropMs}`);
  const proxy = await withProxy(server, k);
  const a = phone(`http://127.0.0.1:${proxy.port}`, { transports: [transport] });
  const b = phone(nodeUrl(server, k + 1));
  await connected(a);
  await connected(b);
  const aId = idOf(a);
  // The first to join leads, and on a cluster its node runs the session:
  // B's over WebSocket (A's seat is held on a node that does not run it),
  // A's over polling. The second takes the lead when the case's role says so.
  const aFirst = CLUSTER_NODES > 1 ? transport === "polling" : role === "leader";
  if (aFirst) {
    await join(a, sessionId, { displayName: "A" });
    await join(b, sessionId, { displayName: "B", ...(role === "follower" ? { role: "leader" } : {}) });
  } else {
    await join(b, sessionId, { displayName: "B" });
    await join(a, sessionId, { displayName: "A", ...(role === "leader" ? { role: "leader" } : {}) });
  }
  await waitUntil(() => named(a, "user_joined").length === (aFirst ? 2 : 1), "A sees B");
  if (aFirst !== (role === "leader")) {
    await waitUntil(() => named(aFirst ? a : b, "role_changed").length === 1, "the lead taken");
  }
  const player = role === "leader" ? a : b;
  const playAt = Date.now();
  try {
    await emitUntil(
      player,
      "play",
      { sessionId },
      () => named(a, "scroll_tick").length > 0 && named(b, "scroll_tick").length > 0,
      "ticks",
    );
  } catch (e) {
    const seen = (ph) =>
      JSON.stringify(ph.log.filter((x) => x.name !== "scroll_tick").map((x) => [x.name, x.at - playAt, x.id ?? x.p?.code]));
    throw new Error(`${e.message}; A: ${seen(a)}; B: ${seen(b)}; A connected ${a.socket.connected}`);
  }

  const fromA = a.log.length;
  const fromB = b.log.length;
  const frozeAt = Date.now();
  proxy.freeze(dropMs);
  // B changes the message every 500 ms and, when it leads, the tempo after
  // each message: every snapshot A missed is [message, tempo], in order.
  const sent = [];
  const expected = [];
  let tempo = named(a, "snapshot").at(-1).p.tempo;
  while (Date.now() - frozeAt < dropMs - 300) {
    const m = `m${sent.length + 1}`;
    sent.push(m);
    b.emit("update_message", { sessionId, message: m });
    expected.push([m, tempo]);
    if (role === "follower") {
      tempo = 60 + (sent.length % 200);
      b.emit("set_tempo", { sessionId, tempo });
      expected.push([m, tempo]);
    }
    await sleep(500);
  }
  const thawAt = frozeAt + dropMs;
  await sleep(Math.max(0, thawAt - Date.now()));

  const missed = () =>
    named(a, "snapshot", fromA)
      .filter((e) => /^m\d+$/.test(e.p.message))
      .map((e) => [e.p.message, e.p.tempo]);
  const messages = () => [...new Set(missed().map(([m]) => m))];
  await waitUntil(
    () => a.socket.connected && missed().length >= expected.length,
    `A back with ${expected.length} snapshots (got ${missed().length}; connects ${connects(a).length})`,
    afterThawMs,
  );
  // The server has decided about every ping sent during the freeze within a
  // ping timeout (1 s) of the thaw. Under load even a 1 s freeze can end in
  // a close (a late pong) that the client reads only after the replayed
  // messages; it then reconnects (recovered, 200 ms later). Settle first:
  // anything delivered twice would show up now as well.
  await sleep(Math.max(300, thawAt + 1_500 - Date.now()));
  await waitUntil(() => a.socket.connected, "A connected after the drop", 5_000);
  assert.deepEqual(messages(), sent, "every missed message exactly once and in order");
  assert.deepEqual(missed(), expected, "every missed snapshot (message, tempo) exactly once and in order");
  assertNoDuplicates(a);
  assert.equal(
    a.socket.id,
    aId,
    `same socket id (connected ${a.socket.connected}; connects ${JSON.stringify(connects(a).map((c) => [c.id, c.recovered, c.at - frozeAt]))})`,
  );
  const reconnects = named(a, "connect", fromA);
  for (const c of reconnects) assert.equal(c.recovered, true, "recovered, not a new connection");
  const noticed = dropMs >= pingsMs + 1_000;
  if (noticed) assert.ok(reconnects.length >= 1, `a ${dropMs} ms freeze is noticed (pings ${pingsMs} ms)`);

  // Nobody left or joined: the seat stayed.
  assert.equal(named(b, "user_left", fromB).length, 0, "the held seat never left");
  assert.equal(named(b, "user_joined", fromB).length, 0);
  if (noticed) {
    const counts = named(b, "room_stats", fromB).map((e) => e.p.connectedCount);
    assert.ok(counts.includes(1), `B saw A disconnected: ${counts}`);
    assert.equal(counts[counts.length - 1], 2, `B saw A back: ${counts}`);
    const held = named(b, "room_stats", fromB).find((e) => e.p.connectedCount === 1);
    assert.equal(held.p.memberCount, 2);
  }

  const beyondGrace = role === "leader" && dropMs > GRACE_MS;
  const roleChanges = named(b, "role_changed", fromB);
  if (role === "leader") {
    // The band kept playing while its leader was frozen (within the grace).
    const during = named(b, "scroll_tick", fromB).filter(
      (e) => e.at < frozeAt + Math.min(dropMs, GRACE_MS) - 200,
    );
    const expected = (Math.min(dropMs, GRACE_MS) - 200) / 100;
    assert.ok(during.length >= expected * 0.5, `B got ${during.length} ticks, expected ~${expected}`);
  }
  if (beyondGrace) {
    assert.equal(roleChanges.length, 1, "the lead passed once");
    assert.equal(roleChanges[0].p.socketId, b.socket.id);
    assert.equal(roleChanges[0].p.reason, "leader_disconnected");
    const passedAfter = roleChanges[0].at - frozeAt;
    assert.ok(passedAfter >= GRACE_MS, `the lead passed after ${passedAfter} ms, before the grace`);
    // A saw it too (replayed), and is a follower now.
    assert.equal(named(a, "role_changed", fromA).length, 1);
    b.emit("sync_request", { sessionId });
    const last = named(a, "snapshot").at(-1).p;
    assert.equal(last.leaderSocketId, b.socket.id);
    assert.equal(last.isPlaying, false, "an election pauses");
    assert.equal(last.members.find((m) => m.socketId === aId)?.role, "follower");
  } else {
    assert.equal(roleChanges.length, 0, "nobody else became leader");
    // Following ticks within 1 s of the transport coming back.
    const back = reconnects.at(-1)?.at ?? thawAt;
    await waitUntil(() => named(a, "scroll_tick").some((e) => e.at > back), "a tick after the return", 3_000);
    const firstTick = named(a, "scroll_tick").find((e) => e.at > back);
    assert.ok(firstTick.at - back <= 1_000, `first tick ${firstTick.at - back} ms after the return`);
    if (role === "leader") {
      // Still the leader: its command reaches the band.
      const fromB2 = b.log.length;
      a.emit("set_tempo", { sessionId, tempo: 97 });
      await waitUntil(() => named(b, "snapshot", fromB2).some((e) => e.p.tempo === 97), "A's tempo");
      assert.equal(named(a, "error", fromA).length, 0, "no NOT_LEADER");
    }
  }
  // A's seat is connected again, with its role. Under load a link with
  // 1 s + 1 s pings also drops on its own after the return (a late pong: the
  // server holds the seat, and the client reconnects, recovered, a moment
  // later; seen in the cluster logs as a second "ping timeout" within
  // seconds of the return). A seat shown held is only right while A's link
  // is really down: then A must come back (a new connect) and its seat with
  // it; a seat held while A stays connected is the failure.
  for (let attempt = 1; ; attempt++) {
    const connectsBefore = connects(a).length;
    const fromB3 = b.log.length;
    b.emit("update_message", { sessionId, message: `after${attempt}` });
    await waitUntil(() => named(b, "snapshot", fromB3).length > 0, "snapshot after");
    const seat = named(b, "snapshot", fromB3)[0].p.members.find((m) => m.socketId === aId);
    if (seat?.connected !== true && attempt < 3) {
      const redropped = await withTimeout(
        (async () => {
          while (!(connects(a).length > connectsBefore && a.socket.connected)) await sleep(20);
          return true;
        })(),
        5_000,
        "A's reconnect",
      ).catch(() => false);
      if (redropped) {
        assert.equal(connects(a).at(-1).recovered, true, "recovered, not a new connection");
        assert.equal(a.socket.id, aId);
        continue;
      }
    }
    assert.equal(seat?.connected, true, "A's seat connected");
    assert.equal(seat.role, beyondGrace ? "follower" : role);
    break;
  }
}

// Which member is held (member_status, EVENTS.md "Seats"): room_stats only
// counts, so the other devices are told whose link was lost, until when its
// seat is kept, and that it is back; a seat whose window passes leaves with
// user_left. On a server with a short window (STATUS_WINDOW_MS) so that the
// expiry is seen within the suite; run with the drop cases, concurrently.
const STATUS_WINDOW_MS = 5_000;

// B leads, A (behind its proxy) follows; A's link dies (both ends reset,
// reconnect attempts frozen): the server holds A's seat at once.
async function statusBand(server, name) {
  const sessionId = unique(name);
  const proxy = await withProxy(server);
  const a = phone(`http://127.0.0.1:${proxy.port}`);
  // On a cluster B joins first on node 1 and its node runs the session: A's
  // seat is held on a node that does not (the hold is forwarded to the owner).
  const b = phone(nodeUrl(server, 1));
  await connected(a);
  await connected(b);
  await join(b, sessionId, { displayName: "B" });
  await join(a, sessionId, { displayName: "A" });
  await waitUntil(() => named(b, "user_joined").length === 2, "B hears of A");
  const aId = idOf(a);
  const fromB = b.log.length;
  const droppedAt = Date.now();
  proxy.freeze();
  await proxy.cut();
  await waitUntil(() => named(b, "member_status", fromB).length > 0, "B told of A's held seat");
  return { sessionId, proxy, a, b, aId, fromB, droppedAt };
}

async function statusHeldThenBack(server) {
  const { sessionId, proxy, a, b, aId, fromB, droppedAt } = await statusBand(server, "status-back");
  const held = named(b, "member_status", fromB)[0];
  assert.deepEqual(Object.keys(held.p).sort(), ["connected", "heldUntil", "sessionId", "socketId"]);
  assert.equal(held.p.sessionId, sessionId);
  assert.equal(held.p.socketId, aId);
  assert.equal(held.p.connected, false);
  // Server time (epoch ms) about one window after the drop (generous: a
  // loaded machine notices the reset late; clocks of one machine).
  const ahead = held.p.heldUntil - droppedAt;
  assert.ok(ahead > STATUS_WINDOW_MS - 500 && ahead < STATUS_WINDOW_MS + 3_000, `heldUntil ${ahead} ms after the drop`);
  // After the room_stats that counts it out, as EVENTS.md says.
  const order = b.log.slice(fromB).map((e) => e.name).filter((n) => n === "room_stats" || n === "member_status");
  assert.deepEqual(order.slice(0, 2), ["room_stats", "member_status"]);
  assert.equal(named(b, "room_stats", fromB)[0].p.connectedCount, 1);
  // A device that joins meanwhile sees the held seat and its deadline in its snapshot.
  const c = phone(nodeUrl(server, 2));
  await connected(c);
  const snap = await join(c, sessionId, { displayName: "C" });
  const seat = snap.members.find((m) => m.socketId === aId);
  assert.equal(seat.connected, false);
  assert.equal(seat.heldUntil, held.p.heldUntil);
  assert.equal(snap.members.find((m) => m.socketId === c.socket.id).heldUntil, null);

  const fromB2 = b.log.length;
  const fromC = c.log.length;
  proxy.thaw();
  await waitUntil(() => named(b, "member_status", fromB2).length > 0, "B told A is back");
  await waitUntil(() => named(c, "member_status", fromC).length > 0, "C told A is back");
  for (const [ph, from] of [
    [b, fromB2],
    [c, fromC],
  ]) {
    assert.deepEqual(named(ph, "member_status", from)[0].p, { sessionId, socketId: aId, connected: true, heldUntil: null });
  }
  await waitUntil(() => a.socket.connected, "A connected");
  assert.equal(a.socket.id, aId);
  assert.equal(connects(a).at(-1).recovered, true);
  // A itself gets the news of its own seat in order: held (replayed), then
  // back (on a cluster "back" comes from the owner node after A's own node
  // replayed "held": wait for it rather than read it at once).
  const own = () => named(a, "member_status").filter((e) => e.p.socketId === aId).map((e) => e.p.connected);
  await waitUntil(() => own().includes(true), "A told it is back");
  assert.deepEqual(own().slice(-2), [false, true]);
  // Nobody left, nobody joined but C.
  assert.equal(named(b, "user_left", fromB).length, 0);
  assert.deepEqual(named(b, "user_joined", fromB).map((e) => e.p.member.displayName), ["C"]);
}

async function statusHeldThenExpired(server) {
  const { a, b, aId, fromB } = await statusBand(server, "status-expired");
  const held = named(b, "member_status", fromB)[0].p;
  assert.equal(held.socketId, aId);
  await waitUntil(() => named(b, "user_left", fromB).length > 0, "A's seat released", STATUS_WINDOW_MS + 5_000);
  const left = named(b, "user_left", fromB)[0];
  assert.equal(left.p.socketId, aId);
  assert.equal(left.p.memberCount, 1);
  assert.equal(left.p.newLeader, null);
  // Released at its heldUntil (generous: the server's release timer and
  // this process's reading of the event run late under load).
  const late = left.at - held.heldUntil;
  assert.ok(late > -300 && late < 3_000, `user_left ${late} ms after heldUntil`);
  const statuses = named(b, "member_status", fromB).map((e) => e.p.connected);
  assert.deepEqual(statuses, [false], "no 'back' for a seat that never came back");
  assert.equal(a.socket.connected, false);
}

describe("seats with recovery on", { concurrency: true }, () => {
  let server;
  let statusServer; // the member_status cases' (a short window)
  let defaultPingServer; // socket.io's pings: a frozen link looks open for up to 15 s
  before(async () => {
    // One node even in cluster mode: what it checks is the ping timing.
    defaultPingServer = startServer(["serve"], {
      env: cleanEnv({ SOCKET_RECOVERY_WINDOW: String(WINDOW_MS), LEADER_GRACE: String(GRACE_MS) }),
    });
    statusServer = startServer(["serve"], {
      env: cleanEnv({ ...PINGS, SOCKET_RECOVERY_WINDOW: String(STATUS_WINDOW_MS) }),
      cluster: true,
    });
    server = await startServer(["serve"], {
      env: cleanEnv({
        ...PINGS,
        SOCKET_RECOVERY_WINDOW: String(WINDOW_MS),
        LEADER_GRACE: String(GRACE_MS),
      }),
      cluster: true,
    });
  });
  after(async () => {
    closeAll();
    const exit = await server.stop();
    assert.equal(exit.code, 0, `server exit ${JSON.stringify(exit)}; stderr:\n${server.stderr()}`);
    const short = await statusServer;
    const shortExit = await short.stop();
    assert.equal(shortExit.code, 0, `server exit ${JSON.stringify(shortExit)}; stderr:\n${short.stderr()}`);
    const plain = await defaultPingServer;
    const plainExit = await plain.stop();
    assert.equal(plainExit.code, 0, `server exit ${JSON.stringify(plainExit)}; stderr:\n${plain.stderr()}`);
  });

  it("member_status: held then back; every member learns which seat, with heldUntil, then that it is back", async () =>
    statusHeldThenBack(await statusServer));

  it("member_status: held then expired; user_left names the seat when its window passes, no 'back'", async () =>
    statusHeldThenExpired(await statusServer));

  let k = 0;
  for (const transport of ["websocket", "polling"]) {
    for (const role of ["follower", "leader"]) {
      for (const dropMs of [1_000, 3_000, 10_000, 30_000, ...EXTRA_DROPS_MS]) {
        const caseNumber = k++;
        it(`${role} frozen ${dropMs / 1000} s over ${transport}`, { timeout: dropMs + 60_000 }, () =>
          dropCase(server, { role, transport, dropMs, k: caseNumber }),
        );
      }
    }
    // With the default pings (10 s + 5 s) the server holds the frozen link
    // open for up to 15 s of the 30: the phone gives up on it first and
    // reconnects through the frozen link as soon as it thaws.
    const caseNumber = k++;
    it(`follower frozen 30 s over ${transport}, default pings (the server thinks the link is open for up to 15 s)`, { timeout: 90_000 }, async () =>
      dropCase(await defaultPingServer, { role: "follower", transport, dropMs: 30_000, k: caseNumber, pingsMs: 15_000 }),
    );
  }

  it("a cut with an immediate reconnect gets back its seat and what was in flight", async () => {
    const sessionId = unique("cut");
    const proxy = await withProxy(server, 0);
    const a = phone(`http://127.0.0.1:${proxy.port}`);
    const b = phone(nodeUrl(server, 1)); // B joins first: its node runs the session
    await connected(a);
    await connected(b);
    const aId = idOf(a);
    await join(b, sessionId, { displayName: "B" });
    await join(a, sessionId, { displayName: "A" });
    const fromA = a.log.length;
    const fromB = b.log.length;
    const old = proxy.last;
    old.freeze(); // in flight: lost with the cut
    for (const m of ["c1", "c2", "c3"]) b.emit("update_message", { sessionId, message: m });
    await sleep(200);
    await old.cut(); // both sides reset; the client reconnects 200 ms later
    await waitUntil(() => connects(a).length >= 2 && a.socket.connected, "A reconnected");
    await waitUntil(() => named(a, "snapshot", fromA).length >= 3, "replay");
    await sleep(300);
    assert.equal(a.socket.id, aId);
    assert.equal(connects(a).at(-1).recovered, true);
    assert.deepEqual(
      named(a, "snapshot", fromA).map((e) => e.p.message),
      ["c1", "c2", "c3"],
    );
    assertNoDuplicates(a);
    assert.equal(named(b, "user_left", fromB).length, 0);
    // Held then back (room_stats 1 then 2), or taken over before the server
    // saw the reset (no room_stats to the session at all).
    const counts = named(b, "room_stats", fromB).map((e) => e.p.connectedCount);
    if (counts.length) assert.equal(counts.at(-1), 2, `B's room_stats: ${counts}`);
  });

  it("a full session admits a new device in place of a held seat", async () => {
    const sessionId = unique("full");
    // B joins first (its node runs the session), then A (behind its proxy,
    // on another node of a cluster), then six more spread over the nodes.
    const b = phone(nodeUrl(server, 0));
    await connected(b);
    await join(b, sessionId, { displayName: "M0" });
    const proxy = await withProxy(server, 1);
    const a = phone(`http://127.0.0.1:${proxy.port}`);
    await connected(a);
    await join(a, sessionId, { displayName: "A" });
    const aId = idOf(a);
    const others = [b];
    for (let i = 1; i < 7; i++) {
      const o = phone(nodeUrl(server, i));
      await connected(o);
      await join(o, sessionId, { displayName: `M${i}` });
      others.push(o);
    }
    // B has heard of every join (its own, A's and the six after) before the
    // marker: those news travel on B's socket, not with the joiners' snapshots.
    await waitUntil(() => named(b, "user_joined").length === 8, "B hears of every join");
    const fromB = b.log.length;
    proxy.freeze();
    await waitUntil(
      () => named(b, "room_stats", fromB).some((e) => e.p.connectedCount === 7),
      "A held",
      6_000,
    );
    const late = phone(nodeUrl(server, 2));
    await connected(late);
    const snap = await join(late, sessionId, { displayName: "Late" });
    assert.equal(snap.members.length, 8);
    assert.ok(!snap.members.some((m) => m.socketId === aId));
    // B's news of it may come after Late's own snapshot (another socket).
    await waitUntil(() => named(b, "user_joined", fromB).length > 0, "B hears of Late");
    const order = b.log.slice(fromB).filter((e) => e.name === "user_left" || e.name === "user_joined");
    assert.equal(order[0].name, "user_left");
    assert.equal(order[0].p.socketId, aId);
    assert.equal(order[1].name, "user_joined");
    assert.equal(order[1].p.member.socketId, late.socket.id);
    // Every seat connected now: the session is full again.
    const extra = phone(nodeUrl(server, 3));
    await connected(extra);
    extra.emit("join_session", { sessionId });
    await waitUntil(() => named(extra, "error").length > 0, "SESSION_FULL");
    assert.equal(named(extra, "error")[0].p.code, "SESSION_FULL");
  });

  // Connection state recovery is per node (the stored packets live in the
  // memory of the node that held the socket): a CONNECT with a pid another
  // node gave out is an ordinary new connection. The band half survives:
  // the app's re-join with its clientId takes the seat, held or not, lead
  // included, wherever the device lands (docs/EVENTS.md "Cluster").
  it(
    "a device moved to another node keeps its seat and lead with its clientId (recovered false)",
    { skip: CLUSTER_NODES < 2 ? "one node" : false },
    async () => {
      const sessionId = unique("moved");
      const clientId = unique("phone-m").replaceAll(/[^A-Za-z0-9_-]/g, "_");
      const b = phone(nodeUrl(server, 0));
      await connected(b);
      await join(b, sessionId, { displayName: "B" }); // node 1 runs the session
      const proxy = await withProxy(server, 1);
      const a = phone(`http://127.0.0.1:${proxy.port}`);
      a.socket.on("connect", () =>
        a.emit("join_session", { sessionId, clientId, displayName: "A", role: "leader" }),
      );
      await waitUntil(() => named(a, "snapshot").length > 0, "A joined");
      const oldId = a.socket.id;
      await waitUntil(() => named(b, "role_changed").some((e) => e.p.socketId === oldId), "A leads");
      await emitUntil(a, "play", { sessionId }, () => named(b, "scroll_tick").length > 0, "ticks");

      const fromA = a.log.length;
      const fromB = b.log.length;
      proxy.last.freeze(); // its node has not noticed the loss yet
      proxy.retarget(portOf(nodeUrl(server, 2))); // the balancer sends it elsewhere
      a.socket.io.engine.close();
      await waitUntil(() => connects(a).length >= 2 && a.socket.connected, "A reconnected");
      assert.equal(connects(a).at(-1).recovered, false, "a pid from another node is not recovered");
      const newId = a.socket.id;
      assert.notEqual(newId, oldId);
      await waitUntil(() => named(b, "member_replaced", fromB).length > 0, "member_replaced");
      const mr = named(b, "member_replaced", fromB)[0].p;
      assert.equal(mr.previousSocketId, oldId);
      assert.equal(mr.socketId, newId);
      assert.equal(mr.member.role, "leader");
      await waitUntil(() => named(a, "snapshot", fromA).length > 0, "A's snapshot");
      const snap = named(a, "snapshot", fromA).at(-1).p;
      assert.equal(snap.leaderSocketId, newId);
      assert.equal(snap.isPlaying, true, "the band never stopped");
      assert.equal(snap.members.length, 2);
      // The ghost's node notices the loss (pings 1 s + 1 s) and holds it: the
      // seat is not its any more, so nothing changes for the band.
      await sleep(3_000);
      const fromB2 = b.log.length;
      a.emit("pause", { sessionId });
      await waitUntil(() => named(b, "pause", fromB2).length > 0, "A's pause");
      const names = b.log.slice(fromB).map((e) => e.name);
      for (const n of ["user_left", "role_changed", "user_joined"]) {
        assert.ok(!names.includes(n), `no ${n}: ${names.filter((x) => x !== "scroll_tick")}`);
      }
      await proxy.cut();
    },
  );
});

describe("clientId seats with recovery off", () => {
  let server;
  before(async () => {
    server = await startServer(["serve"], {
      env: cleanEnv({ ...PINGS, SOCKET_RECOVERY_WINDOW: "0" }),
      cluster: true,
    });
  });
  after(async () => {
    closeAll();
    const exit = await server.stop();
    assert.equal(exit.code, 0, `server exit ${JSON.stringify(exit)}; stderr:\n${server.stderr()}`);
  });

  it("the old app's re-join with its clientId takes its seat back, lead included", async () => {
    const sessionId = unique("reclaim");
    const clientId = unique("phone-a").replaceAll(/[^A-Za-z0-9_-]/g, "_");
    const proxy = await withProxy(server, 0);
    // A hears everything 50 ms after B (a slow downlink): nothing below may
    // rely on A's and B's sockets delivering in the server's send order.
    proxy.delayDown(50);
    const a = phone(`http://127.0.0.1:${proxy.port}`);
    // The old app: join_session again on every connect.
    a.socket.on("connect", () => a.emit("join_session", { sessionId, clientId, displayName: "A" }));
    await waitUntil(() => named(a, "snapshot").length > 0, "A joined");
    const b = phone(nodeUrl(server, 1));
    await connected(b);
    const joinedB = await join(b, sessionId, { displayName: "B" });
    const seatA = joinedB.members.find((m) => m.role === "leader");
    const oldId = a.socket.id;
    assert.equal(seatA.socketId, oldId);
    a.emit("play", { sessionId });
    await waitUntil(() => named(b, "scroll_tick").length > 0, "ticks");

    const fromA = a.log.length;
    const fromB = b.log.length;
    const old = proxy.last;
    old.freeze(); // dead link the server has not noticed yet
    // On a cluster the phone comes back on another node than its ghost's
    // (which runs the session): the re-join is forwarded there.
    proxy.retarget(portOf(nodeUrl(server, 1)));
    a.socket.io.engine.close(); // the phone gives up on it and reconnects (new id)
    await waitUntil(() => connects(a).length >= 2 && a.socket.connected, "A reconnected");
    const newId = a.socket.id;
    assert.notEqual(newId, oldId, "recovery off: a new socket");
    // Each device's own events, in order; nothing across the two (the server
    // sends A's snapshot first, but A's link is the slower one).
    await waitUntil(
      () => named(b, "member_replaced", fromB).length > 0 && named(b, "room_stats", fromB).length > 0,
      "member_replaced and room_stats",
    );
    await waitUntil(() => named(a, "snapshot", fromA).length > 0, "A's snapshot for its re-join");
    const mr = named(b, "member_replaced", fromB)[0].p;
    assert.deepEqual(Object.keys(mr).sort(), ["member", "previousSocketId", "sessionId", "socketId"]);
    assert.equal(mr.sessionId, sessionId);
    assert.equal(mr.previousSocketId, oldId);
    assert.equal(mr.socketId, newId);
    assert.equal(mr.member.socketId, newId);
    assert.equal(mr.member.role, "leader");
    assert.equal(mr.member.joinedAt, seatA.joinedAt);
    assert.equal(JSON.stringify(b.log.slice(fromB)).includes(clientId), false, "clientId never sent");
    const seen = b.log.slice(fromB).map((e) => e.name).filter((n) => n !== "scroll_tick");
    assert.deepEqual(seen.slice(0, 2), ["member_replaced", "room_stats"]);
    const rejoined = named(a, "snapshot", fromA);
    assert.equal(rejoined.length, 1, "one snapshot for the re-join");
    const snap = rejoined[0].p;
    assert.equal(snap.leaderSocketId, newId);
    assert.equal(snap.members.length, 2);
    assert.equal(snap.isPlaying, true, "the band never stopped");

    // Still the leader; the ghost's timeout (~2 s) changes nothing.
    await sleep(3_000);
    const fromB2 = b.log.length;
    a.emit("pause", { sessionId });
    await waitUntil(() => named(b, "pause", fromB2).length > 0, "A's pause");
    const names = b.log.slice(fromB).map((e) => e.name);
    assert.ok(!names.includes("user_left"), `no user_left: ${names}`);
    assert.ok(!names.includes("role_changed"), `no election: ${names}`);
    assert.ok(!names.includes("user_joined"), `no second member: ${names}`);
    await old.cut();
  });
});

