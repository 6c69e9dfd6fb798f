// bandsync-client: a band device's view of a BandSync session, for browsers
// and Node. One ES module with no imports: the caller passes socket.io-client's
// `io` (in Node, `client/node.js` does it; in a browser, import it from the
// bundle BandSync serves, `/socket.io/socket.io.esm.min.js`), so the same file
// is served at `/bandsync-client.js` and imported by Node.
//
//   import { io } from "/socket.io/socket.io.esm.min.js";
//   import { createBandSync } from "/bandsync-client.js";
//   const band = createBandSync({ io, url: location.origin, storage: localStorage });
//   await band.join("my-band", { displayName: "Keys" });
//   band.onBeat(({ beat, bar, beatInBar }) => flash(beatInBar === 0));
//
// What it does: joins with a stable clientId and re-joins after reconnects;
// estimates the server clock (time_sync, NTP's four timestamps, or
// latency_probe on servers without it); keeps the session's timeline from
// snapshots, ticks and play/pause/seek so that positionAt(t) and beatAt(t) are
// exact for any server time t; schedules callbacks on beats and at instants.
// The wire contract is EVENTS.md plus SPEC-next (time_sync, startsAt, beat).
//
// Why one file of ~1,400 lines: it is served as it is (no bundler, no
// imports, see above), so its parts are sections of this module, each with
// its own node:test suite (tests/unit/client: client.clock_estimator,
// client.timeline, client.members, client.link) besides client_lib's runs on
// the real socket.io-client: the clock estimator, the timeline, the client
// id and link figures, then BandSyncClient (the socket, re-joins, members,
// beat scheduling).

/**
 * @typedef {{ getItem(key: string): string | null, setItem(key: string, value: string): void }} StorageLike
 * @typedef {{ t1: number, t2: number, t3: number, t4: number }} SyncSample
 *   t1 client send, t2 server receive, t3 server send, t4 client receive (ms)
 * @typedef {{ socketId: string, displayName: string, role: "leader"|"follower",
 *             joinedAt: number, lastPingAt?: number, connected?: boolean,
 *             heldUntil?: number|null, link?: MemberLink|null }} Member
 *   connected false while its link is lost and its seat held, until heldUntil
 *   (server time) at the latest
 * @typedef {{ kind: "snapshot"|"joined"|"left"|"replaced"|"role"|"link"|"held"|"back",
 *             socketId?: string, previousSocketId?: string, member?: Member,
 *             wasHeld?: boolean }} MembersChange
 *   what changed the member list: "held"/"back" a seat's link lost/back
 *   (member_status), "left" with wasHeld when a held seat was released,
 *   "replaced" with wasHeld when a held seat was taken back by a new connection
 * @typedef {{ rttMs: number, jitterMs: number|null, at: number }} MemberLink
 *   a member's last link_report as the server keeps it (at = server time received)
 * @typedef {{ rttMs: number, jitterMs: number, samples: number, at: number }} LinkInfo
 *   this device's link, from its last sync burst (at = server time measured)
 * @typedef {{ sessionId: string, message: string, tempo: number, tempoBpm: number,
 *             position: number, isPlaying: boolean, leaderSocketId: string|null,
 *             members: Member[], serverTimestamp: number, startsAt?: number|null,
 *             beatsPerBar?: number, beat?: number, bar?: number, effectiveAt?: number,
 *             setlist?: object[], currentSongId?: string|null }} Snapshot
 * @typedef {{ sessionId: string, positionMs: number, tempoBpm: number,
 *             serverTimestamp: number, beat?: number, bar?: number }} Tick
 * @typedef {{ sessionId: string, tempoBpm: number, position: number, serverTimestamp: number,
 *             startsAt?: number, countInBars?: number, beatsPerBar?: number,
 *             beat?: number, bar?: number }} PlayEvent
 * @typedef {{ sessionId: string, position: number, serverTimestamp: number,
 *             effectiveAt?: number, beat?: number, bar?: number }} PositionEvent
 * @typedef {{ message: string, code: string, event?: string }} ServerError
 * @typedef {{ status: "connecting"|"connected"|"recovered"|"reconnecting"|"disconnected",
 *             attempt?: number, reason?: string }} ConnectionStatus
 * @typedef {{ beat: number, bar: number, beatInBar: number, beatsPerBar: number,
 *             serverTime: number, localTime: number, countIn: boolean }} BeatInfo
 * @typedef {{ mode: "time_sync"|"latency_probe"|null, offset: number, drift: number,
 *             rtt: number, samples: number, synced: boolean, settled: boolean }} ClockInfo
 */

// ---------------------------------------------------------------------------
// Clock estimation (pure: no timers, no sockets; unit-tested on its own)

/** Offset (server − client) and round trip of one four-timestamp exchange. */
export function sampleOf({ t1, t2, t3, t4 }) {
  return {
    at: (t1 + t4) / 2, // client time the offset applies to
    offset: (t2 - t1 + (t3 - t4)) / 2,
    rtt: t4 - t1 - (t3 - t2),
  };
}

// Student's t, two-sided 95 % (the 0.975 quantile), by degrees of freedom:
// with 3 or 4 bursts a slope's standard error is itself a rough estimate.
const T975 = [NaN, 12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23];
function studentT975(dof) {
  return dof < T975.length ? T975[dof] : 1.96 + 2.5 / dof;
}

/** At most this many exchanges are held for one burst; more are dropped until endBurst(). */
export const MAX_BURST_SAMPLES = 512;

/**
 * Server clock estimate from bursts of exchanges.
 *
 * One exchange bounds the offset θ (server − client) from both sides, since
 * neither one-way delay can be negative: t3 − t4 ≤ θ ≤ t2 − t1. Queueing,
 * jitter and late time stamps (an event loop that reads t4 late, a server
 * that reads t2 late) only ever widen that interval, never move it past θ.
 * So a burst's estimate is the middle of the intersection of its samples'
 * intervals: [max(t3 − t4), min(t2 − t1)], i.e. the fastest upstream trip and
 * the fastest downstream trip, each taken from whichever exchange had it.
 * Its error is half the difference of those two trips' excess over the
 * path's floor, far less than the best single exchange's asymmetry (NTP's
 * min-RTT filter, which needs one exchange fast both ways; it remains the
 * fallback when the intervals do not intersect, e.g. a clock step inside a
 * burst). The bursts of the window are then fitted with a line
 * offset(t) = a + b·t, weighted by 1 / (half the intersection's width)²;
 * the slope is the drift between the two oscillators, used once the window
 * spans `minFitSpanMs` and holds 3 bursts, and only when it is significant
 * (Student's t at 95 %); until then the estimate is the
 * weighted mean. Finally the window's intervals, moved along that line,
 * are intersected too.
 */
