// Types of bandsync-client.js (see that file for the behaviour).

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface SyncSample {
  /** client send, server receive, server send, client receive (ms) */
  t1: number;
  t2: number;
  t3: number;
  t4: number;
}

export interface Member {
  socketId: string;
  displayName: string;
  role: "leader" | "follower";
  joinedAt: number;
  lastPingAt?: number;
  /** BandSync: false while the member's link is lost and its seat held (absent on older servers) */
  connected?: boolean;
  /** BandSync: while held, the server time its seat is released at the latest; else null */
  heldUntil?: number | null;
  /** BandSync: the member's last link_report, null when none (absent on older servers) */
  link?: MemberLink | null;
}

/** `member_status`: a member's seat became held (link lost) or is back (EVENTS.md "Seats"). */
export interface MemberStatus {
  sessionId: string;
  socketId: string;
  connected: boolean;
  /** server time the held seat is released at the latest; null when connected */
  heldUntil: number | null;
}

/** What changed the member list (the `members` event). */
export interface MembersChange {
  kind: "snapshot" | "joined" | "left" | "replaced" | "role" | "link" | "held" | "back";
  socketId?: string;
  previousSocketId?: string;
  /** the member as it is now ("left": as it was) */
  member?: Member;
  /** "left": the seat was held when it went (its hold expired or was released); "replaced": it was held and a new connection took it back */
  wasHeld?: boolean;
}

/** A member's link as its device reported it (EVENTS.md "Link quality"). */
export interface MemberLink {
  rttMs: number;
  jitterMs: number | null;
  /** server time the server received the report */
  at: number;
}

/** This device's link, from its last sync burst. */
export interface LinkInfo {
  /** median round trip of the burst (ms) */
  rttMs: number;
  /** mean difference between consecutive round trips (ms) */
  jitterMs: number;
  samples: number;
  /** server time it was measured */
  at: number;
}

export interface Song {
  id: string;
  title: string;
  tempo: number;
  beatsPerBar: number;
  key?: string;
  chart?: string;
  sections: { name: string; line: number; bar?: number }[];
}

/** A song as set_setlist/add_song send it (sections are derived by the server). */
export interface SongInput {
  id?: string;
  title: string;
  tempo?: number;
  beatsPerBar?: number;
  key?: string | null;
  chart?: string | null;
}

/** update_song's changes: absent fields are kept; null or "" clears key/chart. */
export type SongChanges = Partial<Omit<SongInput, "id">>;

export interface Snapshot {
  sessionId: string;
  message: string;
  tempo: number;
  tempoBpm: number;
  position: number;
  isPlaying: boolean;
  leaderSocketId: string | null;
  members: Member[];
  serverTimestamp: number;
  createdAt: number;
  lastActiveAt: number;
  settings: { maxMembers: number };
  startsAt?: number | null;
  beatsPerBar?: number;
  beat?: number;
  bar?: number;
  effectiveAt?: number;
  setlist?: Song[];
  currentSongId?: string | null;
}

export interface Tick {
  sessionId: string;
  positionMs: number;
  tempoBpm: number;
  serverTimestamp: number;
  beat?: number;
  bar?: number;
}

export interface PlayEvent {
  sessionId: string;
  tempoBpm: number;
  position: number;
  serverTimestamp: number;
  startsAt?: number;
  countInBars?: number;
  beatsPerBar?: number;
  beat?: number;
  bar?: number;
}

export interface PositionEvent {
  sessionId: string;
  position: number;
  serverTimestamp: number;
  effectiveAt?: number;
  beat?: number;
  bar?: number;
}

export interface SyncResponse {
  sessionId: string;
  positionMs: number;
  tempoBpm: number;
  isPlaying: boolean;
  serverTime: number;
  beat?: number;
  bar?: number;
}

export interface ServerError {
  message: string;
  code: string;
  event?: string;
}

export interface ConnectionStatus {
  status: "connecting" | "connected" | "recovered" | "reconnecting" | "disconnected";
  attempt?: number;
  reason?: string;
}

