// The band page (served at / to browsers, see docs/EVENTS.md "HTTP"): a view
// of one session built on bandsync-client — every protocol detail (clock sync,
// timeline, re-joins, seats) is the library's; this file only draws it and
// turns buttons into library calls. No inline script or style anywhere, so
// the page passes its CSP (script-src 'self', style-src 'self').
//
// Why one file of ~700 lines: the page's only script, served as it is (no
// bundler) and loaded as one module under the CSP above; view code only (no
// protocol), in marked sections (state, connection, events, drawing, the
// display, audible click, wake lock, controls); tested end to end in headless
// Chromium (integration.bandsync_page).
import { io } from "/app/socket.io.esm.min.js";
import { createBandSync } from "/bandsync-client.js";

const $ = (id) => document.getElementById(id);

// Remembered on this device: the last session and name (localStorage). The
// seat id (clientId) is per tab (sessionStorage): two tabs of one browser are
// two band members, and a reload keeps the seat.
const prefs = safeStorage(() => window.localStorage);
const tabStore = safeStorage(() => window.sessionStorage);
const PREF_SESSION = "bandsync.page.session";
const PREF_NAME = "bandsync.page.name";

// Beats are delivered this long before they sound, so that the click can be
// scheduled on the audio clock ahead of time.
const AUDIO_LOOKAHEAD_MS = 120;
// Without section bars in the chart, the chart advances a line every this many bars.
const BARS_PER_LINE = 2;
const ERROR_SHOW_MS = 8000;
// A member's seat held, back or released is said under the member list this long.
const NEWS_SHOW_MS = 15000;

const band = createBandSync({
  io,
  storage: tabStore,
  lookaheadMs: AUDIO_LOOKAHEAD_MS,
});

const ui = {
  status: $("status"),
  join: $("join"),
  session: $("session"),
  name: $("name"),
  stage: $("stage"),
  sessionTitle: $("session-title"),
  role: $("role"),
  error: $("error"),
  display: $("display"),
  bar: $("bar"),
  beat: $("beat"),
  position: $("position"),
  posCaption: $("pos-caption"),
  metronome: $("metronome"),
  state: $("state"),
  tempoShow: $("tempo-show"),
  sigShow: $("sig-show"),
  link: $("link"),
  click: $("click"),
  lead: $("lead"),
  leadHint: $("lead-hint"),
  takeLead: $("take-lead"),
  countIn: $("countin"),
  tempo: $("tempo"),
  signature: $("signature"),
  seek: $("seek"),
  message: $("message"),
  chart: $("chart"),
  members: $("members"),
  memberCount: $("member-count"),
  memberNews: $("member-news"),
};

// ---- session state kept for drawing (the library keeps the timeline) ----

const view = {
  joined: false,
  sessionId: null,
  message: "",
  tempo: 120,
  beatsPerBar: 4,
  setlist: [],
  currentSongId: null,
  chartText: null,
  chartLine: -1,
  wasAway: false, // a reconnect is in progress
  shownRole: null, // my role as last drawn
  shownJoinedAt: null, // my seat's joinedAt as last drawn
  myRole: null, // my role before the drop, to tell "seat kept"
  myJoinedAt: null, // my seat's joinedAt before the drop: a new one is a new seat
};

function safeStorage(get) {
  try {
    const s = get();
    const probe = "bandsync.page.probe";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    // Private mode or storage off: remember nothing rather than fail.
    const m = new Map();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
  }
}

function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.className = `status ${kind}`;
}

let errorTimer = null;
function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => {
    ui.error.hidden = true;
  }, ERROR_SHOW_MS);
}

// ---- connection ---------------------------------------------------------

band.on("connection", (c) => {
  switch (c.status) {
    case "connecting":
      setStatus("Connecting…", "warn");
      break;
    case "connected":
      if (view.wasAway && view.joined) setStatus("Back — rejoining…", "warn");
      else setStatus("Connected", "ok");
      break;
    case "recovered":
      view.wasAway = false;
      setStatus("Back — seat kept", "ok");
      break;
    case "reconnecting":
      // band.id is gone once disconnected: the role drawn last is the one held.
      if (!view.wasAway) {
        view.myRole = view.joined ? view.shownRole : null;
        view.myJoinedAt = view.joined ? view.shownJoinedAt : null;
      }
      view.wasAway = true;
      setStatus(c.attempt ? `Reconnecting… (try ${c.attempt})` : "Reconnecting…", "bad");
      break;
    case "disconnected":
      setStatus("Offline", "bad");
      break;
  }
});