export class ClockEstimator {
  /**
   * @param {{ keepPerBurst?: number, windowBursts?: number, windowMs?: number,
   *           minFitSpanMs?: number, maxDriftPpm?: number, floorMs?: number,
   *           intersectWindow?: boolean, driftSignificance?: number }} [opts]
   */
  constructor(opts = {}) {
    // Lowest-RTT samples kept per burst besides the two that bound it (for
    // the fallback and the reported round trip).
    this.keepPerBurst = opts.keepPerBurst ?? 1;
    this.windowBursts = opts.windowBursts ?? 12;
    this.windowMs = opts.windowMs ?? 300_000;
    this.minFitSpanMs = opts.minFitSpanMs ?? 10_000;
    this.maxDrift = (opts.maxDriftPpm ?? 500) / 1e6;
    // A fitted drift is used when it exceeds this many times Student's t
    // (95 %) standard errors (refit()).
    this.driftSignificance = opts.driftSignificance ?? 1;
    // The error assumed for a burst whose interval closed to a point
    // (timer resolution, server time stamps).
    this.floorMs = opts.floorMs ?? 0.05;
    this.intersectWindow = opts.intersectWindow ?? true;
    this.reset();
  }

  reset() {
    /** @type {{at: number, offset: number, halfWidth: number, rtt: number, samples: object[]}[]} */
    this.bursts = [];
    this.pending = [];
    this.fit = null;
  }

  /**
   * Adds one exchange to the current burst. Non-finite or negative-RTT
   * samples, and samples past MAX_BURST_SAMPLES, are dropped.
   */
  add(sample) {
    const s = sampleOf(sample);
    if (!Number.isFinite(s.offset) || !Number.isFinite(s.rtt) || s.rtt < 0) return false;
    if (this.pending.length >= MAX_BURST_SAMPLES) return false;
    // The interval this exchange allows for the offset (see the class comment).
    s.lo = sample.t3 - sample.t4;
    s.hi = sample.t2 - sample.t1;
    this.pending.push(s);
    return true;
  }

  /** Closes the current burst: reduces it to its estimate and refits. */
  endBurst() {
    if (this.pending.length === 0) return;
    const all = this.pending;
    this.pending = [];
    const byRtt = [...all].sort((a, b) => a.rtt - b.rtt);
    const fastest = byRtt[0];
    let low = all[0];
    let high = all[0];
    for (const s of all) {
      if (s.lo > low.lo) low = s;
      if (s.hi < high.hi) high = s;
    }
    let burst;
    if (low.lo <= high.hi) {
      burst = {
        at: (low.at + high.at) / 2,
        offset: (low.lo + high.hi) / 2,
        halfWidth: (high.hi - low.lo) / 2,
      };
    } else {
      burst = { at: fastest.at, offset: fastest.offset, halfWidth: fastest.rtt / 2 };
    }
    burst.rtt = fastest.rtt;
    burst.low = { at: low.at, lo: low.lo };
    burst.high = { at: high.at, hi: high.hi };
    // The samples that made the estimate, bounded: kept for inspection.
    burst.samples = [...new Set([low, high, ...byRtt.slice(0, this.keepPerBurst)])];
    this.bursts.push(burst);
    const newest = burst.at;
    while (
      this.bursts.length > this.windowBursts ||
      (this.bursts.length > 1 && newest - this.bursts[0].at > this.windowMs)
    ) {
      this.bursts.shift();
    }
    this.refit();
  }

  refit() {
    const all = this.bursts;
    if (all.length === 0) {
      this.fit = null;
      return;
    }
    const w = all.map((b) => 1 / (b.halfWidth + this.floorMs) ** 2);
    const sw = w.reduce((a, b) => a + b, 0);
    const t0 = all.reduce((m, b, i) => m + w[i] * b.at, 0) / sw;
    const y0 = all.reduce((m, b, i) => m + w[i] * b.offset, 0) / sw;
    let sxx = 0;
    let sxy = 0;
    let tMin = Infinity;
    let tMax = -Infinity;
    all.forEach((b, i) => {
      sxx += w[i] * (b.at - t0) ** 2;
      sxy += w[i] * (b.at - t0) * (b.offset - y0);
      tMin = Math.min(tMin, b.at);
      tMax = Math.max(tMax, b.at);
    });
    // The slope counts only when it stands out of its own noise (Student's t
    // test at 95 %, the standard error estimated from the residuals, so at
    // least 3 bursts): with a few bursts 15 s apart, a free slope turns
    // their sub-ms errors into a drift that, extrapolated to now, is worse
    // than none; a longer window or a real drift passes the test.
    let drift = 0;
    if (tMax - tMin >= this.minFitSpanMs && sxx > 0 && all.length >= 3) {
      const slope = sxy / sxx;
      const rss = all.reduce((m, b, i) => m + w[i] * (b.offset - y0 - slope * (b.at - t0)) ** 2, 0);
      const stderr = Math.sqrt(rss / (all.length - 2) / sxx);
      if (Math.abs(slope) >= this.driftSignificance * studentT975(all.length - 2) * stderr) {
        drift = Math.max(-this.maxDrift, Math.min(this.maxDrift, slope));
      }
    }
    // The intervals of all the window's bursts, moved along the fitted line
    // to t0, intersect too: their middle uses the fastest trip of each
    // direction in the whole window. Kept only when they do intersect (an
    // off drift or a clock step would leave them disjoint).
    let offset0 = y0;
    if (this.intersectWindow) {
      let lo = -Infinity;
      let hi = Infinity;
      for (const b of all) {
        lo = Math.max(lo, b.low.lo - drift * (b.low.at - t0));
        hi = Math.min(hi, b.high.hi - drift * (b.high.at - t0));
      }
      if (lo <= hi) offset0 = (lo + hi) / 2;
    }
    const minRtt = Math.min(...all.map((b) => b.rtt));
    const samples = all.reduce((n, b) => n + b.samples.length, 0);
    this.fit = { t0, offset0, drift, rtt: minRtt, samples };
  }

  get synced() {
    return this.fit !== null;
  }

  /** Estimated server − client offset at client time `t` (0 before any sample). */
  offsetAt(t) {
    if (!this.fit) return 0;
    return this.fit.offset0 + this.fit.drift * (t - this.fit.t0);
  }

  /** Drift of the server clock against the client's, in ms per ms. */
  get drift() {
    return this.fit ? this.fit.drift : 0;
  }

  /** Lowest round trip in the window (ms), or NaN. */
  get rtt() {
    return this.fit ? this.fit.rtt : NaN;
  }
}

// ---------------------------------------------------------------------------
// The session timeline (pure)

/**
 * One stretch of the session's timeline: from server time `from`, the song is
 * at `position` and, while `playing`, runs in real time from
 * max(from, startsAt). `beat` is the musical position at `position`.
 */
function segment(fields) {
  return {
    from: fields.from,
    position: fields.position,
    playing: fields.playing,
    tempo: fields.tempo,
    startsAt: fields.startsAt ?? null,
    beat: fields.beat,
    beatsPerBar: fields.beatsPerBar,
    countInBars: fields.countInBars ?? 0,
  };
}

