// Setlists with the real socket.io-client over WebSocket, against `bandsync
// serve` (docs/EVENTS.md "Setlists"): a member joining mid-set gets the whole
// setlist and the current song in its snapshot; next_song reaches all eight
// devices as ONE setlist_changed each, then a snapshot with the new song's
// tempo and metre; a follower's change is refused with NOT_LEADER; a ChordPro
// text becomes a song; a cue reaches everyone.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { serverPerSuite } from "./lib/server.mjs";
import { DeviceJar, assertEpochNear, checkSnapshot, errorCount, join, sessionName, sleep } from "./lib/bandsync.mjs";

const QUIET_MS = 400; // used only to prove an absence (no second setlist_changed)

const SONGS = [
  { id: "open", title: "Opener", tempo: 96, beatsPerBar: 4, key: "E" },
  { id: "waltz", title: "Waltz", tempo: 150, beatsPerBar: 3, chart: "[Verse]\n[C]La la\n[Chorus] @17\nHey" },
  { id: "close", title: "Closer", tempo: 180, beatsPerBar: 6 },
];

describe("setlists over WebSocket", () => {
  const jar = new DeviceJar();
  const server = serverPerSuite(["serve"], () => jar.closeAll());
  const connect = (label) => jar.connect(server.url, { transports: ["websocket"] }, label);

  async function band(sessionId, count) {
    const devices = [];
    for (let i = 0; i < count; i++) {
      const d = await connect(`device ${i}`);
      await join(d, sessionId, { displayName: `Player ${i}` }, devices);
      devices.push(d);
    }
    return devices;
  }

  // The leader sends `event`; resolves with the setlist_changed every device got.
  async function change(devices, event, payload) {
    const marks = devices.map((d) => d.mark());
    devices[0].emit(event, payload);
    return Promise.all(devices.map((d, i) => d.waitFor("setlist_changed", { after: marks[i] }).then((r) => r.payload)));
  }

  it("a member joining mid-set gets the setlist and the current song in its join snapshot", async () => {
    const sessionId = sessionName("set-join");
    const [lead, bass] = await band(sessionId, 2);
    await change([lead, bass], "set_setlist", { sessionId, setlist: SONGS });
    const [changed] = await change([lead, bass], "select_song", { sessionId, songId: "waltz" });
    assert.equal(changed.currentSongId, "waltz");

    const late = await connect("late");
    const snap = await join(late, sessionId, { displayName: "Drums" }, [lead, bass]);
    checkSnapshot(snap, { sessionId, what: "join snapshot" });
    assert.equal(snap.currentSongId, "waltz");
    assert.equal(snap.tempoBpm, 150);
    assert.equal(snap.beatsPerBar, 3);
    assert.deepEqual(snap.setlist.map((s) => s.id), ["open", "waltz", "close"]);
    assert.deepEqual(snap.setlist[0], { id: "open", title: "Opener", tempo: 96, beatsPerBar: 4, key: "E", sections: [] });
    assert.deepEqual(snap.setlist[1].sections, [
      { name: "Verse", line: 0 },
      { name: "Chorus", line: 2, bar: 17 },
    ]);
    assert.equal(snap.setlist[1].chart, SONGS[1].chart);
  });

  it("next_song reaches all eight devices as one setlist_changed each, then a snapshot with the song's tempo", async () => {
    const sessionId = sessionName("set-eight");
    const devices = await band(sessionId, 8);
    await change(devices, "set_setlist", { sessionId, setlist: SONGS });
    await change(devices, "select_song", { sessionId, songId: "open" });
    let m = devices[0].mark();
    devices[0].emit("play", { sessionId });
    await devices[0].waitFor("play", { after: m });
    await sleep(300);

    const marks = devices.map((d) => d.mark());
    devices[0].emit("next_song", { sessionId });
    const snaps = await Promise.all(
      devices.map((d, i) =>
        d.waitFor("snapshot", { after: marks[i], where: (p) => p.currentSongId === "waltz" }).then((r) => r.payload),
      ),
    );
    await sleep(QUIET_MS);
    for (const [i, d] of devices.entries()) {
      const got = d.events({ after: marks[i], names: ["setlist_changed", "snapshot"] });
      assert.deepEqual(got.map((r) => r.name), ["setlist_changed", "snapshot"], `device ${i}: one setlist_changed, then the snapshot`);
      const changed = got[0].payload;
      assert.equal(changed.sessionId, sessionId);
      assert.equal(changed.currentSongId, "waltz");
      assert.deepEqual(changed.change, { kind: "select", songId: "waltz" });
      assert.deepEqual(changed.setlist.map((s) => s.id), ["open", "waltz", "close"]);
      const snap = snaps[i];
      assert.equal(snap.tempoBpm, 150);
      assert.equal(snap.beatsPerBar, 3);
      assert.equal(snap.position, 0);
      assert.equal(snap.isPlaying, false, "a selection without continue stops the band");
    }

    // With continue the band plays on from 0 of the next song.
    m = devices[0].mark();
    devices[0].emit("play", { sessionId });
    await devices[0].waitFor("play", { after: m });
    m = devices[7].mark();
    devices[0].emit("next_song", { sessionId, continue: true });
    const snap = (await devices[7].waitFor("snapshot", { after: m, where: (p) => p.currentSongId === "close" })).payload;
    assert.equal(snap.isPlaying, true);
    assert.equal(snap.tempoBpm, 180);
    assert.ok(snap.position < 200, `position ${snap.position} starts again near 0`);
    const tick = (await devices[7].waitFor("scroll_tick", { after: m, where: (p) => p.tempoBpm === 180 })).payload;
    assert.ok(tick.positionMs < 1000, `tick at ${tick.positionMs} ms into the new song`);

    // The last song: END_OF_SETLIST to the leader only, nothing else.
    m = devices[0].mark();
    const m7 = devices[7].mark();
    devices[0].emit("next_song", { sessionId });
    const err = (await devices[0].waitFor("error", { after: m })).payload;
    assert.equal(err.code, "END_OF_SETLIST");
    await sleep(QUIET_MS);
    assert.deepEqual(devices[7].events({ after: m7, names: ["setlist_changed", "snapshot"] }), []);
  });

  it("a follower's setlist change is refused with NOT_LEADER and changes nothing", async () => {
    const sessionId = sessionName("set-follower");
    const [lead, bass] = await band(sessionId, 2);
    await change([lead, bass], "set_setlist", { sessionId, setlist: SONGS });
    const before = await errorCount(server.url, "NOT_LEADER");
    const attempts = [
      ["set_setlist", { sessionId, setlist: [] }],
      ["add_song", { sessionId, song: { title: "Mine" } }],
      ["remove_song", { sessionId, songId: "open" }],
      ["select_song", { sessionId, songId: "close" }],
      ["next_song", { sessionId }],
      ["import_chart", { sessionId, text: "{title: Mine}" }],
      ["cue", { sessionId, text: "louder" }],
    ];
    for (const [event, payload] of attempts) {
      const mb = bass.mark();
      const ml = lead.mark();
      bass.emit(event, payload);
      const err = (await bass.waitFor("error", { after: mb })).payload;
      assert.deepEqual(Object.keys(err).sort(), ["code", "message"]);
      assert.equal(err.code, "NOT_LEADER", `${event} from a follower`);
      await sleep(50);
      assert.deepEqual(lead.events({ after: ml, names: ["setlist_changed", "snapshot", "cue"] }), [], `${event} reached the leader`);
    }
    assert.equal((await errorCount(server.url, "NOT_LEADER")) - before, attempts.length);
    // Still the leader's setlist, nothing current.
    const m = bass.mark();
    bass.emit("sync_request", { sessionId });
    await bass.waitFor("sync_response", { after: m });
    const late = await connect("late");
    const snap = await join(late, sessionId, {}, [lead, bass]);
    assert.deepEqual(snap.setlist.map((s) => s.id), ["open", "waltz", "close"]);
    assert.equal(snap.currentSongId, null);
  });

  it("import_chart of a ChordPro text gives a song with title, tempo, time and sections", async () => {
    const sessionId = sessionName("set-import");
    const [lead, bass] = await band(sessionId, 2);
    const text = [
      "{title: Amazing Grace}",
      "{key: G}",
      "{tempo: 72}",
      "{time: 3/4}",
      "# a comment nobody sees",
      "{start_of_verse: Verse 1}",
      "A[G]mazing [G7]grace, how [C]sweet the [G]sound",
      "{end_of_verse}",
      "{soc: Chorus @17}",
      "[D]That saved a [G]wretch like me",
      "{eoc}",
      "{capo: 2}",
    ].join("\r\n");
    const [changed] = await change([lead, bass], "import_chart", { sessionId, text });
    assert.equal(changed.change.kind, "import");
    assert.equal(changed.setlist.length, 1);
    const song = changed.setlist[0];
    assert.equal(song.id, changed.change.songId);
    assert.equal(song.title, "Amazing Grace");
    assert.equal(song.key, "G");
    assert.equal(song.tempo, 72);
    assert.equal(song.beatsPerBar, 3);
    assert.equal(
      song.chart,
      "[Verse 1]\nA[G]mazing [G7]grace, how [C]sweet the [G]sound\n[Chorus] @17\n[D]That saved a [G]wretch like me",
    );
    assert.deepEqual(song.sections, [
      { name: "Verse 1", line: 0 },
      { name: "Chorus", line: 2, bar: 17 },
    ]);
    assert.equal(changed.change.warnings.length, 1);
    assert.match(changed.change.warnings[0], /line 12: \{capo\} is not understood/);

    // Select it and cue its chorus: every device gets the bar.
    await change([lead, bass], "select_song", { sessionId, songId: song.id });
    const m = bass.mark();
    lead.emit("cue", { sessionId, section: "Chorus", text: "repeat chorus" });
    const cue = (await bass.waitFor("cue", { after: m })).payload;
    assert.deepEqual({ ...cue, timestamp: 0 }, {
      sessionId,
      text: "repeat chorus",
      section: "Chorus",
      bar: 17,
      from: lead.id,
      timestamp: 0,
    });
    assertEpochNear(cue.timestamp, "cue.timestamp");

    // Bounds: over 64 KiB of text is INVALID_PAYLOAD.
    const ml = lead.mark();
    lead.emit("import_chart", { sessionId, text: "x".repeat(65537) });
    const err = (await lead.waitFor("error", { after: ml })).payload;
    assert.equal(err.code, "INVALID_PAYLOAD");
  });
});
