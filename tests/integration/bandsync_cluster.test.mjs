// Several BandSync nodes on one Redis (docs/EVENTS.md "Cluster"), black-box:
// two or three real `bandsync serve` processes in cluster mode, one real
// redis-server and real socket.io-client devices spread over the nodes.
//
//   split band     members on two nodes see each other and get every tick
//   leader remote  a leader on one node controls followers on another; a
//                  follower's leader event is refused from the owner
//   SIGKILL        the owner dies: ticks resume on the survivors within 1 s,
//                  the position error is <= 5 ms, the dead node's member's
//                  seat is held (connected: false) once its node key expires
//   member's node  a member's node dies: its seat and lead are held at the
//                  owner, the band plays on, and the device's re-join with
//                  its clientId on another node takes them back
//   SIGSTOP        an owner paused past its lease wakes up and changes
//                  nothing: no tick of its own, no write to Redis (its
//                  device's seat was held meanwhile)
//   paused node    a held member's node pauses past its heartbeat TTL (the
//                  owner takes the member for an orphan); the device's
//                  recovery on that node connects the seat again
//   joins          six devices on three nodes join one session at once: no
//                  member is lost, exactly one leader
//   lease cost     twelve sessions on two nodes: lease renewals and takeover
//                  probes per node, not per session
//   hop limit      a forwarded event that reached a node that does not own
//                  the session after being passed on max_hops (4) times is
//                  refused with SERVER_BUSY instead of passed on again

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";

import { HOST } from "./lib/server.mjs";
import {
  DeviceJar,
  cleanEnv,
  eventually,
  freePort,
  health,
  join,
  launch,
  parseMetrics,
  sessionName,
  sleep,
  waitListening,
} from "./lib/bandsync.mjs";
import { getJson, redisCommand, redisMissing, startRedis } from "./lib/redis.mjs";
import { TcpProxy } from "./lib/tcp_proxy.mjs";

const WS = { transports: ["websocket"] };
const missing = redisMissing();