/**
 * How close after a time a beat counts as the beat at that time (ms). Server
 * times are epoch milliseconds, whose doubles resolve 2^-12 ms (0.24 µs), and
 * the server computes `beat` from a position in whole microseconds: a beat
 * computed from one report lands up to about 1 µs before or after the same
 * beat computed from the next. Without this slack, nextBeat(time of beat n)
 * could answer beat n again at a time that rounds to the cursor itself, and
 * the scheduler would step in place until a tick moved the grid (beats late
 * by a multiple of the tick period).
 */
const BEAT_SLACK_MS = 0.01;

/** The position (ms) segment `s` gives for server time t. */
function positionOn(s, t) {
  if (!s.playing) return s.position;
  // Runs from `from`, or from startsAt when that is later; never back
  // before startsAt, where the start position holds.
  const runFrom = Math.max(s.from, s.startsAt ?? -Infinity);
  const floor = s.startsAt === null ? -Infinity : s.startsAt - runFrom;
  return s.position + Math.max(t - runFrom, floor);
}

/** The musical position segment `s` gives for server time t. */
function beatOn(s, t) {
  return s.beat + ((positionOn(s, t) - s.position) * s.tempo) / 60000;
}

/**
 * The session's timeline as a short list of segments ordered by `from`:
 * the one in effect now and those scheduled later (a seek or tempo change
 * with `effectiveAt`). Bounded: at most `MAX_SEGMENTS` are kept.
 */
export class Timeline {
  constructor() {
    /** @type {ReturnType<typeof segment>[]} */
    this.segments = [];
  }

  static MAX_SEGMENTS = 8;

  /**
   * Applies a state report. `kind` "continue" (tick, sync reply) updates the
   * stretch in effect at `from` and keeps later scheduled ones; "replace"
   * (snapshot, play, pause, seek without a schedule) drops everything from
   * `from` on; "schedule" (an event with effectiveAt) keeps what precedes it.
   */
  apply(kind, fields) {
    const s = segment(fields);
    if (s.beat === undefined || s.beat === null || !Number.isFinite(s.beat)) {
      // Servers without a beat grid: beats counted from position 0 at the
      // current tempo, the same on every device.
      s.beat = (s.position * s.tempo) / 60000;
    }
    if (kind === "continue") {
      const later = this.segments.filter((x) => x.from > s.from);
      const earlier = this.segments.filter((x) => x.from < s.from);
      // A tick carries no schedule: it inherits startsAt from the stretch it continues.
      const prev = earlier[earlier.length - 1];
      if (s.startsAt === null && prev && prev.playing && prev.startsAt !== null && s.playing) {
        s.startsAt = prev.startsAt;
        s.countInBars = prev.countInBars;
      }
      this.segments = [s, ...later];
    } else if (kind === "schedule") {
      this.segments = [...this.segments.filter((x) => x.from < s.from), s];
    } else {
      this.segments = [s];
    }
    if (this.segments.length > Timeline.MAX_SEGMENTS) {
      this.segments = this.segments.slice(-Timeline.MAX_SEGMENTS);
    }
  }

  /** The segment in effect at server time t (the first one before any). */
  at(t) {
    let cur = this.segments[0];
    for (const s of this.segments) if (s.from <= t) cur = s;
    return cur;
  }

  /** The song position (ms) at server time t; null before any state. */
  positionAt(t) {
    const s = this.at(t);
    return s ? positionOn(s, t) : null;
  }

  /** The musical position (fractional beats since position 0) at server time t. */
  beatAt(t) {
    const s = this.at(t);
    return s ? beatOn(s, t) : null;
  }

  /**
   * The next beat after server time t: { time, beat, countIn }, or null when
   * nothing plays. Count-in beats are the `countInBars` bars of beats that
   * end at startsAt. The time returned is always more than BEAT_SLACK_MS
   * after t, so that a caller stepping from beat to beat always moves on.
   */
  nextBeat(t) {
    const s = this.at(t);
    if (!s || !s.playing || !(s.tempo > 0)) return null;
    const beatMs = 60000 / s.tempo;
    // A beat within BEAT_SLACK_MS after t is the beat at t (see BEAT_SLACK_MS).
    const after = t + BEAT_SLACK_MS;
    if (s.startsAt !== null && t < s.startsAt) {
      const runFrom = s.startsAt;
      // The beat at the start. Not always s.beat: when the cursor lags, the
      // stretch in effect may be a tick from after the start (which keeps
      // startsAt), whose beat is its own report's.
      // Within BEAT_SLACK_MS of a whole beat, it is that beat (+ 0: never -0).
      const exact = beatOn(s, runFrom);
      const whole = Math.round(exact);
      const b0 = (Math.abs(exact - whole) * beatMs < BEAT_SLACK_MS ? whole : exact) + 0;
      const countInBeats = s.countInBars * s.beatsPerBar;
      const first = runFrom - countInBeats * beatMs;
      if (countInBeats > 0 && after < runFrom) {
        if (after < first) return { time: first, beat: b0 - countInBeats, countIn: true };
        const k = Math.floor((after - first) / beatMs) + 1;
        if (k < countInBeats)
          return { time: first + k * beatMs, beat: b0 - countInBeats + k, countIn: true };
      }
      // The start itself, when it falls on a beat; else the first beat after it.
      const next0 = Number.isInteger(b0) ? b0 : Math.ceil(b0) + 0;
      const first0 = runFrom + (next0 - b0) * beatMs;
      if (first0 > after) return { time: first0, beat: next0, countIn: false };
    }
    const b = this.beatAt(after);
    const next = Math.floor(b) + 1;
    const time = after + (next - b) * beatMs;
    // A later segment starting before that beat may move the grid (a seek, a
    // tempo change): its start is returned instead, as a beat only when it
    // falls on one, and the caller asks again from there.
    // (Not s itself, which stands for the time before the first report.)
    const later = this.segments.find((x) => x.from > t && x !== s);
    if (later && later.from <= time) {
      const b1 = this.beatAt(later.from);
      const r = Math.round(b1);
      const onBeat = later.playing && Math.abs(b1 - r) < 1e-6;
      return { time: later.from, beat: onBeat ? r : null, countIn: false };
    }
    return { time, beat: next, countIn: false };
  }
}

// ---------------------------------------------------------------------------
// The client

const CLIENT_ID_KEY = "bandsync.clientId";
const CLIENT_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** 22 random characters of [A-Za-z0-9_-] (132 bits), valid as a SPEC-next clientId. */
export function newClientId() {
  const bytes = new Uint8Array(22);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let id = "";
  for (const b of bytes) id += CLIENT_ID_CHARS[b & 63];
  return id;
}

/** The clientId kept in `storage` under `key`, created there on first use. */
export function stableClientId(storage, key = CLIENT_ID_KEY) {
  try {
    const kept = storage?.getItem(key);
    if (kept && /^[A-Za-z0-9_-]{8,64}$/.test(kept)) return kept;
  } catch {
    // storage refused (private mode): an id for this page's lifetime
  }
  const id = newClientId();
  try {
    storage?.setItem(key, id);
  } catch {
    // as above
  }
  return id;
}

const localClock = () => globalThis.performance.timeOrigin + globalThis.performance.now();

