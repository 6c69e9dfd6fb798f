// BandSync with Redis persistence, black-box: the real binary, the real
// socket.io-client and a real redis-server started here (lib/redis.mjs).
//
//   restart        a session's tempo, position and message survive a SIGTERM
//                  restart; its members do not (their sockets died), the first
//                  to rejoin leads, and the restored session is PAUSED
//   outage         Redis killed while a session plays: ticks, tempo changes
//                  and joins go on, /health is degraded; Redis restarted empty
//                  gets the whole live state written back
//   concurrency    8 devices joining one session at once, 20 times: Redis
//                  lists all 8 and exactly one leader every time
//   compatibility  a `session:` value written by the old Node server is
//                  loaded and served
//   setlist        the songs (`setlist:<id>`, same TTL) and the current song
//                  (`currentSongId` in the session value) survive a restart
//   command rate   Redis commands per second per playing session

import { after, afterEach, describe, it } from "node:test";
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
  metrics,
  sessionName,
  sleep,
  waitListening,
} from "./lib/bandsync.mjs";
import { getJson, redisCommand, redisMissing, scanKeys, startRedis } from "./lib/redis.mjs";

const WS = { transports: ["websocket"] };

// The EVENTS.md example, as the old server wrote it.
const OLD_SERVER_SESSION = {
  message: "Keys is leading",
  tempo: 96,
  position: 42000,
  isPlaying: false,
  leaderSocketId: "sFi9k8dNrOz4Mq6PAAAA",
  tempoBpm: 96,
  members: [
    ["sFi9k8dNrOz4Mq6PAAAA", { socketId: "sFi9k8dNrOz4Mq6PAAAA", joinedAt: 1795627303700,
      lastPingAt: 1795627303700, role: "leader", displayName: "Keys" }],
    ["mo9bofWGLEl0vh2DAAAB", { socketId: "mo9bofWGLEl0vh2DAAAB", joinedAt: 1795627304107,
      lastPingAt: 1795627304107, role: "follower", displayName: "Bass" }],
  ],
  createdAt: 1795627303502,
  lastActiveAt: 1795627304714,
  settings: { maxMembers: 8 },
};

const missing = redisMissing();