export interface BeatInfo {
  beat: number;
  bar: number;
  beatInBar: number;
  beatsPerBar: number;
  serverTime: number;
  localTime: number;
  countIn: boolean;
}

export interface ClockInfo {
  mode: "time_sync" | "latency_probe" | null;
  offset: number;
  drift: number;
  rtt: number;
  samples: number;
  synced: boolean;
  /** the connection's settling bursts (settleBursts after its first) are folded in */
  settled: boolean;
}

export interface BandSyncEvents {
  snapshot: Snapshot;
  tick: Tick;
  play: PlayEvent;
  pause: PositionEvent;
  seek: PositionEvent;
  sync: SyncResponse;
  roleChanged: { socketId: string; role: "leader"; previousLeader?: string | null; previousRole?: string; reason?: string; timestamp: number };
  memberJoined: { member: Member; memberCount: number };
  memberLeft: { socketId: string; memberCount: number; newLeader: string | null };
  memberReplaced: { sessionId: string; previousSocketId: string; socketId: string; member: Member };
  roomStats: { sessionId: string; memberCount: number; connectedCount: number; isPlaying: boolean; tempo: number; position: number; leader: string | null; uptime: number; lastActiveAt: number };
  setlist: {
    sessionId: string;
    setlist: Song[];
    currentSongId: string | null;
    change: { kind: "set" | "add" | "update" | "remove" | "move" | "select" | "import"; songId?: string; warnings?: string[] };
  };
  cue: { sessionId: string; text: string | null; section: string | null; bar: number | null; from: string; timestamp: number };
  error: ServerError;
  connection: ConnectionStatus;
  clock: ClockInfo;
  /** this device's link after each sync burst (also sent to the session as link_report) */
  link: LinkInfo;
  /** `member_link`: a member's link report, as the server keeps it */
  memberLink: { sessionId: string; socketId: string; link: MemberLink | null };
  /** `member_status`: which member's seat is held (link lost) or back */
  memberStatus: MemberStatus;
  /** the member list after any change (snapshot, join, leave, seat held/back/replaced, role, link) */
  members: { members: Member[]; leaderSocketId: string | null; change: MembersChange };
}

export interface BandSyncOptions {
  /** socket.io-client's `io` */
  io: (...args: any[]) => any;
  /** server URL; omitted: the page's origin */
  url?: string;
  /** passed to io(); default { transports: ["websocket"] } */
  ioOptions?: Record<string, unknown>;
  /** where the clientId is kept (e.g. localStorage) */
  storage?: StorageLike;
  clientId?: string;
  /** local monotonic clock in epoch ms; default performance.timeOrigin + performance.now() */
  now?: () => number;
  /** time_sync exchanges per burst (default 16), syncGapMs apart (default 25), every resyncMs (default 15000) */
  syncBurst?: number;
  /** exchanges in a connection's first burst and in its settling bursts (default 32) */
  firstSyncBurst?: number;
  syncGapMs?: number;
  resyncMs?: number;
  /** bursts that follow a connection's first one settleGapMs apart, before the resyncMs schedule (default 2) */
  settleBursts?: number;
  /** ms between the starts of the settling bursts (default 2000) */
  settleGapMs?: number;
  syncTimeoutMs?: number;
  lookaheadMs?: number;
  clockProtocol?: "auto" | "time_sync" | "latency_probe";
  serverDisconnectRetryMs?: number;
  clock?: ClockEstimatorOptions;
}

export interface ClockEstimatorOptions {
  /** lowest-RTT exchanges kept per burst besides the two that bound it (default 1) */
  keepPerBurst?: number;
  /** also intersect the whole window's intervals along the fitted line (default true) */
  intersectWindow?: boolean;
  /** a fitted drift is used when |slope| > this × Student's t(95 %) × its standard error (default 1) */
  driftSignificance?: number;
  windowBursts?: number;
  windowMs?: number;
  minFitSpanMs?: number;
  maxDriftPpm?: number;
  floorMs?: number;
}