band.on("error", (e) => showError(`${e.message ?? "Refused"}${e.code ? ` (${e.code})` : ""}`));

// ---- session events → view ------------------------------------------------

band.on("snapshot", (s) => {
  if (!view.joined || s.sessionId !== view.sessionId) return;
  view.message = s.message ?? "";
  view.tempo = s.tempoBpm ?? s.tempo ?? view.tempo;
  if (s.beatsPerBar) view.beatsPerBar = s.beatsPerBar;
  if (s.setlist) view.setlist = s.setlist;
  if (s.currentSongId !== undefined) view.currentSongId = s.currentSongId;
  if (view.wasAway) {
    view.wasAway = false;
    const role = amLeader() ? "leader" : "follower";
    // Kept: the same seat (its joinedAt; a seat released while away comes
    // back as a new one) with the same role.
    const me = myMember();
    const kept =
      me !== null &&
      (view.myRole === null || role === view.myRole) &&
      (view.myJoinedAt === null || me.joinedAt === view.myJoinedAt);
    setStatus(kept ? "Back — seat kept" : `Back — rejoined as ${role}`, "ok");
  }
  drawSession();
});

// The member list is the library's (band.members: joins, departures, seats
// held while a device's link is lost, reclaimed seats, the lead, links);
// snapshots are drawn by the handler above.
band.on("members", ({ change }) => {
  if (!view.joined) return;
  if (change.kind === "snapshot") return;
  sayMemberNews(change);
  if (change.kind === "link") drawMembers();
  else drawSession();
});

band.on("setlist", (p) => {
  view.setlist = p.setlist ?? [];
  view.currentSongId = p.currentSongId ?? null;
  drawSession();
});

band.on("play", (p) => {
  if (p.beatsPerBar) view.beatsPerBar = p.beatsPerBar;
  view.tempo = p.tempoBpm ?? view.tempo;
});

band.on("clock", () => drawLink());

band.on("link", () => {
  if (view.joined) drawMembers();
});

function myMember() {
  return band.member();
}

function amLeader() {
  return !!band.id && band.leaderSocketId === band.id;
}

const nameOf = (m) => m?.displayName || "A member";

// Said under the member list (a polite live region): whose link was lost,
// who is back, whose held seat was released. This device's own drop is the
// status line's ("Reconnecting…", "Back — seat kept").
let newsTimer = null;
function sayMemberNews(change) {
  if (change.socketId !== undefined && change.socketId === band.id) return;
  let text = null;
  let kind = "";
  if (change.kind === "held") {
    text = `${nameOf(change.member)}: link lost — seat held`;
    kind = "held";
  } else if (change.kind === "back") {
    text = `${nameOf(change.member)} is back`;
    kind = "back";
  } else if (change.kind === "replaced" && change.wasHeld) {
    text = `${nameOf(change.member)} is back`;
    kind = "back";
  } else if (change.kind === "left" && change.wasHeld) {
    text = `${nameOf(change.member)} did not come back — seat released`;
    kind = "released";
  }
  if (text === null) return;
  ui.memberNews.textContent = text;
  ui.memberNews.dataset.kind = kind;
  ui.memberNews.className = `news ${kind}`;
  ui.memberNews.hidden = false;
  clearTimeout(newsTimer);
  newsTimer = setTimeout(() => {
    ui.memberNews.hidden = true;
  }, NEWS_SHOW_MS);
}