// Server events → the names the library's callbacks use.
const EVENT_NAMES = {
  snapshot: "snapshot",
  scroll_tick: "tick",
  play: "play",
  pause: "pause",
  seek: "seek",
  sync_response: "sync",
  role_changed: "roleChanged",
  user_joined: "memberJoined",
  user_left: "memberLeft",
  member_replaced: "memberReplaced",
  member_link: "memberLink",
  member_status: "memberStatus",
  room_stats: "roomStats",
  setlist_changed: "setlist",
  cue: "cue",
  error: "error",
};

/**
 * The link a burst of exchanges shows: the median round trip (the typical
 * one, which a few delayed packets do not move) and the jitter as RFC 3550
 * reads it, the mean difference between consecutive round trips. Null
 * without samples. Pure; exported for tests.
 * @param {SyncSample[]} samples in the order they were taken
 */
export function linkOf(samples) {
  const rtts = samples.map((s) => sampleOf(s).rtt).filter((r) => Number.isFinite(r) && r >= 0);
  if (rtts.length === 0) return null;
  const sorted = [...rtts].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  let jitter = 0;
  for (let i = 1; i < rtts.length; i++) jitter += Math.abs(rtts[i] - rtts[i - 1]);
  if (rtts.length > 1) jitter /= rtts.length - 1;
  // The server accepts 0..60000 ms (EVENTS.md "Link quality").
  const bound = (x) => Math.min(60_000, Math.max(0, Math.round(x * 100) / 100));
  return { rttMs: bound(median), jitterMs: bound(jitter), samples: rtts.length };
}

// The server keeps at most one link_report per member per second.
const LINK_REPORT_GAP_MS = 1_100;

export class BandSyncClient {
  /**
   * @param {{ io: Function, url?: string, ioOptions?: object, storage?: StorageLike,
   *           clientId?: string, now?: () => number, syncBurst?: number, firstSyncBurst?: number,
   *           syncGapMs?: number, resyncMs?: number, settleBursts?: number, settleGapMs?: number,
   *           syncTimeoutMs?: number,
   *           lookaheadMs?: number, clockProtocol?: "auto"|"time_sync"|"latency_probe",
   *           serverDisconnectRetryMs?: number, clock?: object }} opts
   */
  constructor(opts) {
    if (typeof opts?.io !== "function") throw new TypeError("bandsync-client: opts.io (socket.io-client's io) is required");
    this.opts = {
      syncBurst: 16,
      firstSyncBurst: 32,
      syncGapMs: 25,
      resyncMs: 15_000,
      settleBursts: 2,
      settleGapMs: 2_000,
      syncTimeoutMs: 1_500,
      lookaheadMs: 0,
      clockProtocol: "auto",
      serverDisconnectRetryMs: 1_000,
      ...opts,
    };
    this.now = opts.now ?? localClock;
    this.clientId = opts.clientId ?? stableClientId(opts.storage);
    this.clock = new ClockEstimator(opts.clock);
    this.timeline = new Timeline();
    /** @type {"time_sync"|"latency_probe"|null} */
    this.clockMode = null;
    this.sessionId = null;
    this.joinOptions = {};
    /** @type {Snapshot|null} */
    this.snapshot = null;
    this.listeners = new Map();
    this.scheduled = new Set(); // { time, cb } one-shot callbacks (server time)
    this.beatListeners = new Set();
    this.beatCursor = null; // server time up to which beats were delivered
    this.lastBeat = null; // { beat, time } of the last beat delivered
    this.timer = null;
    this.syncTimer = null;
    this.syncing = null;
    this.settleLeft = 0; // settling bursts still to schedule (see burst())
    this.settleNext = false; // the next burst is one of them
    this.generation = 0; // bumps on every (re)connect, so stale bursts stop
    /** @type {LinkInfo|null} */
    this.link = null; // this device's link, from the last burst
    this.linkSentAt = null; // local time of the last link_report
    this.linkTimer = null;
    this.closed = false;
    const url = this.opts.url;
    const ioOpts = { transports: ["websocket"], ...(this.opts.ioOptions ?? {}) };
    this.socket = url === undefined ? this.opts.io(ioOpts) : this.opts.io(url, ioOpts);
    this.wire();
    this.status({ status: "connecting" });
  }

  // ---- events ------------------------------------------------------------