describe("BandSync with Redis", { skip: missing ?? false }, () => {
  const jar = new DeviceJar();
  const servers = [];
  const redises = [];

  // `bandsync serve` with REDIS_HOST/REDIS_PORT aimed at `redis`.
  async function startBandsync(redis) {
    const port = await freePort();
    const env = cleanEnv({ REDIS_HOST: HOST, REDIS_PORT: String(redis.port), LOG_LEVEL: "info" });
    const server = launch(["serve", "--port", String(port), "--host", HOST], { env });
    servers.push(server);
    if (!(await waitListening(server, port))) {
      await server.kill();
      assert.fail(`bandsync did not start on port ${port}:\n${server.stderr()}`);
    }
    return Object.assign(server, { port, url: `http://${HOST}:${port}` });
  }

  async function redisServer() {
    const r = await startRedis();
    redises.push(r);
    return r;
  }

  afterEach(async () => {
    jar.closeAll();
    for (const s of servers.splice(0)) {
      const alive = s.alive();
      const exit = await s.stop();
      assert.ok(!alive || exit.code === 0, `bandsync exited with ${JSON.stringify(exit)}:\n${s.stderr()}`);
    }
    for (const r of redises.splice(0)) await r.kill();
  });

  after(() => jar.closeAll());

  it("restart: tempo, position and message survive a SIGTERM; the first to rejoin leads a paused session", async () => {
    const MESSAGE = "Bridge at bar 12, then the coda";
    const redis = await redisServer();
    const first = await startBandsync(redis);
    const sessionId = sessionName("band-restart");
    const devices = [];
    for (const name of ["Keys", "Bass", "Drums"]) {
      const d = await jar.connect(first.url, WS, name);
      await join(d, sessionId, { displayName: name }, devices);
      devices.push(d);
    }
    const [keys] = devices;
    let m = keys.mark();
    keys.emit("set_tempo", { sessionId, tempo: 97 });
    await keys.waitFor("snapshot", { after: m, where: (p) => p.tempo === 97 });
    m = keys.mark();
    keys.emit("seek", { sessionId, position: 42000 });
    await keys.waitFor("seek", { after: m });
    m = keys.mark();
    keys.emit("update_message", { sessionId, message: MESSAGE });
    await keys.waitFor("snapshot", { after: m, where: (p) => p.message === MESSAGE });

    // Written through at once, members included.
    await eventually(
      () => getJson(redis.port, `session:${sessionId}`),
      (s) => s?.tempo === 97 && s.position === 42000 && s.message === MESSAGE && s.members.length === 3,
      "the session in Redis before the restart",
    );

    const t0 = Date.now();
    const exit = await first.stop();
    const stopMs = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null, forced: false }, first.stderr());
    assert.ok(stopMs < 2_000, `SIGTERM to exit took ${stopMs} ms`);
    jar.closeAll();

    // Stored as the next start restores it: paused, no members, no leader.
    const stored = await getJson(redis.port, `session:${sessionId}`);
    assert.equal(stored.tempo, 97);
    assert.equal(stored.position, 42000);
    assert.equal(stored.message, MESSAGE);
    assert.equal(stored.isPlaying, false);
    assert.deepEqual(stored.members, []);
    assert.equal(stored.leaderSocketId, null);
    for (const d of devices) {
      assert.equal(await redisCommand(redis.port, "EXISTS", `member:${d.id}`), 0, "member keys of dead sockets");
    }
    assert.ok((await redisCommand(redis.port, "TTL", `session:${sessionId}`)) > 1790);

    const second = await startBandsync(redis);
    const bass = await jar.connect(second.url, WS, "Bass again");
    const snap = await join(bass, sessionId, { displayName: "Bass" });
    assert.equal(snap.tempo, 97);
    assert.equal(snap.tempoBpm, 97);
    assert.equal(snap.position, 42000);
    assert.equal(snap.message, MESSAGE, "the first rejoiner leads without replacing the message");
    assert.equal(snap.isPlaying, false);
    assert.deepEqual(snap.members.map((x) => x.socketId), [bass.id]);
    assert.equal(snap.members[0].role, "leader");
    assert.equal(snap.leaderSocketId, bass.id);

    const drums = await jar.connect(second.url, WS, "Drums again");
    const snap2 = await join(drums, sessionId, { displayName: "Drums" }, [bass]);
    assert.deepEqual(snap2.members.map((x) => x.socketId), [bass.id, drums.id]);
    assert.equal(snap2.leaderSocketId, bass.id);
    assert.equal(snap2.position, 42000);
  });

  it("setlist: the songs and the current song survive a SIGTERM restart", async () => {
    const redis = await redisServer();
    const first = await startBandsync(redis);
    const sessionId = sessionName("band-setlist");
    const lead = await jar.connect(first.url, WS, "lead");
    await join(lead, sessionId, { displayName: "Keys" });
    const songs = [
      { id: "one", title: "One", tempo: 100, beatsPerBar: 4 },
      { id: "two", title: "Two", tempo: 132, beatsPerBar: 7, key: "F#m", chart: "[Intro] @1\n[Am]x\n[Outro] @40\nend" },
    ];
    let m = lead.mark();
    lead.emit("set_setlist", { sessionId, setlist: songs });
    await lead.waitFor("setlist_changed", { after: m });
    m = lead.mark();
    lead.emit("select_song", { sessionId, songId: "two" });
    await lead.waitFor("snapshot", { after: m, where: (p) => p.currentSongId === "two" });

    // Written through at once: the songs in their own key with the session's TTL.
    const stored = await eventually(
      () => getJson(redis.port, `setlist:${sessionId}`),
      (v) => v?.songs?.length === 2,
      "setlist key in Redis",
    );
    assert.deepEqual(stored.songs[1], songs[1], "stored songs carry no derived sections");
    assert.ok((await redisCommand(redis.port, "TTL", `setlist:${sessionId}`)) > 1790);
    const session = await getJson(redis.port, `session:${sessionId}`);
    assert.equal(session.currentSongId, "two");
    assert.equal(session.beatsPerBar, 7);
    assert.equal(session.tempo, 132);

    const exit = await first.stop();
    assert.equal(exit.code, 0, first.stderr());
    jar.closeAll();

    const second = await startBandsync(redis);
    const again = await jar.connect(second.url, WS, "lead again");
    const snap = await join(again, sessionId, { displayName: "Keys" });
    assert.equal(snap.currentSongId, "two");
    assert.equal(snap.tempoBpm, 132);
    assert.equal(snap.beatsPerBar, 7);
    assert.deepEqual(snap.setlist.map((s) => s.id), ["one", "two"]);
    assert.deepEqual(snap.setlist[1], {
      ...songs[1],
      sections: [
        { name: "Intro", line: 0, bar: 1 },
        { name: "Outro", line: 2, bar: 40 },
      ],
    });
    // And the restored setlist steps on.
    m = again.mark();
    again.emit("previous_song", { sessionId });
    const changed = (await again.waitFor("setlist_changed", { after: m })).payload;
    assert.equal(changed.currentSongId, "one");
  });

  it("restart while Redis hangs: the stored session is never overwritten; it is served once Redis answers", async () => {
    const MESSAGE = "Second set: start at the bridge";
    const redis = await redisServer();
    const sessionId = sessionName("band-hung");
    const storedBefore = { ...OLD_SERVER_SESSION, message: MESSAGE, tempo: 97, tempoBpm: 97, members: [], leaderSocketId: null };
    await redisCommand(redis.port, "SET", `session:${sessionId}`, JSON.stringify(storedBefore), "EX", "1800");
    // The background load reads the setlists too, as the start-up load does.
    const songs = [{ id: "one", title: "One", tempo: 97, beatsPerBar: 3 }];
    await redisCommand(redis.port, "SET", `setlist:${sessionId}`, JSON.stringify({ songs }), "EX", "1800");

    process.kill(redis.proc.pid, "SIGSTOP");
    let resumed = false;
    const resume = () => {
      if (!resumed) process.kill(redis.proc.pid, "SIGCONT");
      resumed = true;
    };
    try {
      const server = await startBandsync(redis);
      // BandSync serves, but cannot know yet whether the session is stored.
      const phone = await jar.connect(server.url, WS, "phone");
      let m = phone.mark();
      phone.emit("join_session", { sessionId, displayName: "Keys" });
      const refused = (await phone.waitFor("error", { after: m })).payload;
      assert.equal(refused.code, "SERVER_BUSY", JSON.stringify(refused));
      m = phone.mark();
      phone.emit("set_tempo", { sessionId, tempo: 150 });
      await phone.waitFor("error", { after: m });
      assert.equal((await health(server.url)).status, "degraded");

      resume();
      // Once Redis answers, the stored session is loaded and the band finds it as it was.
      const snap = await eventually(
        async () => {
          const mark = phone.mark();
          phone.emit("join_session", { sessionId, displayName: "Keys" });
          await sleep(300);
          const [rec] = phone.events({ after: mark, names: ["snapshot", "error"] });
          return rec;
        },
        (rec) => rec?.name === "snapshot",
        "a join once Redis answered",
        20_000,
      );
      assert.equal(snap.payload.tempo, 97);
      assert.equal(snap.payload.position, 42000);
      assert.equal(snap.payload.message, MESSAGE);
      assert.deepEqual(snap.payload.setlist, [{ ...songs[0], sections: [] }]);
      assert.equal(snap.payload.leaderSocketId, phone.id);
      const stored = await eventually(
        () => getJson(redis.port, `session:${sessionId}`),
        (s) => s?.members?.length === 1,
        "the session in Redis with its new member",
      );
      assert.equal(stored.tempo, 97);
      assert.equal(stored.position, 42000);
      assert.equal(stored.message, MESSAGE);
      assert.equal(stored.createdAt, OLD_SERVER_SESSION.createdAt);
      assert.match(server.stderr(), /background load complete/);
    } finally {
      resume();
    }
  });

  it("a playing session is restored paused at the position it had reached", async () => {
    const redis = await redisServer();
    const first = await startBandsync(redis);
    const sessionId = sessionName("band-playing");
    const lead = await jar.connect(first.url, WS, "lead");
    await join(lead, sessionId, { displayName: "Keys" });
    const m = lead.mark();
    lead.emit("play", { sessionId });
    await lead.waitCount("scroll_tick", 12, { after: m });
    const exit = await first.stop();
    assert.equal(exit.code, 0);
    jar.closeAll();
    const stored = await getJson(redis.port, `session:${sessionId}`);
    assert.equal(stored.isPlaying, false);
    assert.ok(stored.position >= 1100, `position ${stored.position} reached before the stop`);
    assert.equal(await redisCommand(redis.port, "EXISTS", `interval:${sessionId}`), 0);

    const second = await startBandsync(redis);
    const again = await jar.connect(second.url, WS, "again");
    const snap = await join(again, sessionId, { displayName: "Keys" });
    assert.equal(snap.isPlaying, false);
    assert.equal(snap.position, stored.position);
    await sleep(300);
    assert.equal(again.events({ names: ["scroll_tick"] }).length, 0, "a restored session does not tick");
  });

  it("outage: sessions keep running from memory, /health is degraded, and Redis gets everything back", async () => {
    const redis = await redisServer();
    const server = await startBandsync(redis);
    const sessionId = sessionName("band-outage");
    const lead = await jar.connect(server.url, WS, "lead");
    await join(lead, sessionId, { displayName: "Keys" });
    const leaver = await jar.connect(server.url, WS, "leaver");
    await join(leaver, sessionId, { displayName: "Temp" }, [lead]);
    let m = lead.mark();
    lead.emit("play", { sessionId });
    await lead.waitCount("scroll_tick", 3, { after: m });
    assert.deepEqual(
      { status: (await health(server.url)).status, redis: (await health(server.url)).redis },
      { status: "healthy", redis: true },
    );
    await eventually(() => redisCommand(redis.port, "EXISTS", `member:${leaver.id}`), (n) => n === 1, "member key");

    await redis.kill();
    m = lead.mark();
    const degraded = await eventually(() => health(server.url), (h) => h.status === "degraded",
      "/health degraded after Redis died");
    assert.equal(degraded.redis, false);

    // Everything still works from memory.
    let t = lead.mark();
    lead.emit("set_tempo", { sessionId, tempo: 133 });
    await lead.waitFor("snapshot", { after: t, where: (p) => p.tempo === 133 });
    const newcomer = await jar.connect(server.url, WS, "newcomer");
    const snap = await join(newcomer, sessionId, { displayName: "Horns" }, [lead, leaver]);
    assert.equal(snap.tempo, 133);
    t = lead.mark();
    leaver.emit("leave_session", { sessionId });
    await lead.waitFor("user_left", { after: t });
    await sleep(1000);
    const ticks = lead.events({ after: m, names: ["scroll_tick"] });
    assert.ok(ticks.length >= 8, `${ticks.length} ticks during the outage`);
    assert.ok(ticks.at(-1).payload.positionMs > ticks[0].payload.positionMs);

    // Redis comes back empty (no persistence): the write-back must rebuild it.
    await redis.start();
    await eventually(() => health(server.url), (h) => h.status === "healthy" && h.redis === true,
      "/health healthy after Redis returned", 15_000);
    const stored = await eventually(
      () => getJson(redis.port, `session:${sessionId}`),
      (s) => s?.tempo === 133 && s.members.length === 2,
      "the session written back",
    );
    assert.equal(stored.tempoBpm, 133);
    assert.equal(stored.isPlaying, true);
    assert.deepEqual(stored.members.map(([id]) => id), [lead.id, newcomer.id]);
    assert.equal(stored.leaderSocketId, lead.id);
    assert.equal((await getJson(redis.port, `member:${newcomer.id}`))?.sessionId, sessionId);
    assert.equal((await getJson(redis.port, `member:${lead.id}`))?.role, "leader");
    assert.equal(await redisCommand(redis.port, "EXISTS", `member:${leaver.id}`), 0, "the leaver stays deleted");
    assert.equal(await redisCommand(redis.port, "EXISTS", `interval:${sessionId}`), 1);
    assert.ok((await redisCommand(redis.port, "TTL", `session:${sessionId}`)) > 1790);
    const m2 = await metrics(server.url);
    assert.equal(m2.get("bandsync_redis_up"), 1);
    assert.ok(m2.get("bandsync_redis_resyncs_total") >= 1, "the live state was rewritten");
    assert.equal(m2.get("bandsync_redis_writes_dropped_total"), 0);
    assert.ok(server.alive());
    assert.match(server.stderr(), /redis: connection to .* lost/);
    assert.match(server.stderr(), /redis: reconnected/);
    assert.equal((server.stderr().match(/connection to .* lost/g) ?? []).length, 1,
      "the outage is logged once, not once per retry");
  });

  it("concurrency: 8 devices joining one session at the same instant, 20 times: all 8 stored, one leader", async () => {
    const redis = await redisServer();
    const server = await startBandsync(redis);
    const rounds = [];
    for (let r = 0; r < 20; r++) {
      const sessionId = sessionName(`band-rush${r}`);
      const devices = await Promise.all(
        Array.from({ length: 8 }, (_, i) => jar.connect(server.url, WS, `r${r}d${i}`)),
      );
      const marks = devices.map((d) => d.mark());
      for (const d of devices) d.emit("join_session", { sessionId, displayName: d.label });
      await Promise.all(devices.map((d, i) => d.waitFor("snapshot", { after: marks[i] })));
      rounds.push({ sessionId, devices });
    }
    for (const { sessionId, devices } of rounds) {
      const stored = await eventually(
        () => getJson(redis.port, `session:${sessionId}`),
        (s) => s?.members?.length === 8,
        `all 8 members of ${sessionId} in Redis`,
      );
      const ids = stored.members.map(([id]) => id);
      assert.deepEqual([...ids].sort(), devices.map((d) => d.id).sort());
      const leaders = stored.members.filter(([, mem]) => mem.role === "leader");
      assert.equal(leaders.length, 1, `exactly one leader in ${JSON.stringify(stored.members)}`);
      assert.equal(stored.leaderSocketId, leaders[0][0]);
      for (const d of devices) {
        const entry = await getJson(redis.port, `member:${d.id}`);
        assert.equal(entry?.sessionId, sessionId);
        assert.equal(entry.role, d.id === stored.leaderSocketId ? "leader" : "follower");
      }
    }
    const sessionKeys = await scanKeys(redis.port, "session:band-rush*");
    assert.equal(sessionKeys.length, 20);
  });

  it("compatibility: a session written by the old Node server is loaded and served", async () => {
    const redis = await redisServer();
    const sessionId = sessionName("example-band");
    await redisCommand(redis.port, "SET", `session:${sessionId}`, JSON.stringify(OLD_SERVER_SESSION), "EX", 1800);
    for (const [id, member] of OLD_SERVER_SESSION.members) {
      await redisCommand(redis.port, "SET", `member:${id}`, JSON.stringify({ sessionId, ...member }), "EX", 1800);
    }
    await redisCommand(redis.port, "SET", `interval:${sessionId}`, "1", "EX", 1800);
    const server = await startBandsync(redis);

    // The stale members and ticker are cleared from Redis at start.
    for (const [id] of OLD_SERVER_SESSION.members) {
      await eventually(() => redisCommand(redis.port, "EXISTS", `member:${id}`), (n) => n === 0, `member:${id} removed`);
    }
    assert.equal(await redisCommand(redis.port, "EXISTS", `interval:${sessionId}`), 0);

    const piano = await jar.connect(server.url, WS, "piano");
    const snap = await join(piano, sessionId, { displayName: "Piano" });
    assert.equal(snap.tempo, 96);
    assert.equal(snap.tempoBpm, 96);
    assert.equal(snap.position, 42000);
    assert.equal(snap.message, "Keys is leading", "the stored message");
    assert.equal(snap.createdAt, OLD_SERVER_SESSION.createdAt);
    assert.deepEqual(snap.members.map((x) => x.socketId), [piano.id]);
    assert.equal(snap.leaderSocketId, piano.id);

    // And BandSync's value is readable in the same layout.
    const stored = await eventually(() => getJson(redis.port, `session:${sessionId}`),
      (s) => s?.members?.length === 1, "the session rewritten with its new member");
    assert.deepEqual(stored.members[0][0], piano.id);
    assert.equal(stored.members[0][1].displayName, "Piano");
    assert.equal(stored.tempo, 96);
  });

  it("command rate: a playing session costs about one Redis command per second", async (t) => {
    const SESSIONS = 10;
    const WINDOW_MS = 10_000;
    const redis = await redisServer();
    const server = await startBandsync(redis);
    for (let i = 0; i < SESSIONS; i++) {
      const sessionId = sessionName(`band-rate${i}`);
      const lead = await jar.connect(server.url, WS, `lead${i}`);
      await join(lead, sessionId, { displayName: "Keys" });
      const f = await jar.connect(server.url, WS, `f${i}`);
      await join(f, sessionId, { displayName: "Bass" }, [lead]);
      lead.emit("play", { sessionId });
    }
    await sleep(1500);
    const processed = async () => {
      const info = await redisCommand(redis.port, "INFO", "stats");
      return Number(/total_commands_processed:(\d+)/.exec(info)[1]);
    };
    const before = await processed();
    await sleep(WINDOW_MS);
    const after = await processed();
    const commands = after - before - 1; // the second INFO counts itself
    const perSession = commands / (WINDOW_MS / 1000) / SESSIONS;
    t.diagnostic(`${commands} commands in ${WINDOW_MS / 1000} s with ${SESSIONS} sessions playing: ` +
      `${perSession.toFixed(2)} commands/s per playing session`);
    assert.ok(perSession <= 2, `${perSession} commands/s per playing session`);
    assert.ok(perSession >= 0.8, "the position is persisted about once per second");
  });
});

if (missing) {
  describe("BandSync with Redis (skipped)", () => {
    it(`skipped: ${missing}`, { skip: missing }, () => {});
  });
}