// "1:45": what is left of a held seat's time (heldUntil is server time).
function heldLeft(m) {
  if (!Number.isFinite(m.heldUntil)) return "";
  const s = Math.max(0, Math.ceil((m.heldUntil - band.serverNow()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// ---- drawing the session --------------------------------------------------

function drawSession() {
  const leader = amLeader();
  view.shownRole = leader ? "leader" : "follower";
  view.shownJoinedAt = myMember()?.joinedAt ?? null;
  ui.role.textContent = leader ? "leader" : "follower";
  ui.role.className = leader ? "badge leader" : "badge";
  ui.lead.classList.toggle("follower", !leader);
  ui.leadHint.hidden = leader;
  ui.takeLead.hidden = leader;
  ui.tempoShow.textContent = String(Math.round(view.tempo));
  ui.sigShow.textContent = String(view.beatsPerBar);
  // Fields a leader is editing are left alone.
  if (document.activeElement !== ui.tempo) ui.tempo.value = String(Math.round(view.tempo));
  if (document.activeElement !== ui.signature) ui.signature.value = String(view.beatsPerBar);
  if (document.activeElement !== ui.message) ui.message.value = view.message;
  drawMembers();
  drawChart();
  drawLink();
}

function drawMembers() {
  const list = [...band.members].sort((a, b) => (a.joinedAt ?? 0) - (b.joinedAt ?? 0));
  const held = list.filter((m) => m.connected === false).length;
  ui.memberCount.textContent = held ? `(${list.length}, ${held} held)` : `(${list.length})`;
  const leaderId = band.leaderSocketId;
  ui.members.replaceChildren(
    ...list.map((m) => {
      const li = document.createElement("li");
      const connected = m.connected !== false;
      li.className = connected ? "" : "held";
      li.dataset.socketId = m.socketId;
      li.dataset.connected = String(connected);
      const dot = document.createElement("span");
      dot.className = connected ? "dot" : "dot off";
      dot.setAttribute("role", "img");
      dot.setAttribute("aria-label", connected ? "connected" : "link lost, seat held");
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = `${m.displayName || "Member"}${m.socketId === band.id ? " (you)" : ""}`;
      const role = document.createElement("span");
      role.className = m.socketId === leaderId ? "badge leader" : "badge";
      role.textContent = m.socketId === leaderId ? "leader" : "follower";
      li.append(dot, who, role, linkBadge(m, connected));
      return li;
    }),
  );
}

// Link quality of each device: what it measured of its own round trip to the
// server in its last clock-sync burst (link_report; EVENTS.md "Link quality"),
// graded for the stage. A report older than LINK_STALE_MS (three missed
// bursts) is shown as stale. A server without link reports (members without
// `link`) gets the old "seen n s ago", and this device its own clock RTT.
const LINK_STALE_MS = 45_000;
// A round trip beyond ~60 ms is a click audibly late on a naive device; the
// jitter is what the clock estimate has to filter out (it keeps the lowest
// round trips, so a little is harmless, a lot means few good samples).
const LINK_GOOD = { rttMs: 60, jitterMs: 20 };
const LINK_FAIR = { rttMs: 150, jitterMs: 50 };

/** "good" | "fair" | "poor" for a round trip and its jitter (ms). */
function linkGrade(rttMs, jitterMs) {
  const j = jitterMs ?? 0;
  if (rttMs <= LINK_GOOD.rttMs && j <= LINK_GOOD.jitterMs) return "good";
  if (rttMs <= LINK_FAIR.rttMs && j <= LINK_FAIR.jitterMs) return "fair";
  return "poor";
}

function linkBadge(m, connected) {
  const el = document.createElement("span");
  el.className = "link";
  el.setAttribute("role", "img");
  const say = (text, label, grade) => {
    el.textContent = text;
    el.setAttribute("aria-label", label);
    if (grade) el.classList.add(grade);
    el.dataset.link = grade ?? "none";
    return el;
  };
  const name = m.displayName || "Member";
  if (!connected) {
    // Held by the server (EVENTS.md "Seats") until heldUntil at the latest.
    const left = heldLeft(m);
    const until = left ? ` · ${left}` : "";
    const label = left ? `, kept for ${left} more` : "";
    el.dataset.held = "true";
    return say(`link lost — seat held${until}`, `${name}: link lost, seat held${label}`, "away");
  }
  const mine = m.socketId === band.id;
  const link = m.link ?? (mine && band.link ? band.link : null);
  if (link && Number.isFinite(link.rttMs)) {
    const age = Number.isFinite(link.at) ? band.serverNow() - link.at : 0;
    const ms = `${Math.round(link.rttMs)} ms`;
    const hasJitter = Number.isFinite(link.jitterMs);
    const jitter = hasJitter ? `, jitter ${Math.round(link.jitterMs)} ms` : "";
    const pm = hasJitter ? ` ±${Math.round(link.jitterMs)}` : "";
    if (age > LINK_STALE_MS) {
      const s = Math.round(age / 1000);
      return say(`stale ${ms}`, `${name}: link report ${s} s old, was ${ms} round trip${jitter}`, "stale");
    }
    const grade = linkGrade(link.rttMs, link.jitterMs);
    return say(`${grade} ${ms}${pm}`, `${name}: link ${grade}, ${ms} round trip${jitter}`, grade);
  }
  if (mine) {
    const c = band.clockInfo();
    return c.synced
      ? say(`RTT ${c.rtt.toFixed(1)} ms`, `${name}: ${c.rtt.toFixed(1)} ms round trip`)
      : say("syncing", `${name}: measuring the link`);
  }
  if (m.link === null) return say("no report yet", `${name}: no link report yet`);
  if (typeof m.lastPingAt === "number" && m.lastPingAt > 0) {
    const ago = Math.max(0, Math.round((band.serverNow() - m.lastPingAt) / 1000));
    const text = ago <= 30 ? `seen ${ago} s ago` : `quiet ${ago} s`;
    return say(text, `${name}: ${text}`);
  }
  return say("connected", `${name}: connected`);
}

function drawLink() {
  const c = band.clockInfo();
  ui.link.textContent = c.synced ? `RTT ${c.rtt.toFixed(1)} ms` : "syncing clock";
}

// The chart: the current song's chart when the session has a setlist, else
// the session message. Sections with a bar scroll the chart by bar; without
// them, a line every BARS_PER_LINE bars.
function chartSource() {
  const song = view.setlist.find((s) => s.id === view.currentSongId);
  if (song?.chart) return { text: song.chart, sections: song.sections ?? [] };
  return { text: view.message, sections: [] };
}

function drawChart() {
  const { text } = chartSource();
  if (text === view.chartText) return;
  view.chartText = text;
  view.chartLine = -1;
  if (!text) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No chart yet: the leader's message or the song's chart shows here.";
    ui.chart.replaceChildren(p);
    return;
  }
  ui.chart.replaceChildren(
    ...text.split("\n").map((line) => {
      const div = document.createElement("div");
      div.className = "line";
      div.textContent = line || "\u00a0";
      return div;
    }),
  );
}

function chartLineAt(bar) {
  const { sections } = chartSource();
  const lines = ui.chart.children.length;
  if (lines === 0 || bar === null) return -1;
  const timed = sections.filter((s) => typeof s.bar === "number").sort((a, b) => a.bar - b.bar);
  if (timed.length > 0) {
    let line = -1;
    for (const s of timed) if (s.bar <= bar) line = s.line;
    return Math.min(line, lines - 1);
  }
  return Math.min(Math.floor(Math.max(0, bar) / BARS_PER_LINE), lines - 1);
}

function scrollChart(bar, playing) {
  const line = playing ? chartLineAt(bar) : -1;
  if (line === view.chartLine) return;
  ui.chart.children[view.chartLine]?.classList.remove("current");
  view.chartLine = line;
  const el = ui.chart.children[line];
  if (!el) return;
  el.classList.add("current");
  ui.chart.scrollTop = Math.max(0, el.offsetTop - ui.chart.offsetTop - ui.chart.clientHeight / 3);
}

// ---- the display, every frame ----------------------------------------------

function formatPosition(ms) {
  const total = Math.max(0, ms);
  const m = Math.floor(total / 60000);
  const s = Math.floor((total % 60000) / 1000);
  const milli = Math.floor(total % 1000);
  return `${m}:${String(s).padStart(2, "0")}.${String(milli).padStart(3, "0")}`;
}

let lastText = { bar: "", beat: "", position: "", state: "" };
function setText(key, el, text) {
  if (lastText[key] === text) return;
  lastText[key] = text;
  el.textContent = text;
}

function frame() {
  requestAnimationFrame(frame);
  if (!view.joined) return;
  const t = band.serverNow();
  const position = band.positionAt(t) ?? 0;
  const beat = band.beatAt(t);
  const playing = band.playingAt(t);
  const startsAt = band.startsAt;
  const bpb = view.beatsPerBar;
  // What is on screen, and for which server instant (read by the browser tests).
  ui.display.dataset.serverTime = String(t);
  ui.display.dataset.positionMs = String(position);
  setText("position", ui.position, formatPosition(position));
  let flash = false;
  let down = false;
  const countIn = startsAt !== null && beat !== null && beat < 0;
  if (beat !== null) {
    const whole = Math.floor(beat);
    const inBar = ((whole % bpb) + bpb) % bpb;
    setText("bar", ui.bar, countIn ? "–" : String(Math.floor(whole / bpb) + 1));
    setText("beat", ui.beat, String(inBar + 1));
    flash = (playing || countIn) && beat - whole < 0.2;
    down = inBar === 0;
  }
  ui.posCaption.textContent = countIn ? "Count-in" : "Position";
  setText("state", ui.state, countIn ? "Count-in" : playing ? "Playing" : startsAt !== null ? "Starting" : position > 0 ? "Paused" : "Stopped");
  ui.metronome.classList.toggle("on", flash);
  ui.metronome.classList.toggle("downbeat", flash && down);
  ui.metronome.classList.toggle("countin", flash && countIn);
  scrollChart(beat === null ? null : Math.floor(beat / bpb), playing);
  keepAwake(playing || startsAt !== null);
}
requestAnimationFrame(frame);

// ---- audible click: Web Audio on the synced clock -----------------------------

let audio = null;
// How many clicks were scheduled, and how far ahead of the audio clock the
// last one was (seconds): shown to the browser tests through window.bandsyncPage.
const clicks = { scheduled: 0, lastLead: null };

function audioTimeOf(localTime) {
  // getOutputTimestamp pairs the context time being heard now with the
  // performance clock, so output latency is accounted for; before the first
  // output it is zero and currentTime minus the output latency stands in.
  const ts = audio.getOutputTimestamp ? audio.getOutputTimestamp() : null;
  const perfTarget = localTime - performance.timeOrigin;
  if (ts && ts.performanceTime > 0) return ts.contextTime + (perfTarget - ts.performanceTime) / 1000;
  const latency = (audio.outputLatency || 0) + (audio.baseLatency || 0);
  return audio.currentTime + (perfTarget - performance.now()) / 1000 - latency;
}

band.onBeat((b) => {
  if (!audio || !ui.click.checked || audio.state !== "running") return;
  const when = audioTimeOf(b.localTime);
  // A beat that can no longer sound on time is skipped, not played late.
  if (when < audio.currentTime) return;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = b.countIn ? 660 : b.beatInBar === 0 ? 1760 : 1100;
  gain.gain.setValueAtTime(0.0001, when);
  gain.gain.exponentialRampToValueAtTime(0.6, when + 0.002);
  gain.gain.exponentialRampToValueAtTime(0.0001, when + 0.05);
  osc.connect(gain).connect(audio.destination);
  osc.start(when);
  osc.stop(when + 0.06);
  clicks.scheduled++;
  clicks.lastLead = when - audio.currentTime;
});

ui.click.addEventListener("change", () => {
  if (!ui.click.checked) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) {
    showError("This browser has no Web Audio: no click.");
    ui.click.checked = false;
    return;
  }
  // Created on the user's gesture, as browsers require for sound.
  audio ??= new Ctx({ latencyHint: "interactive" });
  audio.resume().catch(() => {});
});

// ---- screen kept on while playing (Wake Lock, where the browser has it) -----

let wakeLock = null;
let wantAwake = false;
function keepAwake(on) {
  if (on === wantAwake) return;
  wantAwake = on;
  applyWakeLock();
}
function applyWakeLock() {
  if (!("wakeLock" in navigator)) return;
  if (wantAwake && !wakeLock && document.visibilityState === "visible") {
    wakeLock = "pending";
    navigator.wakeLock
      .request("screen")
      .then((lock) => {
        wakeLock = lock;
        lock.addEventListener("release", () => {
          if (wakeLock === lock) wakeLock = null;
        });
        if (!wantAwake) lock.release().catch(() => {});
      })
      .catch(() => {
        wakeLock = null; // refused (battery saver, insecure origin): the page still works
      });
  } else if (!wantAwake && wakeLock && wakeLock !== "pending") {
    wakeLock.release().catch(() => {});
    wakeLock = null;
  }
}
// The browser drops the lock when the page is hidden; take it again on return.
document.addEventListener("visibilitychange", applyWakeLock);

// ---- controls -------------------------------------------------------------------

ui.session.value = prefs.getItem(PREF_SESSION) ?? "";
ui.name.value = prefs.getItem(PREF_NAME) ?? "";

ui.join.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const sessionId = ui.session.value.trim();
  const displayName = ui.name.value.trim();
  if (!sessionId) return;
  prefs.setItem(PREF_SESSION, sessionId);
  prefs.setItem(PREF_NAME, displayName);
  $("join-button").disabled = true;
  view.joined = true;
  view.sessionId = sessionId;
  view.chartText = null;
  try {
    await band.join(sessionId, displayName ? { displayName } : {});
    ui.sessionTitle.textContent = sessionId;
    ui.join.hidden = true;
    ui.stage.hidden = false;
    document.title = `${sessionId} · BandSync`;
  } catch (err) {
    view.joined = false;
    showErrorOnJoin(err);
  } finally {
    $("join-button").disabled = false;
  }
});

