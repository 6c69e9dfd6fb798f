// bandsync-client's member list (client.members, the `members` event): kept
// current between snapshots from user_joined, user_left, member_replaced,
// role_changed, member_link and member_status (a seat held while its link is
// lost, then back or released; docs/EVENTS.md "Seats"). Driven through a
// stand-in socket that delivers the server's events as socket.io-client
// would: no server, no npm packages.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { createBandSync } from "../../../client/bandsync-client.js";

// The parts of a socket.io-client socket the library uses.
class FakeSocket {
  constructor() {
    this.handlers = new Map();
    this.sent = [];
    this.connected = true;
    this.id = "me";
    this.io = { on() {} };
  }
  on(event, cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(cb);
  }
  emit(event, ...args) {
    this.sent.push([event, ...args]);
  }
  close() {
    this.connected = false;
  }
  deliver(event, payload) {
    for (const cb of this.handlers.get(event) ?? []) cb(payload);
  }
}

const member = (socketId, displayName, role = "follower", extra = {}) => ({
  socketId,
  displayName,
  role,
  joinedAt: 1000,
  lastPingAt: 1000,
  link: null,
  connected: true,
  heldUntil: null,
  ...extra,
});

const snapshot = (members, leader = members[0]?.socketId ?? null, sessionId = "band") => ({
  sessionId,
  message: "",
  tempo: 120,
  tempoBpm: 120,
  position: 0,
  isPlaying: false,
  leaderSocketId: leader,
  members,
  serverTimestamp: 5000,
  createdAt: 1000,
  lastActiveAt: 1000,
  settings: { maxMembers: 8 },
});

// A client joined to "band" as "me" with Keys (leader) and Bass; every
// `members` event recorded.
async function joined() {
  const sock = new FakeSocket();
  const band = createBandSync({ io: () => sock, url: "http://band.test", clientId: "device-me-0001" });
  const changes = [];
  band.on("members", (e) => changes.push(e));
  const done = band.join("band", { displayName: "Me" });
  assert.deepEqual(sock.sent.at(-1), ["join_session", { sessionId: "band", clientId: "device-me-0001", displayName: "Me" }]);
  sock.deliver("snapshot", snapshot([member("keys", "Keys", "leader"), member("bass", "Bass"), member("me", "Me")]));
  await done;
  assert.deepEqual(changes.map((c) => c.change.kind), ["snapshot"]);
  changes.length = 0;
  return { sock, band, changes };
}

const names = (band) => band.members.map((m) => `${m.displayName}:${m.role}${m.connected === false ? ":held" : ""}`);

