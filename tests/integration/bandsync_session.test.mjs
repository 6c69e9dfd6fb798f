// BandSync sessions with the real socket.io-client over WebSocket, against
// `bandsync serve` (EVENTS.md): the multi-device band scenario, leadership
// takeover, transport controls and queries, leaving, and room isolation.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { startServer, serverPerSuite } from "./lib/server.mjs";
import { describeBandScenario, checkTicks } from "./lib/band_scenario.mjs";
import {
  DeviceJar,
  ROOM_STATS_FIELDS,
  assertEpochNear,
  assertKeys,
  checkSnapshot,
  join,
  CLOCK_FIELDS,
  sessionName,
  sleep,
} from "./lib/bandsync.mjs";

const QUIET_MS = 400; // a few tick periods: used only to prove an absence
const IGNORED = ["heartbeat"];
const names = (records) => records.map((r) => r.name);

describeBandScenario({
  title: "multi-device band session over WebSocket",
  clientOptions: { transports: ["websocket"] },
  full: true,
});

describe("session features over WebSocket", () => {
  const jar = new DeviceJar();

  const server = serverPerSuite(["serve"], () => jar.closeAll());

  const connect = (label) => jar.connect(server.url, { transports: ["websocket"] }, label);

  // Connects and joins `labels.length` devices in order; the first leads.
  async function band(sessionId, labels) {
    const devices = [];
    for (const label of labels) {
      const d = await connect(label);
      await join(d, sessionId, { displayName: label }, devices);
      devices.push(d);
    }
    return devices;
  }

  async function syncState(device, sessionId) {
    const m = device.mark();
    device.emit("sync_request", { sessionId });
    return (await device.waitFor("sync_response", { after: m })).payload;
  }

  it("set_role takeover: role_changed {previousLeader} then a snapshot where the old leader is a follower", async () => {
    const sessionId = sessionName("band-takeover");
    const [a, b, c] = await band(sessionId, ["Alice", "Bob", "Carol"]);
    const marks = new Map([a, b, c].map((d) => [d, d.mark()]));
    b.emit("set_role", { sessionId, role: "leader" });
    for (const d of [a, b, c]) {
      await d.waitFor("snapshot", { after: marks.get(d) });
    }
    await sleep(100);
    for (const d of [a, b, c]) {
      const evs = d.events({ after: marks.get(d), exclude: IGNORED });
      assert.deepEqual(names(evs), ["role_changed", "snapshot"], `${d.label}: events after set_role`);
      const changed = evs[0].payload;
      assertKeys(changed, ["socketId", "role", "previousLeader", "timestamp"], `${d.label} role_changed`);
      assert.equal(changed.socketId, b.id, "role_changed.socketId");
      assert.equal(changed.role, "leader", "role_changed.role");
      assert.equal(changed.previousLeader, a.id, "role_changed.previousLeader");
      assertEpochNear(changed.timestamp, "role_changed.timestamp");
      checkSnapshot(evs[1].payload, {
        sessionId,
        leader: b,
        members: [
          { device: a, name: "Alice", role: "follower" },
          { device: b, name: "Bob", role: "leader" },
          { device: c, name: "Carol", role: "follower" },
        ],
      });
    }

    // The new leader leads; the old one no longer can.
    const m = a.mark();
    a.emit("play", { sessionId });
    assert.equal((await a.waitFor("error", { after: m })).payload.code, "NOT_LEADER", "the old leader must not play");
    const playMarks = new Map([a, b, c].map((d) => [d, d.mark()]));
    b.emit("play", { sessionId });
    for (const d of [a, b, c]) await d.waitFor("play", { after: playMarks.get(d) });
    b.emit("pause", { sessionId });
    for (const d of [a, b, c]) await d.waitFor("pause", { after: playMarks.get(d) });

    // The leader re-claiming leadership: a snapshot, no role_changed.
    const marks2 = new Map([a, b, c].map((d) => [d, d.mark()]));
    b.emit("set_role", { sessionId, role: "leader" });
    for (const d of [a, b, c]) await d.waitFor("snapshot", { after: marks2.get(d) });
    await sleep(100);
    for (const d of [a, b, c]) {
      assert.deepEqual(names(d.events({ after: marks2.get(d), exclude: IGNORED })), ["snapshot"], `${d.label}: set_role by the leader itself`);
    }
  });

  it("seek while playing keeps playing from the new position; stop rewinds to 0", async () => {
    const sessionId = sessionName("band-seek");
    const [lead, follow] = await band(sessionId, ["Lead", "Follow"]);
    let m = follow.mark();
    lead.emit("play", { sessionId });
    await follow.waitFor("play", { after: m });
    await follow.waitCount("scroll_tick", 2, { after: m });

    m = follow.mark();
    const leadMark = lead.mark();
    lead.emit("seek", { sessionId, position: 60_000 });
    const seek = await follow.waitFor("seek", { after: m });
    for (const d of [lead, follow]) {
      const mk = d === lead ? leadMark : m;
      await d.waitFor("seek", { after: mk });
      const evs = d.events({ after: mk, exclude: [...IGNORED, "scroll_tick"] });
      assert.deepEqual(names(evs), ["snapshot", "seek"], `${d.label}: events after seek`);
      assert.equal(evs[0].payload.position, 60_000, "snapshot.position after seek");
      assert.equal(evs[0].payload.isPlaying, true, "seek while playing keeps playing");
      assertKeys(evs[1].payload, ["sessionId", "position", "serverTimestamp", ...CLOCK_FIELDS.seek], `${d.label} seek`);
      assert.equal(evs[1].payload.sessionId, sessionId);
      assert.equal(evs[1].payload.position, 60_000);
      assertEpochNear(evs[1].payload.serverTimestamp, "seek.serverTimestamp");
    }
    const ticks = await follow.waitCount("scroll_tick", 5, { after: seek.seq + 1 });
    checkTicks(follow, {
      sessionId,
      play: { serverTimestamp: seek.payload.serverTimestamp, position: 60_000 },
      from: ticks[0].at,
      to: ticks.at(-1).at,
      tempoBpm: 120,
    });

    // sync_request while playing: the real-time position.
    const sync = await syncState(follow, sessionId);
    assertKeys(sync, ["sessionId", "positionMs", "tempoBpm", "isPlaying", "serverTime", ...CLOCK_FIELDS.sync_response], "sync_response");
    assert.equal(sync.sessionId, sessionId);
    assert.equal(sync.isPlaying, true);
    assert.equal(sync.tempoBpm, 120);
    assertEpochNear(sync.serverTime, "sync_response.serverTime");
    const expected = sync.serverTime - seek.payload.serverTimestamp + 60_000;
    assert.ok(Math.abs(sync.positionMs - expected) <= 5, `sync_response.positionMs ${sync.positionMs}, expected ≈ ${expected}`);

    // stop: as pause, and position 0.
    m = follow.mark();
    lead.emit("stop", { sessionId });
    const stopped = await follow.waitFor("pause", { after: m });
    const evs = follow.events({ after: m, exclude: [...IGNORED, "scroll_tick"] });
    assert.deepEqual(names(evs), ["snapshot", "pause"], "events after stop (stop behaves as pause)");
    assert.equal(evs[0].payload.isPlaying, false, "snapshot.isPlaying after stop");
    assert.equal(evs[0].payload.position, 0, "snapshot.position after stop");
    assertKeys(stopped.payload, ["sessionId", "position", "serverTimestamp", ...CLOCK_FIELDS.pause], "pause after stop");
    assert.equal(stopped.payload.position, 0, "pause.position after stop");
    await sleep(QUIET_MS);
    assert.ok(follow.events({ after: stopped.seq + 1, names: ["scroll_tick"] }).length <= 1, "ticks after stop");
    const rewound = await syncState(follow, sessionId);
    assert.equal(rewound.positionMs, 0, "sync_response.positionMs after stop");
    assert.equal(rewound.isPlaying, false, "sync_response.isPlaying after stop");
  });

  it("latency_probe → latency_response to the sender (members and non-members)", async () => {
    const sessionId = sessionName("band-latency");
    const [lead, follow] = await band(sessionId, ["Lead", "Follow"]);
    const outsider = await connect("outsider");
    for (const [d, payload] of [
      [follow, { timestamp: Date.now(), sessionId }],
      [outsider, { timestamp: Date.now() }],
    ]) {
      const m = d.mark();
      const leadMark = lead.mark();
      d.emit("latency_probe", payload);
      const rec = await d.waitFor("latency_response", { after: m });
      assertKeys(rec.payload, ["clientTimestamp", "serverTimestamp"], "latency_response");
      assert.equal(rec.payload.clientTimestamp, payload.timestamp, "latency_response.clientTimestamp");
      assert.ok(
        rec.payload.serverTimestamp >= payload.timestamp - 2 && rec.payload.serverTimestamp <= rec.at + 2,
        `latency_response.serverTimestamp ${rec.payload.serverTimestamp} not between the probe and its answer`,
      );
      await sleep(50);
      assert.deepEqual(names(lead.events({ after: leadMark, exclude: IGNORED })), [], "latency_response goes to the sender only");
    }
  });

  it("update_message → snapshot with the message to the whole session (any member)", async () => {
    const sessionId = sessionName("band-msg");
    const [lead, follow] = await band(sessionId, ["Lead", "Follow"]);
    for (const [sender, message] of [
      [lead, "Song 2: Wonderwall — from the bridge"],
      [follow, "Capo on 2 ✔"],
    ]) {
      const marks = new Map([lead, follow].map((d) => [d, d.mark()]));
      sender.emit("update_message", { sessionId, message });
      for (const d of [lead, follow]) {
        const snap = await d.waitFor("snapshot", { after: marks.get(d) });
        checkSnapshot(snap.payload, { sessionId, leader: lead });
        assert.equal(snap.payload.message, message, `${d.label}: snapshot.message`);
      }
    }
  });

  it("leave_session: user_left to the others; the leaver hears nothing more of the session", async () => {
    const sessionId = sessionName("band-leave");
    const [lead, stay, leaver] = await band(sessionId, ["Lead", "Stay", "Leaver"]);
    const marks = new Map([lead, stay, leaver].map((d) => [d, d.mark()]));
    leaver.emit("leave_session", { sessionId });
    for (const d of [lead, stay]) {
      const left = await d.waitFor("user_left", { after: marks.get(d) });
      assertKeys(left.payload, ["socketId", "memberCount", "newLeader"], "user_left");
      assert.deepEqual(left.payload, { socketId: leaver.id, memberCount: 2, newLeader: null });
      const stats = d.payloads("room_stats", marks.get(d));
      for (const s of stats) {
        assertKeys(s, ROOM_STATS_FIELDS, "room_stats");
        assert.equal(s.memberCount, 2, "room_stats.memberCount after a leave");
      }
    }
    assert.ok(leaver.socket.connected, "leave_session keeps the socket connected");

    // Session traffic after the leave does not reach the leaver.
    const m = leaver.mark();
    const sm = stay.mark();
    lead.emit("update_message", { sessionId, message: "after the leave" });
    lead.emit("play", { sessionId });
    const snap = await stay.waitFor("snapshot", { after: sm });
    checkSnapshot(snap.payload, {
      sessionId,
      leader: lead,
      members: [
        { device: lead, name: "Lead", role: "leader" },
        { device: stay, name: "Stay", role: "follower" },
      ],
    });
    await stay.waitCount("scroll_tick", 3, { after: sm });
    assert.deepEqual(names(leaver.events({ after: m, exclude: IGNORED })), [], "the leaver must receive no session events");
    leaver.emit("sync_request", { sessionId });
    const err = await leaver.waitFor("error", { after: m });
    assert.equal(err.payload.code, "NOT_A_MEMBER", "sync_request after leaving");
    lead.emit("pause", { sessionId });
    await stay.waitFor("pause", { after: sm });
  });

  it("election: the earliest joiner still present leads; a leader's leave_session elects like a disconnect", async () => {
    const sessionId = sessionName("band-election");
    const [a, b, c, d, e] = await band(sessionId, ["A", "B", "C", "D", "E"]);
    // B, the earliest follower, goes away first: no election, newLeader null.
    let marks = new Map([a, c, d, e].map((x) => [x, x.mark()]));
    b.close();
    for (const x of [a, c, d, e]) {
      const left = await x.waitFor("user_left", { after: marks.get(x) });
      assert.deepEqual(left.payload, { socketId: b.id, memberCount: 4, newLeader: null }, `${x.label}: user_left for a follower`);
      assert.equal(x.events({ after: marks.get(x), names: ["role_changed"] }).length, 0, "no election when a follower leaves");
    }

    // The leader A leaves (socket stays connected): C, the earliest remaining, leads.
    marks = new Map([a, c, d, e].map((x) => [x, x.mark()]));
    a.emit("leave_session", { sessionId });
    for (const x of [c, d, e]) await x.waitFor("user_left", { after: marks.get(x) });
    await sleep(100);
    for (const x of [c, d, e]) {
      const evs = x.events({ after: marks.get(x), exclude: IGNORED });
      assert.deepEqual(names(evs), ["role_changed", "snapshot", "room_stats", "user_left"], `${x.label}: events after the leader left`);
      const [changed, snap, stats, left] = evs.map((r) => r.payload);
      assert.deepEqual(
        { socketId: changed.socketId, role: changed.role, previousRole: changed.previousRole, reason: changed.reason },
        { socketId: c.id, role: "leader", previousRole: "follower", reason: "leader_disconnected" },
        "role_changed",
      );
      checkSnapshot(snap, {
        sessionId,
        leader: c,
        members: [
          { device: c, name: "C", role: "leader" },
          { device: d, name: "D", role: "follower" },
          { device: e, name: "E", role: "follower" },
        ],
      });
      assert.equal(snap.message, "C is now leading");
      assert.equal(stats.leader, c.id, "room_stats.leader");
      assert.deepEqual(left, { socketId: a.id, memberCount: 3, newLeader: c.id }, "user_left");
    }
    assert.ok(a.socket.connected, "leave_session keeps the socket connected");
    assert.deepEqual(names(a.events({ after: marks.get(a), exclude: IGNORED })), [], "the leaver hears nothing of its own leaving");

    // The new leader leads.
    const m = e.mark();
    c.emit("set_tempo", { sessionId, tempo: 140 });
    const snap = await e.waitFor("snapshot", { after: m });
    assert.equal(snap.payload.tempo, 140);
  });

  it("joining another session leaves the first", async () => {
    const first = sessionName("band-first");
    const second = sessionName("band-second");
    const [lead1, mover] = await band(first, ["Lead1", "Mover"]);
    const [lead2] = await band(second, ["Lead2"]);
    const marks = new Map([lead1, mover, lead2].map((d) => [d, d.mark()]));
    const snap = await join(mover, second, { displayName: "Mover" });
    checkSnapshot(snap, {
      sessionId: second,
      leader: lead2,
      members: [
        { device: lead2, name: "Lead2", role: "leader" },
        { device: mover, name: "Mover", role: "follower" },
      ],
    });
    const left = await lead1.waitFor("user_left", { after: marks.get(lead1) });
    assert.deepEqual(left.payload, { socketId: mover.id, memberCount: 1, newLeader: null });
    await lead2.waitFor("user_joined", { after: marks.get(lead2), where: (p) => p.member.socketId === mover.id });

    // The first session's traffic no longer reaches the mover.
    const m = mover.mark();
    const l1 = lead1.mark();
    lead1.emit("update_message", { sessionId: first, message: "only for the first" });
    lead1.emit("play", { sessionId: first });
    const snap1 = await lead1.waitFor("snapshot", { after: l1 });
    assert.deepEqual(snap1.payload.members.map((x) => x.socketId), [lead1.id], "the mover is gone from the first session");
    await lead1.waitCount("scroll_tick", 3, { after: l1 });
    const heard = mover.events({ after: m, exclude: IGNORED });
    assert.deepEqual(names(heard), [], `the mover heard the first session: ${JSON.stringify(heard.map((r) => r.payload))}`);
    mover.emit("sync_request", { sessionId: first });
    assert.equal((await mover.waitFor("error", { after: m })).payload.code, "NOT_A_MEMBER");
    lead1.emit("stop", { sessionId: first });
    await lead1.waitFor("pause", { after: l1 });
  });

  it("rooms: two sessions playing at once; each device receives only its own session's events", async () => {
    const s1 = sessionName("band-room1");
    const s2 = sessionName("band-room2");
    const g1 = await band(s1, ["One-A", "One-B"]);
    const g2 = await band(s2, ["Two-A", "Two-B", "Two-C"]);
    const all = [...g1.map((d) => [d, s1]), ...g2.map((d) => [d, s2])];
    const marks = new Map(all.map(([d]) => [d, d.mark()]));
    g1[0].emit("set_tempo", { sessionId: s1, tempo: 90 });
    g1[0].emit("play", { sessionId: s1 });
    g2[0].emit("play", { sessionId: s2 });
    for (const [d] of all) await d.waitFor("play", { after: marks.get(d) });
    for (const [d] of all) await d.waitCount("scroll_tick", 8, { after: marks.get(d) });
    for (const [d, own] of all) {
      const evs = d.events({ after: marks.get(d), exclude: IGNORED });
      for (const r of evs) {
        assert.ok(["snapshot", "play", "scroll_tick"].includes(r.name), `${d.label}: unexpected ${r.name} ${JSON.stringify(r.payload)}`);
        assert.equal(r.payload?.sessionId, own, `${d.label} received ${r.name} of another session: ${JSON.stringify(r.payload)}`);
      }
      assert.equal(evs.filter((r) => r.name === "play").length, 1, `${d.label}: exactly its own play`);
      const ticks = evs.filter((r) => r.name === "scroll_tick");
      const tempo = own === s1 ? 90 : 120;
      assert.ok(ticks.every((t) => t.payload.tempoBpm === tempo), `${d.label}: tick tempo must be its session's (${tempo})`);
    }
    g1[0].emit("pause", { sessionId: s1 });
    g2[0].emit("pause", { sessionId: s2 });
    await g1[1].waitFor("pause", { after: marks.get(g1[1]) });
    await g2[1].waitFor("pause", { after: marks.get(g2[1]) });
  });
});