function showErrorOnJoin(err) {
  let p = ui.join.querySelector(".error");
  if (!p) {
    p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    ui.join.append(p);
  }
  p.textContent = `Could not join: ${err.message}${err.code ? ` (${err.code})` : ""}`;
}

$("leave").addEventListener("click", () => {
  band.leave();
  view.joined = false;
  ui.memberNews.hidden = true;
  ui.stage.hidden = true;
  ui.join.hidden = false;
  document.title = "BandSync";
  ui.session.focus();
});

$("play").addEventListener("click", () => {
  const bars = Number(ui.countIn.value);
  band.play(bars > 0 ? { countIn: bars } : {});
});
$("pause").addEventListener("click", () => band.pause());
$("stop").addEventListener("click", () => band.stop());
ui.takeLead.addEventListener("click", () => band.takeLead());

function sendTempo() {
  const bpm = Number(ui.tempo.value);
  if (!Number.isFinite(bpm) || bpm < 20 || bpm > 300) {
    showError("Tempo: 20 to 300 BPM.");
    return;
  }
  band.setTempo(bpm);
}
$("set-tempo").addEventListener("click", sendTempo);
ui.tempo.addEventListener("keydown", (e) => {
  if (e.key === "Enter") sendTempo();
});

// Tap tempo: the mean interval of the last taps (a pause of 2 s starts over);
// the tempo field shows it, Set sends it.
let taps = [];
$("tap").addEventListener("click", () => {
  const now = performance.now();
  if (taps.length && now - taps[taps.length - 1] > 2000) taps = [];
  taps.push(now);
  taps = taps.slice(-6);
  if (taps.length < 2) return;
  const mean = (taps[taps.length - 1] - taps[0]) / (taps.length - 1);
  const bpm = Math.round(Math.min(300, Math.max(20, 60000 / mean)));
  ui.tempo.value = String(bpm);
});

