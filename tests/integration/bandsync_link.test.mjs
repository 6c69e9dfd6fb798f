// Link quality (docs/EVENTS.md "Link quality") on the wire with the real
// socket.io-client: link_report's bounds, membership and once-a-second limit,
// member_link to the session and `link` on snapshot members; and
// bandsync-client reporting its own link after each sync burst, so that every
// device sees every member's round trip.

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { createBandSync } from "../../client/bandsync-client.js";
import { DeviceJar, WAIT_MS, assertKeys, join, sessionName } from "./lib/bandsync.mjs";
import { serverPerSuite, sleep } from "./lib/server.mjs";

const jar = new DeviceJar();
const clients = new Set();
function closeAll() {
  jar.closeAll();
  for (const c of clients) c.close();
  clients.clear();
}

async function until(what, cond, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("link quality", () => {
  const server = serverPerSuite(["serve"], closeAll);
  afterEach(closeAll);

  it("link_report goes to the session as member_link and onto snapshot members", async () => {
    const sessionId = sessionName("link");
    const lead = await jar.connect(server.url, {}, "lead");
    const f = await jar.connect(server.url, {}, "f");
    const first = await join(lead, sessionId, { displayName: "Keys" });
    assert.equal(first.members[0].link, null, "no report yet");
    await join(f, sessionId, { displayName: "Bass" }, [lead]);
    const marks = [lead.mark(), f.mark()];
    f.emit("link_report", { sessionId, rttMs: 12.5, jitterMs: 2 });
    const got = await Promise.all([lead, f].map((d, i) => d.waitFor("member_link", { after: marks[i] })));
    for (const g of got) {
      assertKeys(g.payload, ["sessionId", "socketId", "link"], "member_link");
      assert.equal(g.payload.sessionId, sessionId);
      assert.equal(g.payload.socketId, f.id);
      assertKeys(g.payload.link, ["rttMs", "jitterMs", "at"], "member_link.link");
      assert.equal(g.payload.link.rttMs, 12.5);
      assert.equal(g.payload.link.jitterMs, 2);
      // Server time of receipt: this machine's clock, give or take the loop.
      assert.ok(Math.abs(g.payload.link.at - Date.now()) < 2_000, JSON.stringify(g.payload));
    }
    // The next snapshot (any change) carries it on the member.
    const m = lead.mark();
    lead.emit("update_message", { sessionId, message: "Set 1" });
    const snap = (await lead.waitFor("snapshot", { after: m })).payload;
    const bass = snap.members.find((x) => x.socketId === f.id);
    assert.deepEqual(bass.link, got[0].payload.link);
    assert.equal(snap.members.find((x) => x.socketId === lead.id).link, null);
  });

  it("bad link_reports answer INVALID_PAYLOAD, NOT_A_MEMBER, RATE_LIMITED and change nothing", async () => {
    const sessionId = sessionName("linkbad");
    const lead = await jar.connect(server.url, {}, "lead");
    const stranger = await jar.connect(server.url, {}, "stranger");
    await join(lead, sessionId, { displayName: "Keys" });
    const cases = [
      [{ sessionId }, "INVALID_PAYLOAD", "rttMs must be a number from 0 to 60000"],
      [{ sessionId, rttMs: -1 }, "INVALID_PAYLOAD", "rttMs must be a number from 0 to 60000"],
      [{ sessionId, rttMs: 60001 }, "INVALID_PAYLOAD", "rttMs must be a number from 0 to 60000"],
      [{ sessionId, rttMs: "5" }, "INVALID_PAYLOAD", "rttMs must be a number from 0 to 60000"],
      [{ sessionId, rttMs: 5, jitterMs: -3 }, "INVALID_PAYLOAD", "jitterMs must be a number from 0 to 60000"],
      [{ sessionId: "", rttMs: 5 }, "INVALID_PAYLOAD", undefined],
    ];
    for (const [payload, code, message] of cases) {
      const m = lead.mark();
      lead.emit("link_report", payload);
      const e = (await lead.waitFor("error", { after: m })).payload;
      assert.equal(e.code, code, JSON.stringify(payload));
      if (message) assert.equal(e.message, message);
    }
    let m = stranger.mark();
    stranger.emit("link_report", { sessionId, rttMs: 5 });
    assert.equal((await stranger.waitFor("error", { after: m })).payload.code, "NOT_A_MEMBER");
    m = lead.mark();
    lead.emit("link_report", { sessionId, rttMs: 5 });
    lead.emit("link_report", { sessionId, rttMs: 6 });
    await lead.waitFor("member_link", { after: m });
    const e = (await lead.waitFor("error", { after: m })).payload;
    assert.equal(e.code, "RATE_LIMITED");
    await sleep(100);
    const links = lead.payloads("member_link", m);
    assert.equal(links.length, 1, "the second report within a second was not broadcast");
    assert.equal(links[0].link.rttMs, 5);
  });

  it("bandsync-client reports its link after its sync burst; every device sees each member's", async () => {
    const sessionId = sessionName("linklib");
    // What each device knows of the members' links: from its snapshots and
    // the member_link events (the library keeps the last snapshot's members
    // current with them; user_joined is the page's business).
    const make = () => {
      const c = createBandSync({ io, url: server.url, ioOptions: { forceNew: true }, syncGapMs: 10 });
      clients.add(c);
      c.links = new Map();
      c.on("snapshot", (s) => {
        for (const m of s.members ?? []) c.links.set(m.socketId, m.link);
      });
      c.on("memberLink", (p) => c.links.set(p.socketId, p.link));
      return c;
    };
    const a = make();
    await a.join(sessionId, { displayName: "Keys" });
    const b = make();
    await b.join(sessionId, { displayName: "Bass" });
    const linked = (c) => [a.id, b.id].every((id) => Number.isFinite(c.links.get(id)?.rttMs));
    await until("both members' links on both devices", () => linked(a) && linked(b));
    for (const c of [a, b]) {
      assert.ok(c.link && c.link.samples > 0, JSON.stringify(c.link));
      for (const [id, link] of c.links) {
        // Loopback: well under a second, never negative.
        assert.ok(link.rttMs >= 0 && link.rttMs < 1_000, `${id} ${JSON.stringify(link)}`);
        assert.ok(link.jitterMs === null || link.jitterMs >= 0, `${id} ${JSON.stringify(link)}`);
      }
    }
    // What a device reported is what the others see of it, and the library's
    // snapshot carries it once a member_link came after the snapshot.
    assert.equal(a.links.get(b.id).rttMs, b.link.rttMs);
    assert.equal(b.links.get(a.id).rttMs, a.link.rttMs);
    assert.deepEqual(
      b.snapshot.members.find((m) => m.socketId === b.id).link,
      b.links.get(b.id),
    );
  });
});