describe("bandsync-client members", () => {
  it("a held seat and its return (member_status), with heldUntil, as `members` changes", async () => {
    const { sock, band, changes } = await joined();
    const before = band.snapshot;
    const statuses = [];
    band.on("memberStatus", (p) => statuses.push(p));
    sock.deliver("room_stats", { sessionId: "band", memberCount: 3, connectedCount: 2 });
    assert.equal(changes.length, 0, "room_stats only counts: no member change");
    sock.deliver("member_status", { sessionId: "band", socketId: "bass", connected: false, heldUntil: 125_000.5 });
    assert.deepEqual(names(band), ["Keys:leader", "Bass:follower:held", "Me:follower"]);
    assert.equal(band.member("bass").heldUntil, 125_000.5);
    assert.equal(statuses.length, 1);
    assert.equal(changes.length, 1);
    assert.equal(changes[0].change.kind, "held");
    assert.equal(changes[0].change.socketId, "bass");
    assert.equal(changes[0].change.member.displayName, "Bass");
    assert.equal(changes[0].members, band.members);
    assert.equal(changes[0].leaderSocketId, "keys");
    // The snapshot handed out before is not modified.
    assert.equal(before.members[1].connected, true);

    sock.deliver("member_status", { sessionId: "band", socketId: "bass", connected: true, heldUntil: null });
    assert.deepEqual(names(band), ["Keys:leader", "Bass:follower", "Me:follower"]);
    assert.equal(band.member("bass").heldUntil, null);
    assert.equal(changes[1].change.kind, "back");
  });

  it("a held seat that is released leaves with wasHeld; an election moves the lead", async () => {
    const { sock, band, changes } = await joined();
    sock.deliver("member_status", { sessionId: "band", socketId: "keys", connected: false, heldUntil: 9 });
    // The grace passed: the lead moves, the held seat stays as a follower.
    sock.deliver("role_changed", { socketId: "bass", role: "leader", previousRole: "follower", reason: "leader_disconnected", timestamp: 1 });
    assert.equal(band.leaderSocketId, "bass");
    assert.deepEqual(names(band), ["Keys:follower:held", "Bass:leader", "Me:follower"]);
    sock.deliver("user_left", { socketId: "keys", memberCount: 2, newLeader: null });
    assert.deepEqual(names(band), ["Bass:leader", "Me:follower"]);
    assert.deepEqual(
      changes.map((c) => c.change.kind),
      ["held", "role", "left"],
    );
    const left = changes.at(-1).change;
    assert.equal(left.wasHeld, true);
    assert.equal(left.member.displayName, "Keys");
    // A connected member leaving is not a released seat; its election is applied.
    sock.deliver("user_left", { socketId: "bass", memberCount: 1, newLeader: "me" });
    assert.equal(changes.at(-1).change.wasHeld, false);
    assert.equal(band.isLeader, true);
    assert.deepEqual(names(band), ["Me:leader"]);
  });

  it("joins, a takeover, a reclaimed seat and link reports keep the list and the leader right", async () => {
    const { sock, band, changes } = await joined();
    sock.deliver("user_joined", { member: member("drums", "Drums"), memberCount: 4 });
    // The same member again (one's own join news after its snapshot) is not added twice.
    sock.deliver("user_joined", { member: member("drums", "Drums"), memberCount: 4 });
    assert.deepEqual(names(band), ["Keys:leader", "Bass:follower", "Me:follower", "Drums:follower"]);
    // A takeover at join: role_changed, then user_joined with role leader.
    sock.deliver("role_changed", { socketId: "me", role: "leader", previousLeader: "keys", timestamp: 2 });
    assert.equal(band.isLeader, true);
    assert.deepEqual(names(band), ["Keys:follower", "Bass:follower", "Me:leader", "Drums:follower"]);
    // Bass's phone comes back on a new connection and takes its seat back by clientId.
    sock.deliver("member_status", { sessionId: "band", socketId: "bass", connected: false, heldUntil: 50 });
    sock.deliver("member_replaced", {
      sessionId: "band",
      previousSocketId: "bass",
      socketId: "bass2",
      member: member("bass2", "Bass"),
    });
    assert.deepEqual(band.members.map((m) => m.socketId), ["keys", "bass2", "me", "drums"]);
    assert.equal(band.member("bass2").connected, true);
    assert.equal(changes.at(-1).change.wasHeld, true, "a held seat taken back");
    // The leader's seat reclaimed: the lead follows it.
    sock.deliver("member_replaced", {
      sessionId: "band",
      previousSocketId: "me",
      socketId: "me2",
      member: member("me2", "Me", "leader"),
    });
    assert.equal(band.leaderSocketId, "me2");
    assert.equal(changes.at(-1).change.wasHeld, false);
    sock.deliver("member_link", { sessionId: "band", socketId: "drums", link: { rttMs: 12, jitterMs: 1, at: 3 } });
    assert.equal(band.member("drums").link.rttMs, 12);
    assert.deepEqual(
      changes.map((c) => c.change.kind),
      ["joined", "joined", "role", "held", "replaced", "replaced", "link"],
    );
  });

  it("ignores another session's news, malformed payloads and unknown members; a snapshot replaces all", async () => {
    const { sock, band, changes } = await joined();
    sock.deliver("member_status", { sessionId: "other", socketId: "bass", connected: false, heldUntil: 1 });
    sock.deliver("member_status", { sessionId: "band", socketId: "nobody", connected: false, heldUntil: 1 });
    sock.deliver("member_status", { sessionId: "band", socketId: "bass", connected: "no" });
    sock.deliver("member_status", null);
    sock.deliver("user_joined", { memberCount: 3 });
    sock.deliver("user_left", {});
    assert.equal(changes.length, 0);
    assert.deepEqual(names(band), ["Keys:leader", "Bass:follower", "Me:follower"]);
    // heldUntil is dropped when the member is back, whatever the payload says.
    sock.deliver("member_status", { sessionId: "band", socketId: "bass", connected: true, heldUntil: 7 });
    assert.equal(band.member("bass").heldUntil, null);
    // A fresh snapshot (e.g. after a re-join) is the whole truth again.
    sock.deliver("snapshot", snapshot([member("bass", "Bass", "leader", { connected: false, heldUntil: 99 }), member("me", "Me")]));
    assert.deepEqual(names(band), ["Bass:leader:held", "Me:follower"]);
    assert.equal(changes.at(-1).change.kind, "snapshot");
    assert.equal(band.member("bass").heldUntil, 99);
  });

  it("before joining there are no members and member news change nothing", () => {
    const sock = new FakeSocket();
    const band = createBandSync({ io: () => sock, url: "http://band.test", clientId: "device-me-0001" });
    let n = 0;
    band.on("members", () => n++);
    sock.deliver("user_joined", { member: member("x", "X"), memberCount: 1 });
    sock.deliver("member_status", { sessionId: "band", socketId: "x", connected: false, heldUntil: 1 });
    assert.deepEqual(band.members, []);
    assert.equal(band.member(), null);
    assert.equal(n, 0);
    band.close();
  });
});