/** Exchanges held for one burst; more are dropped until endBurst(). */
export declare const MAX_BURST_SAMPLES: number;

export declare function linkOf(samples: SyncSample[]): { rttMs: number; jitterMs: number; samples: number } | null;
export declare function sampleOf(s: SyncSample): { at: number; offset: number; rtt: number };

export declare class ClockEstimator {
  constructor(opts?: ClockEstimatorOptions);
  reset(): void;
  add(sample: SyncSample): boolean;
  endBurst(): void;
  readonly synced: boolean;
  readonly drift: number;
  readonly rtt: number;
  offsetAt(clientTime: number): number;
}

export interface TimelineState {
  from: number;
  position: number;
  playing: boolean;
  tempo: number;
  startsAt?: number | null;
  beat?: number;
  beatsPerBar: number;
  countInBars?: number;
}

export declare class Timeline {
  static MAX_SEGMENTS: number;
  apply(kind: "continue" | "replace" | "schedule", state: TimelineState): void;
  positionAt(serverTime: number): number | null;
  beatAt(serverTime: number): number | null;
  nextBeat(serverTime: number): { time: number; beat: number | null; countIn: boolean } | null;
}

export declare function newClientId(): string;
export declare function stableClientId(storage?: StorageLike, key?: string): string;

export declare class BandSyncClient {
  constructor(opts: BandSyncOptions);
  readonly clientId: string;
  readonly socket: any;
  readonly id: string | undefined;
  readonly isLeader: boolean;
  /** the session's members (join order), kept current between snapshots; [] before joining */
  readonly members: Member[];
  /** the leader's socket id as the member events last said */
  readonly leaderSocketId: string | null;
  /** the member `socketId` (default: this device), or null */
  member(socketId?: string): Member | null;
  readonly startsAt: number | null;
  snapshot: Snapshot | null;
  connection: ConnectionStatus;
  /** this device's link from the last sync burst, null before the first */
  link: LinkInfo | null;

  on<E extends keyof BandSyncEvents>(event: E, cb: (payload: BandSyncEvents[E]) => void): () => void;
  off<E extends keyof BandSyncEvents>(event: E, cb: (payload: BandSyncEvents[E]) => void): void;

  join(sessionId: string, options?: { displayName?: string; role?: "leader" | "follower"; timeoutMs?: number }): Promise<Snapshot>;
  leave(): void;
  close(): void;

  play(options?: { countIn?: number; at?: number }): void;
  pause(): void;
  stop(): void;
  seek(positionMs: number, options?: { at?: number }): void;
  setTempo(bpm: number, options?: { at?: number }): void;
  setTimeSignature(beatsPerBar: number): void;
  setMessage(text: string): void;
  takeLead(): void;
  requestSync(): void;

  setSetlist(songs: SongInput[]): void;
  addSong(song: SongInput, index?: number): void;
  updateSong(songId: string, changes: SongChanges): void;
  removeSong(songId: string): void;
  moveSong(songId: string, index: number): void;
  selectSong(songId: string, options?: { continue?: boolean }): void;
  nextSong(options?: { continue?: boolean }): void;
  previousSong(options?: { continue?: boolean }): void;
  importChart(text: string, options?: { index?: number; id?: string }): void;
  cue(c: { text?: string; section?: string }): void;
  currentSong(): Song | null;

  serverNow(): number;
  toServer(localTime: number): number;
  toLocal(serverTime: number): number;
  clockInfo(): ClockInfo;
  syncClock(): Promise<void>;

  positionAt(serverTime?: number): number | null;
  beatAt(serverTime?: number): number | null;
  barAt(serverTime?: number): number | null;
  playingAt(serverTime?: number): boolean;

  at(serverTime: number, cb: (t: { serverTime: number; localTime: number }) => void): () => void;
  onBeat(cb: (beat: BeatInfo) => void): () => void;
}

export declare function createBandSync(opts: BandSyncOptions): BandSyncClient;