describe("BandSync cluster", { skip: missing ?? false }, () => {
  const jar = new DeviceJar();
  const servers = [];
  let redis = null;

  async function node(id) {
    const port = await freePort();
    const env = cleanEnv({ REDIS_HOST: HOST, REDIS_PORT: String(redis.port), NODE_ID: id, LOG_LEVEL: "info" });
    const server = launch(["serve", "--port", String(port), "--host", HOST], { env });
    servers.push(server);
    if (!(await waitListening(server, port))) {
      await server.kill();
      assert.fail(`bandsync ${id} did not start on port ${port}:\n${server.stderr()}`);
    }
    return Object.assign(server, { id, port, url: `http://${HOST}:${port}` });
  }

  async function nodes(...ids) {
    redis ??= await startRedis();
    const out = [];
    for (const id of ids) out.push(await node(id));
    // Every node has seen the others' heartbeats.
    for (const n of out) {
      await eventually(() => health(n.url), (h) => h.cluster?.peers?.length === ids.length, `${n.id}'s peers`);
    }
    return out;
  }

  afterEach(async () => {
    jar.closeAll();
    for (const s of servers.splice(0)) {
      if (s.alive()) {
        try {
          process.kill(s.proc.pid, "SIGCONT");
        } catch {
          // gone
        }
      }
      await s.kill();
    }
    await redis?.kill();
    redis = null;
  });

  // The ticks `device` received after `mark`, as [serverTimestamp, positionMs].
  function ticks(device, mark, sessionId) {
    return device
      .events({ after: mark, names: ["scroll_tick"] })
      .filter((r) => r.payload.sessionId === sessionId)
      .map((r) => ({ ts: r.payload.serverTimestamp, pos: r.payload.positionMs, at: r.at }));
  }

  it("split band: members on two nodes see each other, /health lists the peers, every tick reaches both", async () => {
    const [a, b] = await nodes("node-a", "node-b");
    const h = await health(a.url);
    assert.equal(h.cluster.nodeId, "node-a");
    assert.deepEqual([...h.cluster.peers].sort(), ["node-a", "node-b"]);
    const sessionId = sessionName("cl-split");
    const da = await jar.connect(a.url, WS, "A-keys");
    const db = await jar.connect(b.url, WS, "B-bass");
    await join(da, sessionId, { displayName: "Keys" });
    const snap = await join(db, sessionId, { displayName: "Bass" }, [da]);
    assert.deepEqual(snap.members.map((m) => m.socketId), [da.id, db.id], "one session, not two");
    assert.equal(snap.leaderSocketId, da.id);
    const stats = await db.waitFor("room_stats", { where: (p) => p.memberCount === 2 });
    assert.equal(stats.payload.sessionId, sessionId);

    const ma = da.mark();
    const mb = db.mark();
    da.emit("play", { sessionId });
    await db.waitFor("play", { after: mb });
    await sleep(1_500);
    da.emit("pause", { sessionId });
    await db.waitFor("pause", { after: mb });
    await sleep(200);
    const ta = ticks(da, ma, sessionId).map((t) => t.ts);
    const tb = ticks(db, mb, sessionId).map((t) => t.ts);
    assert.ok(ta.length >= 12, `ticks on A: ${ta.length}`);
    assert.deepEqual(tb, ta, "B gets exactly A's ticks");
    const m = await fetch(`${b.url}/metrics`).then((r) => r.text());
    assert.match(m, /bandsync_cluster_peers\{node="node-b"\} 2/);
  });

  it("leader remote: a leader on B controls followers on A; a follower on A is refused by the owner", async () => {
    const [a, b] = await nodes("node-a", "node-b");
    const sessionId = sessionName("cl-lead");
    const da = await jar.connect(a.url, WS, "A-first");
    const db = await jar.connect(b.url, WS, "B-lead");
    const da2 = await jar.connect(a.url, WS, "A-follower");
    await join(da, sessionId, { displayName: "First" });
    await join(db, sessionId, { displayName: "Lead" }, [da]);
    await join(da2, sessionId, { displayName: "Follower" }, [da, db]);
    let m = da.mark();
    db.emit("set_role", { sessionId, role: "leader" });
    await da.waitFor("role_changed", { after: m, where: (p) => p.socketId === db.id });
    m = da2.mark();
    db.emit("set_tempo", { sessionId, tempo: 133 });
    await da2.waitFor("snapshot", { after: m, where: (p) => p.tempo === 133 });
    m = da2.mark();
    da2.emit("pause", { sessionId });
    const err = await da2.waitFor("error", { after: m });
    assert.equal(err.payload.code, "NOT_LEADER");
    m = da2.mark();
    db.emit("play", { sessionId });
    await da2.waitFor("play", { after: m });
    await da2.waitCount("scroll_tick", 3, { after: m });
    const stored = await getJson(redis.port, `session:${sessionId}`);
    assert.equal(stored.leaderSocketId, db.id);
    assert.equal(stored.tempo, 133);
    assert.equal(stored.members.length, 3);
  });

  it("SIGKILL of the owner: ticks resume on the survivors within 1 s with the position error <= 5 ms", async () => {
    const [a, b, c] = await nodes("node-a", "node-b", "node-c");
    const sessionId = sessionName("cl-kill");
    const da = await jar.connect(a.url, WS, "A-owner");
    const db = await jar.connect(b.url, WS, "B-lead");
    const dc = await jar.connect(c.url, WS, "C-follower");
    await join(da, sessionId, { displayName: "A" });
    await join(db, sessionId, { displayName: "B" }, [da]);
    await join(dc, sessionId, { displayName: "C" }, [da, db]);
    let m = dc.mark();
    db.emit("set_role", { sessionId, role: "leader" });
    await dc.waitFor("role_changed", { after: m });
    db.emit("set_tempo", { sessionId, tempo: 90 });
    await dc.waitFor("snapshot", { after: m, where: (p) => p.tempo === 90 });
    m = dc.mark();
    db.emit("play", { sessionId });
    await dc.waitCount("scroll_tick", 15, { after: m });

    const before = dc.mark();
    const killedAt = Date.now();
    process.kill(a.proc.pid, "SIGKILL");
    const last = ticks(dc, m, sessionId).at(-1);
    // The first tick of the new owner.
    const first = await dc.waitFor("scroll_tick", { after: before, timeout: 3_000, where: (p) => p.serverTimestamp > last.ts + 150 });
    const gapMs = first.at - killedAt;
    const expected = last.pos + (first.payload.serverTimestamp - last.ts);
    const errorMs = first.payload.positionMs - expected;
    console.log(`failover: first tick ${gapMs} ms after SIGKILL, position error ${errorMs.toFixed(2)} ms`);
    assert.ok(gapMs <= 1_000, `ticks resumed ${gapMs} ms after SIGKILL`);
    assert.ok(Math.abs(errorMs) <= 5, `position error ${errorMs} ms`);
    assert.equal(first.payload.tempoBpm, 90);
    // Both survivors get the same ticks from the new owner.
    await sleep(600);
    const tb = ticks(db, before, sessionId).map((t) => t.ts).filter((ts) => ts >= first.payload.serverTimestamp);
    const tc = ticks(dc, before, sessionId).map((t) => t.ts).filter((ts) => ts >= first.payload.serverTimestamp);
    assert.ok(tc.length >= 4, `ticks after the failover: ${tc.length}`);
    assert.deepEqual(tb.slice(0, tc.length - 1), tc.slice(0, tc.length - 1));
    // A's member was on the dead node: its seat is held (connected: false)
    // as for a dropped link, for the recovery window, once the new owner
    // found nobody claiming it.
    const held = await dc.waitFor("room_stats", {
      after: before,
      timeout: 4_000,
      where: (p) => p.memberCount === 3 && p.connectedCount === 2,
    });
    assert.equal(held.payload.sessionId, sessionId);
    assert.equal(dc.events({ after: before, names: ["user_left"] }).length, 0, "nobody left");
    m = dc.mark();
    db.emit("update_message", { sessionId, message: "after" });
    const snap = await dc.waitFor("snapshot", { after: m });
    assert.equal(snap.payload.members.find((x) => x.socketId === da.id)?.connected, false);
    assert.equal(snap.payload.isPlaying, true);
    const h = await health(b.url);
    assert.deepEqual([...h.cluster.peers].sort(), ["node-b", "node-c"]);
  });

  it("member's node dies: its seat and lead are held, and its clientId re-join on another node takes them back", async () => {
    const [a, b] = await nodes("node-a", "node-b");
    const sessionId = sessionName("cl-orphan");
    const clientId = `phone-${process.pid}`;
    const da = await jar.connect(a.url, WS, "A-owner");
    const db = await jar.connect(b.url, WS, "B-lead");
    await join(da, sessionId, { displayName: "A" });
    await join(db, sessionId, { displayName: "B", clientId, role: "leader" }, [da]);
    let m = da.mark();
    db.emit("play", { sessionId });
    await da.waitCount("scroll_tick", 3, { after: m });

    m = da.mark();
    process.kill(b.proc.pid, "SIGKILL");
    // Noticed when B's heartbeat key expires (1.5 s): held, not gone.
    const held = await da.waitFor("room_stats", { after: m, timeout: 4_000, where: (p) => p.connectedCount === 1 });
    assert.equal(held.payload.memberCount, 2);
    // The leader grace (10 s by default) keeps the band playing and the lead.
    const m2 = da.mark();
    await da.waitCount("scroll_tick", 5, { after: m2 });
    for (const n of ["user_left", "role_changed", "pause"]) {
      assert.equal(da.events({ after: m, names: [n] }).length, 0, `no ${n}`);
    }
    // The phone reconnects to the surviving node and re-joins with its clientId.
    const back = await jar.connect(a.url, WS, "B-back");
    const m3 = da.mark();
    const mb = back.mark();
    back.emit("join_session", { sessionId, displayName: "B", clientId });
    const snap = (await back.waitFor("snapshot", { after: mb })).payload;
    assert.equal(snap.leaderSocketId, back.id, "the lead came back with the seat");
    assert.equal(snap.isPlaying, true, "the band never stopped");
    assert.equal(snap.members.length, 2);
    assert.equal(snap.members.find((x) => x.socketId === back.id)?.connected, true);
    const replaced = await da.waitFor("member_replaced", { after: m3 });
    assert.equal(replaced.payload.previousSocketId, db.id);
    assert.equal(da.events({ after: m, names: ["user_left"] }).length, 0, "nobody left");
  });

  it("SIGSTOP: an owner that wakes after losing its lease changes nothing", async () => {
    const [a, b] = await nodes("node-a", "node-b");
    const sessionId = sessionName("cl-stop");
    const da = await jar.connect(a.url, WS, "A-owner");
    const db = await jar.connect(b.url, WS, "B-lead");
    await join(da, sessionId, { displayName: "A" });
    await join(db, sessionId, { displayName: "B" }, [da]);
    let m = db.mark();
    db.emit("set_role", { sessionId, role: "leader" });
    await db.waitFor("role_changed", { after: m });
    db.emit("play", { sessionId });
    await db.waitCount("scroll_tick", 5, { after: m });

    process.kill(a.proc.pid, "SIGSTOP");
    const stoppedAt = Date.now();
    // B takes over; A's member is held (connected: false) once A's node key
    // expires, as a dropped link's seat would be.
    await db.waitFor("room_stats", { after: m, timeout: 5_000, where: (p) => p.connectedCount === 1 && p.memberCount === 2 });
    const lease = await redisCommand(redis.port, "GET", `lease:${sessionId}`);
    assert.match(lease, /^node-b:/);
    // A change A never hears of while it sleeps: its stale view lacks it.
    db.emit("update_message", { sessionId, message: "while A slept" });
    const current = await eventually(
      () => getJson(redis.port, `session:${sessionId}`),
      (s) => s?.message === "while A slept",
      "B's change in Redis",
    );
    assert.deepEqual(current.members.map((x) => x[0]).sort(), [da.id, db.id].sort());
    await sleep(Math.max(0, 2_500 - (Date.now() - stoppedAt)));

    const woke = db.mark();
    const wokeA = da.mark();
    process.kill(a.proc.pid, "SIGCONT");
    // For 1.5 s: Redis never holds A's stale view (the old message, another
    // lease), and B's device sees one clock only.
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      const s = await getJson(redis.port, `session:${sessionId}`);
      assert.equal(s.message, "while A slept", "A wrote its stale session back");
      assert.deepEqual(s.members.map((x) => x[0]).sort(), [da.id, db.id].sort(), "members");
      assert.equal(s.isPlaying, true);
      assert.match(await redisCommand(redis.port, "GET", `lease:${sessionId}`), /^node-b:/);
      await sleep(30);
    }
    const ts = ticks(db, woke, sessionId).map((t) => t.ts);
    assert.ok(ts.length >= 10, `ticks after the wake-up: ${ts.length}`);
    // One clock: one tick per 100 ms period (a second clock would double
    // them; a tick's serverTimestamp is when it was sent, so gaps alone vary
    // with the machine's load).
    const periods = (ts.at(-1) - ts[0]) / 100;
    assert.ok(
      ts.length <= periods + 2,
      `two clocks ticking: ${ts.length} ticks in ${periods.toFixed(1)} periods; cluster log of A and B:\n` +
        [a, b].map((n) => n.stderr().split("\n").filter((l) => l.includes("cluster")).slice(-8).join("\n")).join("\n--\n"),
    );
    // A's own device hears B's clock only (until B takes it out of the
    // room): a tick of A's stale clock would be one B never sent.
    const fromB = new Set(ticks(db, m, sessionId).map((t) => t.ts));
    for (const t of ticks(da, wokeA, sessionId)) {
      assert.ok(fromB.has(t.ts), `A's device got a tick of A's stale clock (${t.ts})`);
    }
    const h = await health(a.url);
    assert.equal(h.cluster.ownedSessions, 0, "A gave the session up");
  });

  it("a held member whose node was paused: its recovery on that node reaches the owner, the seat is connected again", async () => {
    // The owner (B) treats the members of a node that misses its heartbeats
    // as orphans (held for the window); the device's `recover`, sent by its
    // node once it runs again, must connect the seat again even though the
    // device (a follower) sends nothing else. Before the fix the owner
    // dropped that notice (it no longer listed the socket as remote) and the
    // seat stayed held, then left at the end of the window.
    const [a, b] = await nodes("node-a", "node-b");
    const sessionId = sessionName("cl-paused");
    const proxy = await TcpProxy.start(a.port);
    try {
      const db = await jar.connect(b.url, WS, "B-owner");
      await join(db, sessionId, { displayName: "B" });
      const da = await jar.connect(
        `http://${HOST}:${proxy.port}`,
        { ...WS, reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200, randomizationFactor: 0 },
        "A-paused",
      );
      const aId = da.socketId;
      await join(da, sessionId, { displayName: "A" }, [db]);
      // A's link dies (reconnects frozen too): node-a holds it, the owner learns.
      let m = db.mark();
      proxy.freeze();
      await proxy.cut();
      await db.waitFor("member_status", { after: m, where: (p) => p.socketId === aId && p.connected === false });
      // node-a sleeps past its heartbeat key's TTL (1.5 s): B orphans A.
      process.kill(a.proc.pid, "SIGSTOP");
      try {
        await eventually(
          async () => b.stderr(),
          (log) => log.includes(`member ${aId} was on node node-a, which is gone`),
          "B takes A for an orphan",
          8_000,
        );
      } finally {
        process.kill(a.proc.pid, "SIGCONT");
      }
      await eventually(() => health(b.url), (h) => h.cluster?.peers?.includes("node-a"), "node-a back in B's peers");
      // The device comes back on node-a (recovered): its node tells the owner.
      m = db.mark();
      proxy.thaw();
      const back = await db.waitFor("member_status", {
        after: m,
        timeout: 8_000,
        where: (p) => p.socketId === aId && p.connected === true,
      });
      assert.equal(back.payload.heldUntil, null);
      await eventually(async () => da.socket.connected, (c) => c, "A's device connected again");
      assert.equal(da.socket.id, aId);
      assert.equal(da.socket.recovered, true);
      const m2 = db.mark();
      db.emit("update_message", { sessionId, message: "after" });
      const snap = (await db.waitFor("snapshot", { after: m2 })).payload;
      assert.equal(snap.members.find((x) => x.socketId === aId)?.connected, true, "A's seat connected");
    } finally {
      await proxy.stop();
    }
  });

  it("lease cost: one renewal per node and one probe per owner node, whatever the number of sessions", async () => {
    const [a, b] = await nodes("node-a", "node-b");
    const SESSIONS = 12;
    for (let s = 0; s < SESSIONS; s++) {
      const sessionId = sessionName(`cl-cost${s}`);
      const da = await jar.connect(a.url, WS, `A${s}`);
      const db = await jar.connect(b.url, WS, `B${s}`);
      await join(da, sessionId, { displayName: "A" });
      await join(db, sessionId, { displayName: "B" }, [da]);
    }
    assert.equal((await health(a.url)).cluster.ownedSessions, SESSIONS, "node A runs every session");
    const calls = async () => {
      const info = await redisCommand(redis.port, "INFO", "commandstats");
      const get = (c) => Number(new RegExp(`^cmdstat_${c}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
      return { pexpire: get("pexpire"), pttl: get("pttl"), at: Date.now() };
    };
    const c0 = await calls();
    await sleep(2_000);
    const c1 = await calls();
    const seconds = (c1.at - c0.at) / 1000;
    // Per-session leases renewed every 200 ms would be 5 PEXPIRE per second
    // per session (60/s here), and B's polling of each lease about 2 PTTL per
    // second per session; a node lease is 5/s for A and B's probes of A
    // about 2-5/s, whatever the number of sessions.
    const pexpire = (c1.pexpire - c0.pexpire) / seconds;
    const pttl = (c1.pttl - c0.pttl) / seconds;
    assert.ok(pexpire <= 2 * 6, `PEXPIRE per second: ${pexpire.toFixed(1)} for ${SESSIONS} sessions on 2 nodes`);
    assert.ok(pttl <= 8, `PTTL per second: ${pttl.toFixed(1)} for ${SESSIONS} sessions owned by one node`);
  });

  it("hop limit: an event passed on max_hops times is refused, not passed on again", async () => {
    const [a, b] = await nodes("node-a", "node-b");
    const sessionId = sessionName("cl-hops");
    const da = await jar.connect(a.url, WS, "A-owner");
    const db = await jar.connect(b.url, WS, "B-member");
    await join(da, sessionId, { displayName: "A" });
    await join(db, sessionId, { displayName: "B" }, [da]);
    // What node B would get from a node that believed B ran the session: B's
    // own socket's sync_request, already passed on `h` times. B does not own
    // the session, so it passes the event on to A (h + 1), unless h is at the
    // limit. (Forged on B's channel: two nodes that each name the other as
    // the owner cannot be arranged from outside.)
    const forged = (h) =>
      JSON.stringify({ t: "fwd", f: "node-b", s: db.id, r: sessionId, e: "sync_request", ip: "127.0.0.1", h }) +
      "\n" +
      JSON.stringify([{ sessionId }]);
    let m = db.mark();
    await redisCommand(redis.port, "PUBLISH", "bs:n:node-b", forged(3));
    const answer = await db.waitFor("sync_response", { after: m });
    assert.equal(answer.payload.sessionId, sessionId, "passed on a fourth time, run by the owner");
    m = db.mark();
    await redisCommand(redis.port, "PUBLISH", "bs:n:node-b", forged(4));
    const err = await db.waitFor("error", { after: m });
    assert.equal(err.payload.code, "SERVER_BUSY");
    await sleep(300);
    assert.equal(db.events({ after: m, names: ["sync_response"] }).length, 0, "never run");
    const limited = parseMetrics(await fetch(`${b.url}/metrics`).then((r) => r.text()));
    assert.equal(limited.get('bandsync_cluster_events_hop_limited_total{node="node-b"}'), 1);
  });

  it("joins: six devices on three nodes join one session at once, five times; no member is lost", async () => {
    const ns = await nodes("node-a", "node-b", "node-c");
    for (let round = 0; round < 5; round++) {
      const sessionId = sessionName("cl-joins");
      const devices = [];
      for (let i = 0; i < 6; i++) devices.push(await jar.connect(ns[i % 3].url, WS, `d${round}-${i}`));
      const marks = devices.map((d) => d.mark());
      devices.forEach((d, i) => d.emit("join_session", { sessionId, displayName: `m${i}` }));
      await Promise.all(devices.map((d, i) => d.waitFor("snapshot", { after: marks[i] })));
      const last = await eventually(
        () => getJson(redis.port, `session:${sessionId}`),
        (s) => s?.members?.length === 6,
        `round ${round}: six members in Redis`,
      );
      assert.deepEqual(last.members.map((x) => x[0]).sort(), devices.map((d) => d.id).sort());
      assert.equal(last.members.filter((x) => x[1].role === "leader").length, 1);
      await Promise.all(devices.map((d, i) => d.waitFor("room_stats", { after: marks[i], where: (p) => p.memberCount === 6 })));
      jar.closeAll();
    }
  });
});