ui.signature.addEventListener("change", () => band.setTimeSignature(Number(ui.signature.value)));

function sendSeek() {
  const s = Number(ui.seek.value);
  if (!Number.isFinite(s) || s < 0 || s > 86400) {
    showError("Seek: 0 to 86400 s.");
    return;
  }
  band.seek(Math.round(s * 1000));
}
$("seek-go").addEventListener("click", sendSeek);
ui.seek.addEventListener("keydown", (e) => {
  if (e.key === "Enter") sendSeek();
});

$("set-message").addEventListener("click", () => band.setMessage(ui.message.value));

// Keyboard on the stage: Space plays/pauses for the leader (not while typing).
document.addEventListener("keydown", (e) => {
  if (e.key !== " " || !view.joined || !amLeader()) return;
  const tag = document.activeElement?.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "BUTTON") return;
  e.preventDefault();
  band.playingAt() || band.startsAt !== null ? band.pause() : $("play").click();
});

// Refresh "seen n s ago", the links' staleness and the RTT every 5 s, and a
// held seat's time left every second.
let refreshes = 0;
setInterval(() => {
  if (!view.joined) return;
  refreshes++;
  if (refreshes % 5 === 0 || band.members.some((m) => m.connected === false)) drawMembers();
}, 1000);

// For the browser tests and the curious: the page's library instance.
window.bandsync = band;
window.bandsyncPage = { clicks, audioState: () => audio?.state ?? null };