  /**
   * Registers a callback; returns a function that removes it.
   * Events: snapshot, tick, play, pause, seek, sync, roleChanged, memberJoined,
   * memberLeft, memberReplaced, memberLink, memberStatus, roomStats, setlist,
   * cue, error, connection, clock, link (this device's link after each sync
   * burst), members ({ members, leaderSocketId, change } after anything that
   * changed the member list, after the event that changed it).
   * @param {string} event
   * @param {(payload: any) => void} cb
   */
  on(event, cb) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(cb);
    return () => this.off(event, cb);
  }

  off(event, cb) {
    this.listeners.get(event)?.delete(cb);
  }

  emitLocal(event, payload) {
    for (const cb of [...(this.listeners.get(event) ?? [])]) {
      try {
        cb(payload);
      } catch (err) {
        // A throwing callback must not break the client's own bookkeeping.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  status(s) {
    this.connection = s;
    this.emitLocal("connection", s);
  }

  wire() {
    const sock = this.socket;
    sock.on("connect", () => {
      this.generation++;
      const recovered = sock.recovered === true;
      this.status({ status: recovered ? "recovered" : "connected" });
      // A new connection may reach a new server (a restart, another node):
      // the next burst decides whether the old estimate still holds, and
      // which clock protocol the server speaks.
      if (!recovered) {
        this.freshConnection = true;
        this.clockMode = null;
        if (this.sessionId) this.sendJoin();
      }
      this.syncClock().catch(() => {});
    });
    sock.on("disconnect", (reason) => {
      this.generation++;
      clearTimeout(this.syncTimer);
      // "io client disconnect" is our own close(); anything else reconnects.
      const manual = reason === "io client disconnect";
      this.status({ status: manual ? "disconnected" : "reconnecting", reason });
      // socket.io-client does not reconnect after a server-side disconnect
      // (a server shutting down says goodbye that way); a band device should.
      if (reason === "io server disconnect" && !this.closed) {
        this.reconnectTimer = setTimeout(() => {
          if (!this.closed && !sock.connected) sock.connect();
        }, this.opts.serverDisconnectRetryMs);
      }
    });
    sock.io.on("reconnect_attempt", (attempt) => this.status({ status: "reconnecting", attempt }));
    sock.on("connect_error", (err) => {
      if (!sock.active) this.status({ status: "disconnected", reason: String(err?.message ?? err) });
    });
    sock.on("heartbeat", (p) => sock.emit("heartbeat_response", { timestamp: p?.timestamp }));
    sock.on("latency_response", (p) => this.onLatencyResponse(p));
    sock.on("time_sync_response", (p) => this.onTimeSyncResponse(p));
    for (const [wire, name] of Object.entries(EVENT_NAMES)) {
      sock.on(wire, (payload) => {
        this.absorb(wire, payload);
        const change = this.absorbMembers(wire, payload);
        this.emitLocal(name, payload);
        if (change) {
          this.emitLocal("members", { members: this.members, leaderSocketId: this.leaderSocketId, change });
        }
      });
    }
  }

  // Folds a server event into the timeline.
  absorb(wire, p) {
    if (!p || typeof p !== "object") return;
    if (p.sessionId !== undefined && this.sessionId !== null && p.sessionId !== this.sessionId) return;
    const cur = this.timeline.at(p.serverTimestamp ?? p.serverTime ?? Infinity);
    const tempo = p.tempoBpm ?? p.tempo ?? cur?.tempo ?? 120;
    const beatsPerBar = p.beatsPerBar ?? this.snapshot?.beatsPerBar ?? cur?.beatsPerBar ?? 4;
    switch (wire) {
      case "snapshot":
        this.snapshot = p;
        // A server with link reports that has none from this device (a
        // fresh join, a re-join after a reconnect) gets the last one now
        // rather than after the next burst.
        if ((p.members ?? []).some((m) => m.socketId === this.socket.id && m.link === null)) {
          this.reportLink();
        }
        this.timeline.apply(p.effectiveAt !== undefined ? "schedule" : "replace", {
          from: p.effectiveAt ?? p.serverTimestamp,
          position: p.position,
          playing: p.isPlaying,
          tempo,
          startsAt: p.startsAt,
          beat: p.beat,
          beatsPerBar,
          countInBars: p.countInBars ?? cur?.countInBars,
        });
        break;
      case "scroll_tick":
        this.timeline.apply("continue", {
          from: p.serverTimestamp,
          position: p.positionMs,
          playing: true,
          tempo,
          beat: p.beat,
          beatsPerBar,
        });
        break;
      case "sync_response":
        this.timeline.apply("continue", {
          from: p.serverTime,
          position: p.positionMs,
          playing: p.isPlaying,
          tempo,
          beat: p.beat,
          beatsPerBar,
        });
        break;
      case "play":
        // `position` is the position at startsAt; before it, the song holds there.
        this.timeline.apply("replace", {
          from: p.serverTimestamp,
          position: p.position,
          playing: true,
          tempo,
          startsAt: p.startsAt ?? null,
          beat: p.beat,
          beatsPerBar,
          countInBars: p.countInBars ?? 0,
        });
        break;
      case "pause":
      case "seek": {
        const playing = wire === "seek" && cur ? cur.playing : false;
        this.timeline.apply(p.effectiveAt !== undefined ? "schedule" : "replace", {
          from: p.effectiveAt ?? p.serverTimestamp,
          position: p.position,
          playing,
          tempo: cur?.tempo ?? tempo,
          startsAt: playing ? (cur?.startsAt ?? null) : null,
          beat: p.beat,
          beatsPerBar,
        });
        break;
      }
      case "setlist_changed":
        // The songs travel whole in every change: the last snapshot is kept
        // current, so `client.snapshot` always holds the running order.
        if (this.snapshot) {
          this.snapshot = { ...this.snapshot, setlist: p.setlist, currentSongId: p.currentSongId };
        }
        return;
      default:
        return;
    }
    this.reschedule();
  }

  /**
   * Keeps the members of the last snapshot (and its leaderSocketId) current
   * between snapshots, from the events that name one member: user_joined,
   * user_left, member_replaced, role_changed, member_link and member_status
   * (a seat held while its link is lost, or back; EVENTS.md "Seats"). Returns
   * what changed, or null when nothing did (not joined, another session, a
   * malformed payload). The objects are replaced, never modified, so a
   * snapshot handed out earlier stays as it was.
   * @returns {MembersChange|null}
   */
  absorbMembers(wire, p) {
    if (wire === "snapshot") return this.snapshot === p ? { kind: "snapshot" } : null;
    if (!this.snapshot || !p || typeof p !== "object") return null;
    if (p.sessionId !== undefined && p.sessionId !== this.snapshot.sessionId) return null;
    const members = this.snapshot.members ?? [];
    const set = (list, leader = this.snapshot.leaderSocketId ?? null) => {
      this.snapshot = { ...this.snapshot, members: list, leaderSocketId: leader };
    };
    // Roles follow the leader: exactly one member leads.
    const lead = (list, id) => list.map((m) => {
      const role = m.socketId === id ? "leader" : "follower";
      return m.role === role ? m : { ...m, role };
    });
    const id = p.socketId;
    switch (wire) {
      case "user_joined": {
        const m = p.member;
        if (!m || typeof m.socketId !== "string") return null;
        // The joiner's own snapshot already lists it: replaced, not added twice.
        const i = members.findIndex((x) => x.socketId === m.socketId);
        let list = i < 0 ? [...members, m] : members.map((x, j) => (j === i ? m : x));
        let leader = this.snapshot.leaderSocketId ?? null;
        if (m.role === "leader") {
          leader = m.socketId;
          list = lead(list, leader);
        }
        set(list, leader);
        return { kind: "joined", socketId: m.socketId, member: m };
      }
      case "user_left": {
        if (typeof id !== "string") return null;
        const gone = members.find((m) => m.socketId === id);
        let list = members.filter((m) => m.socketId !== id);
        let leader = this.snapshot.leaderSocketId ?? null;
        if (typeof p.newLeader === "string") {
          leader = p.newLeader;
          list = lead(list, leader);
        } else if (leader === id) {
          leader = null;
        }
        set(list, leader);
        return { kind: "left", socketId: id, member: gone, wasHeld: gone?.connected === false };
      }
      case "member_replaced": {
        const m = p.member;
        const prev = p.previousSocketId;
        if (!m || typeof m.socketId !== "string" || typeof prev !== "string") return null;
        // The seat keeps its place in the join order. A device's own re-join
        // gets its snapshot (already under the new id) first.
        const old = members.find((x) => x.socketId === prev);
        let list = members.filter((x) => x.socketId !== m.socketId);
        const at = list.findIndex((x) => x.socketId === prev);
        if (at >= 0) {
          list[at] = m;
        } else {
          const was = members.findIndex((x) => x.socketId === m.socketId);
          list.splice(was < 0 ? list.length : was, 0, m);
        }
        let leader = this.snapshot.leaderSocketId ?? null;
        if (leader === prev || m.role === "leader") {
          leader = m.socketId;
          list = lead(list, leader);
        }
        set(list, leader);
        return { kind: "replaced", socketId: m.socketId, previousSocketId: prev, member: m, wasHeld: old?.connected === false };
      }
      case "role_changed": {
        if (typeof id !== "string" || p.role !== "leader") return null;
        set(lead(members, id), id);
        return { kind: "role", socketId: id };
      }
      case "member_link": {
        if (typeof id !== "string") return null;
        set(members.map((m) => (m.socketId === id ? { ...m, link: p.link ?? null } : m)));
        return { kind: "link", socketId: id };
      }
      case "member_status": {
        if (typeof id !== "string" || typeof p.connected !== "boolean") return null;
        const heldUntil = p.connected ? null : (p.heldUntil ?? null);
        let member;
        set(
          members.map((m) => {
            if (m.socketId !== id) return m;
            member = { ...m, connected: p.connected, heldUntil };
            return member;
          }),
        );
        if (!member) return null;
        return { kind: p.connected ? "back" : "held", socketId: id, member };
      }
      default:
        return null;
    }
  }

  /**
   * The session's members (join order) as the server last described them,
   * kept current between snapshots; [] before joining. Each has `connected`
   * (false while its link is lost and its seat held, until `heldUntil`,
   * server time) on servers with seats; the `members` event tells changes.
   * @returns {Member[]}
   */
  get members() {
    return this.snapshot?.members ?? [];
  }

  /** The leader's socket id, as the member events last said; null when none. */
  get leaderSocketId() {
    return this.snapshot?.leaderSocketId ?? null;
  }

  /** The member `socketId` (default: this device), or null. */
  member(socketId = this.socket.id) {
    return this.members.find((m) => m.socketId === socketId) ?? null;
  }

  // ---- session -----------------------------------------------------------

  /**
   * Joins `sessionId` (and re-joins it after every reconnect that did not
   * recover the Socket.IO session). Resolves with the first snapshot, rejects
   * with the server's error (or a timeout).
   * @param {string} sessionId
   * @param {{ displayName?: string, role?: "leader"|"follower", timeoutMs?: number }} [options]
   * @returns {Promise<Snapshot>}
   */
  join(sessionId, options = {}) {
    this.sessionId = sessionId;
    this.joinOptions = { displayName: options.displayName, role: options.role };
    this.timeline = new Timeline();
    this.snapshot = null;
    this.beatCursor = null;
    this.lastBeat = null;
    return new Promise((resolve, reject) => {
      const offSnap = this.on("snapshot", (s) => {
        if (s?.sessionId !== undefined && s.sessionId !== sessionId) return;
        done();
        resolve(s);
      });
      const offErr = this.on("error", (e) => {
        if (e?.event !== undefined && e.event !== "join_session") return;
        done();
        reject(Object.assign(new Error(e?.message ?? "join refused"), { code: e?.code }));
      });
      const timer = setTimeout(() => {
        done();
        reject(Object.assign(new Error(`join_session: no snapshot within ${options.timeoutMs ?? 10000} ms`), { code: "TIMEOUT" }));
      }, options.timeoutMs ?? 10_000);
      const done = () => {
        offSnap();
        offErr();
        clearTimeout(timer);
      };
      // Before the first connection, the connect handler sends it.
      if (this.socket.connected) this.sendJoin();
    });
  }

  sendJoin() {
    const p = { sessionId: this.sessionId, clientId: this.clientId };
    if (this.joinOptions.displayName !== undefined) p.displayName = this.joinOptions.displayName;
    // The role is asked for on the first join only: after a reconnect, the
    // seat (clientId) keeps it on servers with seats, and on older servers
    // a re-join as leader would take the lead from whoever took over.
    if (this.joinOptions.role !== undefined) p.role = this.joinOptions.role;
    this.joinOptions.role = undefined;
    this.socket.emit("join_session", p);
  }

  /** Leaves the session; the socket stays connected. */
  leave() {
    if (this.sessionId) this.socket.emit("leave_session", { sessionId: this.sessionId });
    this.sessionId = null;
    this.timeline = new Timeline();
    this.reschedule();
  }

  /** Closes the connection and stops every timer. */
  close() {
    this.closed = true;
    this.generation++;
    clearTimeout(this.timer);
    clearTimeout(this.syncTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.linkTimer);
    this.scheduled.clear();
    this.beatListeners.clear();
    this.socket.close();
  }

  /** My socket id (changes on every reconnect). */
  get id() {
    return this.socket.id;
  }

  /** True when this device leads the session, as the latest snapshot says. */
  get isLeader() {
    return !!this.snapshot && this.snapshot.leaderSocketId === this.socket.id;
  }

  // ---- leader controls (the server refuses them from followers: error NOT_LEADER) ----

  send(event, fields = {}) {
    this.socket.emit(event, { sessionId: this.sessionId, ...fields });
  }

  /** @param {{ countIn?: number, at?: number }} [o] countIn in bars; at = server time */
  play(o = {}) {
    const f = {};
    if (o.countIn !== undefined) f.countIn = o.countIn;
    if (o.at !== undefined) f.at = o.at;
    this.send("play", f);
  }
  pause() {
    this.send("pause");
  }
  stop() {
    this.send("stop");
  }
  /** @param {number} position ms @param {{ at?: number }} [o] */
  seek(position, o = {}) {
    this.send("seek", o.at !== undefined ? { position, at: o.at } : { position });
  }
  /** @param {number} tempo BPM @param {{ at?: number }} [o] */
  setTempo(tempo, o = {}) {
    this.send("set_tempo", o.at !== undefined ? { tempo, at: o.at } : { tempo });
  }
  /** @param {number} beatsPerBar 1..16 */
  setTimeSignature(beatsPerBar) {
    this.send("set_time_signature", { beatsPerBar });
  }
  /** @param {string} message */
  setMessage(message) {
    this.send("update_message", { message });
  }
  /** Asks for the lead (any member may). */
  takeLead() {
    this.send("set_role", { role: "leader" });
  }
  /** Asks the server for the position now (answered with `sync`). */
  requestSync() {
    this.send("sync_request");
  }

  // Setlists (docs/EVENTS.md "Setlists"): each change is answered to the
  // whole session with one `setlist` event (and a `snapshot` when the
  // session's tempo, metre, position or playback changed).
  /** @param {object[]} songs { id?, title, tempo?, beatsPerBar?, key?, chart? } each */
  setSetlist(songs) {
    this.send("set_setlist", { setlist: songs });
  }
  /** @param {object} song @param {number} [index] 0..songs (default: the end) */
  addSong(song, index) {
    this.send("add_song", index === undefined ? { song } : { song, index });
  }
  /**
   * @param {string} songId
   * @param {{ title?: string, tempo?: number, beatsPerBar?: number, key?: string|null,
   *           chart?: string|null }} changes null or "" clears key/chart
   */
  updateSong(songId, changes) {
    this.send("update_song", { songId, song: changes });
  }
  removeSong(songId) {
    this.send("remove_song", { songId });
  }
  /** @param {string} songId @param {number} index where it ends, 0..songs-1 */
  moveSong(songId, index) {
    this.send("move_song", { songId, index });
  }
  /** @param {string} songId @param {{ continue?: boolean }} [o] continue: keep playing from 0 */
  selectSong(songId, o = {}) {
    this.send("select_song", o.continue !== undefined ? { songId, continue: o.continue } : { songId });
  }
  /** @param {{ continue?: boolean }} [o] */
  nextSong(o = {}) {
    this.send("next_song", o.continue !== undefined ? { continue: o.continue } : {});
  }
  /** @param {{ continue?: boolean }} [o] */
  previousSong(o = {}) {
    this.send("previous_song", o.continue !== undefined ? { continue: o.continue } : {});
  }
  /**
   * A ChordPro text (the subset of docs/EVENTS.md "Chart import") becomes a song.
   * @param {string} text @param {{ index?: number, id?: string }} [o]
   */
  importChart(text, o = {}) {
    const f = { text };
    if (o.index !== undefined) f.index = o.index;
    if (o.id !== undefined) f.id = o.id;
    this.send("import_chart", f);
  }
  /** @param {{ text?: string, section?: string }} c at least one */
  cue(c) {
    this.send("cue", c);
  }

  /** The current song of the last snapshot or setlist change, or null. */
  currentSong() {
    const id = this.snapshot?.currentSongId;
    return (id && this.snapshot?.setlist?.find((s) => s.id === id)) || null;
  }

  // ---- clock -------------------------------------------------------------

  /** Server time now (epoch ms, fractional), from the local monotonic clock. */
  serverNow() {
    return this.toServer(this.now());
  }

  /** Server time of local clock reading `local`. */
  toServer(local) {
    return local + this.clock.offsetAt(local);
  }

  /** Local clock reading (same clock as `now`) at server time `server`. */
  toLocal(server) {
    // offsetAt changes by drift·Δ, a few µs per second: one correction step suffices.
    const guess = server - this.clock.offsetAt(server);
    return server - this.clock.offsetAt(guess);
  }

  /** @returns {ClockInfo} */
  clockInfo() {
    const t = this.now();
    return {
      mode: this.clockMode,
      offset: this.clock.offsetAt(t),
      drift: this.clock.drift,
      rtt: this.clock.rtt,
      samples: this.clock.fit?.samples ?? 0,
      synced: this.clock.synced,
      // The connection's settling bursts are done (see burst()): the
      // estimate a just-joined device should start music on.
      settled: this.clock.synced && this.settleLeft === 0 && !this.settleNext,
    };
  }

  /**
   * Runs one burst of exchanges now; resolves when it is folded into the
   * estimate. Picks time_sync, or latency_probe when the server does not
   * answer time_sync within syncTimeoutMs. Schedules the next burst.
   */
  syncClock() {
    const gen = this.generation;
    // A burst of an earlier connection stops at its next step; a new one starts.
    if (this.syncing && this.syncing.gen === gen) return this.syncing.promise;
    const promise = this.burst(gen).finally(() => {
      if (this.syncing?.promise === promise) this.syncing = null;
      if (gen === this.generation && !this.closed) {
        clearTimeout(this.syncTimer);
        // Right after a connection's first burst, settleBursts more follow
        // settleGapMs apart (as large as the first), then one every resyncMs.
        let delay = this.opts.resyncMs;
        this.settleNext = this.settleLeft > 0;
        if (this.settleNext) {
          this.settleLeft--;
          delay = this.opts.settleGapMs;
        }
        this.syncTimer = setTimeout(() => this.syncClock().catch(() => {}), delay);
      }
    });
    this.syncing = { gen, promise };
    return promise;
  }

  async burst(gen) {
    // The first burst of a connection is larger, and so are the settleBursts
    // that follow it within seconds: a device that just joined has only these
    // (a count-in may start meanwhile). One burst's estimate is off by half
    // the difference between its fastest upstream and fastest downstream
    // trips' excess over the path's floor: more exchanges, spread over a few
    // seconds (queues and loaded hosts delay packets in stretches), find trips
    // nearer the floor. Measured through 20 ± 10 ms jitter: bench/RESULTS.md.
    // (time_sync only: servers before it may rate-limit latency_probe.)
    const first = !this.clock.synced || this.freshConnection;
    if (first) this.settleLeft = this.opts.settleBursts;
    const settling = first || this.settleNext;
    this.settleNext = false;
    const count = () =>
      settling && this.clockMode !== "latency_probe" ? this.opts.firstSyncBurst : this.opts.syncBurst;
    const samples = [];
    for (let i = 0; i < count() && gen === this.generation && !this.closed; i++) {
      let sample = null;
      // An exchange is worthless later: none is buffered while disconnected
      // (not volatile either: that drops a packet whenever a write is in flight).
      if (!this.socket.connected) return;
      if (this.clockMode === null && this.opts.clockProtocol === "latency_probe") {
        this.clockMode = "latency_probe";
      }
      if (this.clockMode !== "latency_probe") {
        sample = await this.exchangeTimeSync();
        if (sample) this.clockMode = "time_sync";
        else if (this.clockMode === null && this.opts.clockProtocol !== "time_sync") {
          // No answer on a fresh connection: a server from before time_sync.
          this.clockMode = "latency_probe";
        }
      }
      if (this.clockMode === "latency_probe") sample = await this.exchangeLatencyProbe();
      if (gen !== this.generation) return;
      if (sample) samples.push(sample);
      if (i + 1 < count()) await new Promise((r) => setTimeout(r, this.opts.syncGapMs));
    }
    if (gen !== this.generation || samples.length === 0) return;
    const fresh = new ClockEstimator(this.opts.clock);
    for (const s of samples) fresh.add(s);
    fresh.endBurst();
    const t = this.now();
    // After a reconnect, an estimate that this burst contradicts (by more
    // than its own round trip) belongs to another server: start again.
    const contradicted =
      this.freshConnection &&
      Math.abs(fresh.offsetAt(t) - this.clock.offsetAt(t)) > Math.max(2, fresh.rtt);
    this.freshConnection = false;
    if (!this.clock.synced || contradicted) {
      this.clock = fresh;
    } else {
      for (const s of samples) this.clock.add(s);
      this.clock.endBurst();
    }
    this.emitLocal("clock", this.clockInfo());
    const link = linkOf(samples);
    if (link) {
      this.link = { ...link, at: this.serverNow() };
      this.emitLocal("link", this.link);
      this.reportLink();
    }
    this.reschedule();
  }

  /**
   * Sends this device's link (the last burst's) to the session, so that the
   * band sees it (link_report, EVENTS.md "Link quality"). Called after every
   * burst and when a snapshot shows the server has none; at most one report
   * per LINK_REPORT_GAP_MS (a second one waits, as the server refuses it).
   */
  reportLink() {
    if (!this.link || !this.sessionId || !this.snapshot || !this.socket.connected) return;
    const since = this.linkSentAt === null ? Infinity : this.now() - this.linkSentAt;
    if (since < LINK_REPORT_GAP_MS) {
      if (this.linkTimer === null) {
        this.linkTimer = setTimeout(() => {
          this.linkTimer = null;
          if (!this.closed) this.reportLink();
        }, LINK_REPORT_GAP_MS - since);
      }
      return;
    }
    this.linkSentAt = this.now();
    this.socket.emit("link_report", {
      sessionId: this.sessionId,
      rttMs: this.link.rttMs,
      jitterMs: this.link.jitterMs,
    });
  }

  // time_sync with an ack; also accepts a time_sync_response for the same t1.
  exchangeTimeSync() {
    return new Promise((resolve) => {
      const t1 = this.now();
      let settled = false;
      const finish = (r) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.pendingTimeSync === accept) this.pendingTimeSync = null;
        offErr();
        resolve(r);
      };
      // The ack belongs to this emit; a time_sync_response is matched by t1
      // (to a µs, in case the server's JSON rounds the echo).
      const accept = (p, acked = false) => {
        const t4 = this.now();
        if (!p || !Number.isFinite(p.t2) || !Number.isFinite(p.t3)) return;
        if (!acked && !(Math.abs(p.t1 - t1) < 1e-3)) return;
        finish({ t1, t2: p.t2, t3: p.t3, t4 });
      };
      this.pendingTimeSync = accept;
      const offErr = this.on("error", (e) => {
        if (e?.event === "time_sync") finish(null);
      });
      const timer = setTimeout(() => finish(null), this.opts.syncTimeoutMs);
      this.socket.emit("time_sync", { t1 }, (p) => accept(p, true));
    });
  }

  onTimeSyncResponse(p) {
    this.pendingTimeSync?.(p);
  }

  // The old contract's probe: the server's one timestamp stands for both t2
  // and t3, so the offset is exact when the two directions take equally long.
  // The answer is matched by its echo of t1 to a µs, not exactly: a server
  // may parse and re-print the number a unit in the last place off (BandSync
  // with Boost.JSON 1.81 does, for about one fractional epoch-ms time in ten),
  // and an unmatched answer costs a whole syncTimeoutMs.
  exchangeLatencyProbe() {
    return new Promise((resolve) => {
      const t1 = this.now();
      const timer = setTimeout(() => {
        if (this.pendingProbe === accept) this.pendingProbe = null;
        resolve(null);
      }, this.opts.syncTimeoutMs);
      const accept = (p) => {
        if (!p || !(Math.abs(p.clientTimestamp - t1) < 1e-3) || !Number.isFinite(p.serverTimestamp)) return;
        clearTimeout(timer);
        if (this.pendingProbe === accept) this.pendingProbe = null;
        resolve({ t1, t2: p.serverTimestamp, t3: p.serverTimestamp, t4: this.now() });
      };
      this.pendingProbe = accept;
      const probe = { timestamp: t1 };
      if (this.sessionId) probe.sessionId = this.sessionId;
      this.socket.emit("latency_probe", probe);
    });
  }

  onLatencyResponse(p) {
    this.pendingProbe?.(p);
  }

  // ---- timeline ----------------------------------------------------------

  /** Song position (ms) at server time t (default: now); null before the first snapshot. */
  positionAt(t = this.serverNow()) {
    return this.timeline.positionAt(t);
  }

  /** Musical position in fractional beats (0-based) at server time t. */
  beatAt(t = this.serverNow()) {
    return this.timeline.beatAt(t);
  }

  /** Fractional bar (0-based) at server time t. */
  barAt(t = this.serverNow()) {
    const s = this.timeline.at(t);
    return s ? this.timeline.beatAt(t) / s.beatsPerBar : null;
  }

  /** Whether the song runs at server time t (false during a count-in). */
  playingAt(t = this.serverNow()) {
    const s = this.timeline.at(t);
    return !!s && s.playing && t >= Math.max(s.from, s.startsAt ?? -Infinity);
  }

  /** The scheduled start (server time) while a start is pending, else null. */
  get startsAt() {
    const t = this.serverNow();
    const s = this.timeline.at(t);
    return s && s.playing && s.startsAt !== null && s.startsAt > t ? s.startsAt : null;
  }

  // ---- scheduling ----------------------------------------------------------

  /**
   * Calls cb({ serverTime, localTime }) at server time `serverTime` (or
   * lookaheadMs before it, so that audio can be scheduled on time).
   * Returns a function that cancels it.
   */
  at(serverTime, cb) {
    const entry = { time: serverTime, cb };
    this.scheduled.add(entry);
    this.reschedule();
    return () => {
      this.scheduled.delete(entry);
      this.reschedule();
    };
  }

  /**
   * Calls cb(BeatInfo) on every beat while the session plays, count-in beats
   * included (countIn: true). Returns a function that stops it.
   * @param {(b: BeatInfo) => void} cb
   */
  onBeat(cb) {
    if (this.beatListeners.size === 0) this.beatCursor = null;
    this.beatListeners.add(cb);
    this.reschedule();
    return () => {
      this.beatListeners.delete(cb);
      this.reschedule();
    };
  }

  // One timer for everything: it sleeps until the earliest due callback.
  reschedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return;
    const t = this.serverNow();
    let due = Infinity;
    for (const e of this.scheduled) due = Math.min(due, e.time);
    if (this.beatListeners.size > 0) {
      // Beats after the cursor are still to be delivered; a cursor far
      // behind (a sleeping tab, a long stop) moves to now: late beats are
      // dropped, not delivered in a burst.
      if (this.beatCursor === null || this.beatCursor < t - 1000) this.beatCursor = t;
      const nb = this.timeline.nextBeat(this.beatCursor);
      if (nb) due = Math.min(due, nb.time);
    }
    if (due === Infinity) return;
    const wait = Math.max(0, this.toLocal(due) - this.opts.lookaheadMs - this.now());
    // Long waits are cut so that clock corrections are taken into account.
    this.timer = setTimeout(() => this.fire(), Math.min(wait, 1000));
  }

  fire() {
    this.timer = null;
    const t = this.serverNow() + this.opts.lookaheadMs;
    for (const e of [...this.scheduled]) {
      if (e.time <= t) {
        this.scheduled.delete(e);
        this.callSafely(e.cb, { serverTime: e.time, localTime: this.toLocal(e.time) });
      }
    }
    if (this.beatListeners.size > 0 && this.beatCursor !== null) {
      // Every beat between the cursor and now, once.
      for (let guard = 0; guard < 64; guard++) {
        const nb = this.timeline.nextBeat(this.beatCursor);
        if (!nb || nb.time > t) break;
        this.beatCursor = nb.time;
        if (nb.beat === null) continue; // a scheduled change, not a beat
        const s = this.timeline.at(nb.time);
        // Positions in whole ms can move the grid by a fraction of a ms
        // between two reports: the same beat again, just after, is not a new one.
        const beatMs = 60000 / s.tempo;
        if (this.lastBeat && this.lastBeat.beat === nb.beat && Math.abs(nb.time - this.lastBeat.time) < beatMs / 2)
          continue;
        this.lastBeat = { beat: nb.beat, time: nb.time };
        const bpb = s.beatsPerBar;
        const info = {
          beat: nb.beat,
          bar: Math.floor(nb.beat / bpb),
          beatInBar: ((nb.beat % bpb) + bpb) % bpb,
          beatsPerBar: bpb,
          serverTime: nb.time,
          localTime: this.toLocal(nb.time),
          countIn: nb.countIn,
        };
        for (const cb of [...this.beatListeners]) this.callSafely(cb, info);
      }
    }
    this.reschedule();
  }

  callSafely(cb, arg) {
    try {
      cb(arg);
    } catch (err) {
      setTimeout(() => {
        throw err;
      });
    }
  }
}

/**
 * Creates a client and connects it.
 * @param {ConstructorParameters<typeof BandSyncClient>[0]} opts
 */
export function createBandSync(opts) {
  return new BandSyncClient(opts);
}
