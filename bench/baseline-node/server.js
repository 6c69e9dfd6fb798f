// The old Node.js BandSync server, rebuilt from /work/shared/docs/EVENTS.md
// for side-by-side benchmarks against `bandsync serve`. It keeps the old
// design on purpose, flaws included, because those are what the benchmark
// measures:
//   - one setInterval ticker per playing session, and the position advances
//     by a fixed 100 ms per tick (so it falls behind real time);
//   - a takeover with `role: "leader"` leaves the previous leader marked
//     "leader";
//   - leader-only and member-only events from anyone else are dropped silently.
// Everything is kept in memory (the Redis persistence of the old server is
// left out: the benchmark runs both servers without Redis).
//
// Usage: PORT=3001 node server.js   (also SOCKET_PING_INTERVAL,
// SOCKET_PING_TIMEOUT, SOCKET_MAX_BUFFER_SIZE, CORS_ORIGIN, LOG_LEVEL,
// METRICS_INTERVAL, HOST)
"use strict";

const http = require("node:http");
const express = require("express");
const { Server } = require("socket.io");

const env = (name, dflt) => (process.env[name] !== undefined ? process.env[name] : dflt);
const PORT = Number(env("PORT", 3001));
const HOST = env("HOST", "127.0.0.1");
const PING_INTERVAL = Number(env("SOCKET_PING_INTERVAL", 10000));
const PING_TIMEOUT = Number(env("SOCKET_PING_TIMEOUT", 5000));
const MAX_BUFFER = Number(env("SOCKET_MAX_BUFFER_SIZE", 1000000));
const CORS_ORIGIN = env("CORS_ORIGIN", "*");
const LOG_LEVEL = env("LOG_LEVEL", "info");
const METRICS_INTERVAL = Number(env("METRICS_INTERVAL", 30000));
const TICK_MS = 100;
const MAX_MEMBERS = 8;
const HEARTBEAT_MS = 30000;
const HEALTHY_LATENCY_MS = 200;

const debug = LOG_LEVEL === "debug" ? (...a) => console.log(...a) : () => {};
const info = LOG_LEVEL === "debug" || LOG_LEVEL === "info" ? (...a) => console.log(...a) : () => {};

const app = express();
const server = http.createServer(app);
const io = new Server(server, {
  cors: { origin: CORS_ORIGIN === "*" ? "*" : CORS_ORIGIN.split(","), methods: ["GET", "POST"] },
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  maxHttpBufferSize: MAX_BUFFER,
});

// sessionId -> session; socketId -> { sessionId, latency }
const sessions = new Map();
const intervals = new Map();
const connections = new Map();
const performance = {
  totalConnections: 0,
  activeConnections: 0,
  messagesPerSecond: 0,
  averageLatency: 0,
  lastResetTime: Date.now(),
};
let messageCount = 0;

function newSession() {
  const now = Date.now();
  return {
    message: "Waiting for members…",
    tempo: 120,
    position: 0,
    isPlaying: false,
    leaderSocketId: null,
    tempoBpm: 120,
    members: new Map(),
    createdAt: now,
    lastActiveAt: now,
    settings: { maxMembers: MAX_MEMBERS },
  };
}

function snapshot(s) {
  return {
    message: s.message,
    tempo: s.tempo,
    position: s.position,
    isPlaying: s.isPlaying,
    leaderSocketId: s.leaderSocketId,
    tempoBpm: s.tempoBpm,
    members: Array.from(s.members.values()),
    createdAt: s.createdAt,
    lastActiveAt: s.lastActiveAt,
    settings: s.settings,
    serverTimestamp: Date.now(),
  };
}

function roomStats(id, s) {
  return {
    sessionId: id,
    memberCount: s.members.size,
    connectedCount: s.members.size,
    isPlaying: s.isPlaying,
    tempo: s.tempoBpm,
    position: s.position,
    leader: s.leaderSocketId,
    uptime: Date.now() - s.createdAt,
    lastActiveAt: s.lastActiveAt,
  };
}

// The old ticker: one setInterval per playing session, +100 ms per tick.
function startTicker(id) {
  stopTicker(id);
  const timer = setInterval(() => {
    const s = sessions.get(id);
    if (!s || !s.isPlaying) return stopTicker(id);
    s.position += TICK_MS;
    io.to(id).emit("scroll_tick", {
      sessionId: id,
      positionMs: s.position,
      tempoBpm: s.tempoBpm,
      serverTimestamp: Date.now(),
    });
  }, TICK_MS);
  intervals.set(id, timer);
}

function stopTicker(id) {
  const timer = intervals.get(id);
  if (timer) {
    clearInterval(timer);
    intervals.delete(id);
  }
}

function memberOf(socket, sessionId) {
  const s = sessions.get(sessionId);
  if (!s || !s.members.has(socket.id)) return null;
  return s;
}

function leaderOf(socket, sessionId) {
  const s = memberOf(socket, sessionId);
  if (!s || s.leaderSocketId !== socket.id) return null;
  return s;
}

function leave(socket, sessionId) {
  const s = sessions.get(sessionId);
  if (!s || !s.members.has(socket.id)) return;
  const wasLeader = s.leaderSocketId === socket.id;
  s.members.delete(socket.id);
  socket.leave(sessionId);
  const conn = connections.get(socket.id);
  if (conn) conn.sessionId = null;
  s.lastActiveAt = Date.now();
  if (s.members.size === 0) {
    s.leaderSocketId = null;
    s.isPlaying = false;
    stopTicker(sessionId);
    return;
  }
  let newLeader = null;
  if (wasLeader) {
    const next = Array.from(s.members.values()).sort((a, b) => a.joinedAt - b.joinedAt)[0];
    next.role = "leader";
    s.leaderSocketId = next.socketId;
    s.isPlaying = false;
    stopTicker(sessionId);
    s.message = `${next.displayName} is now leading`;
    newLeader = next.socketId;
    io.to(sessionId).emit("role_changed", {
      socketId: next.socketId,
      role: "leader",
      previousRole: "follower",
      reason: "leader_disconnected",
      timestamp: Date.now(),
    });
    io.to(sessionId).emit("snapshot", snapshot(s));
  }
  io.to(sessionId).emit("room_stats", roomStats(sessionId, s));
  io.to(sessionId).emit("user_left", {
    socketId: socket.id,
    memberCount: s.members.size,
    newLeader,
  });
}

function recordLatency(socket, latency) {
  const conn = connections.get(socket.id);
  if (!conn) return;
  conn.latency = latency;
  if (latency > 100) console.warn(`high latency: ${socket.id} ${latency} ms`);
  if (conn.sessionId) {
    const s = sessions.get(conn.sessionId);
    const m = s && s.members.get(socket.id);
    if (m) m.lastPingAt = Date.now();
  }
}

io.on("connection", (socket) => {
  performance.totalConnections += 1;
  performance.activeConnections += 1;
  connections.set(socket.id, { sessionId: null, latency: null });
  debug(`connect ${socket.id}`);

  socket.onAny(() => {
    messageCount += 1;
  });

  socket.on("join_session", (data = {}) => {
    const { sessionId, displayName, role } = data || {};
    if (!sessionId) return;
    let s = sessions.get(sessionId);
    if (!s) {
      s = newSession();
      sessions.set(sessionId, s);
    }
    if (s.members.size >= s.settings.maxMembers) {
      socket.emit("error", { message: `Session at capacity (${s.settings.maxMembers} members)` });
      return;
    }
    const conn = connections.get(socket.id);
    if (conn && conn.sessionId && conn.sessionId !== sessionId) leave(socket, conn.sessionId);
    const now = Date.now();
    const member = {
      socketId: socket.id,
      displayName: displayName || `User ${socket.id.slice(-4)}`,
      role: "follower",
      joinedAt: now,
      lastPingAt: now,
    };
    if (!s.leaderSocketId || role === "leader") {
      // Old flaw kept: a previous leader stays marked "leader".
      member.role = "leader";
      s.leaderSocketId = socket.id;
      s.message = `${member.displayName} is leading`;
    }
    s.members.set(socket.id, member);
    s.lastActiveAt = now;
    if (conn) conn.sessionId = sessionId;
    socket.join(sessionId);
    socket.emit("snapshot", snapshot(s));
    io.to(sessionId).emit("room_stats", roomStats(sessionId, s));
    io.to(sessionId).emit("user_joined", { member, memberCount: s.members.size });
    info(`${socket.id} joined ${sessionId} (${s.members.size} members)`);
  });

  socket.on("leave_session", ({ sessionId } = {}) => leave(socket, sessionId));

  socket.on("update_message", ({ sessionId, message } = {}) => {
    const s = memberOf(socket, sessionId);
    if (!s) return;
    s.message = message;
    s.lastActiveAt = Date.now();
    io.to(sessionId).emit("snapshot", snapshot(s));
  });

  socket.on("set_role", ({ sessionId, role } = {}) => {
    const s = memberOf(socket, sessionId);
    if (!s) return;
    if (role === "leader") {
      const previousLeader = s.leaderSocketId;
      s.leaderSocketId = socket.id;
      s.members.get(socket.id).role = "leader";
      if (previousLeader && previousLeader !== socket.id) {
        io.to(sessionId).emit("role_changed", {
          socketId: socket.id,
          role: "leader",
          previousLeader,
          timestamp: Date.now(),
        });
      }
    }
    s.lastActiveAt = Date.now();
    io.to(sessionId).emit("snapshot", snapshot(s));
  });

  socket.on("set_tempo", ({ sessionId, tempo } = {}) => {
    const s = leaderOf(socket, sessionId);
    if (!s) return;
    s.tempo = tempo;
    s.tempoBpm = tempo;
    s.lastActiveAt = Date.now();
    io.to(sessionId).emit("snapshot", snapshot(s));
  });

  socket.on("play", ({ sessionId } = {}) => {
    const s = leaderOf(socket, sessionId);
    if (!s) return;
    s.isPlaying = true;
    s.lastActiveAt = Date.now();
    io.to(sessionId).emit("snapshot", snapshot(s));
    io.to(sessionId).emit("play", {
      sessionId,
      tempoBpm: s.tempoBpm,
      position: s.position,
      serverTimestamp: Date.now(),
    });
    startTicker(sessionId);
  });

  const halt = (sessionId, rewind) => {
    const s = leaderOf(socket, sessionId);
    if (!s) return;
    s.isPlaying = false;
    if (rewind) s.position = 0;
    stopTicker(sessionId);
    s.lastActiveAt = Date.now();
    io.to(sessionId).emit("snapshot", snapshot(s));
    io.to(sessionId).emit("pause", { sessionId, position: s.position, serverTimestamp: Date.now() });
  };
  socket.on("pause", ({ sessionId } = {}) => halt(sessionId, false));
  socket.on("stop", ({ sessionId } = {}) => halt(sessionId, true));

  socket.on("seek", ({ sessionId, position } = {}) => {
    const s = leaderOf(socket, sessionId);
    if (!s) return;
    s.position = position;
    s.lastActiveAt = Date.now();
    io.to(sessionId).emit("snapshot", snapshot(s));
    io.to(sessionId).emit("seek", { sessionId, position, serverTimestamp: Date.now() });
  });

  socket.on("sync_request", ({ sessionId } = {}) => {
    const s = memberOf(socket, sessionId);
    if (!s) return;
    socket.emit("sync_response", {
      sessionId,
      positionMs: s.position,
      tempoBpm: s.tempoBpm,
      isPlaying: s.isPlaying,
      serverTime: Date.now(),
    });
  });

  socket.on("latency_probe", ({ timestamp } = {}) => {
    const serverTimestamp = Date.now();
    socket.emit("latency_response", { clientTimestamp: timestamp, serverTimestamp });
    recordLatency(socket, serverTimestamp - timestamp);
  });

  socket.on("heartbeat_response", ({ timestamp } = {}) => {
    recordLatency(socket, Date.now() - timestamp);
  });

  socket.on("disconnect", () => {
    performance.activeConnections -= 1;
    const conn = connections.get(socket.id);
    if (conn && conn.sessionId) leave(socket, conn.sessionId);
    connections.delete(socket.id);
    debug(`disconnect ${socket.id}`);
  });
});

setInterval(() => {
  const timestamp = Date.now();
  for (const [id, conn] of connections) {
    if (conn.latency !== null && conn.latency >= HEALTHY_LATENCY_MS) continue;
    const socket = io.sockets.sockets.get(id);
    if (socket) socket.emit("heartbeat", { timestamp });
  }
}, HEARTBEAT_MS);

setInterval(() => {
  performance.messagesPerSecond = messageCount;
  messageCount = 0;
  performance.lastResetTime = Date.now();
  let sum = 0;
  let n = 0;
  for (const conn of connections.values()) {
    if (conn.latency !== null) {
      sum += conn.latency;
      n += 1;
    }
  }
  performance.averageLatency = n ? Math.round((sum / n) * 100) / 100 : 0;
}, 1000);

setInterval(() => {
  info(
    `metrics: connections=${performance.activeConnections} sessions=${sessions.size} ` +
      `playing=${intervals.size} messagesPerSecond=${performance.messagesPerSecond}`,
  );
}, METRICS_INTERVAL);

function sessionStats() {
  let members = 0;
  let active = 0;
  for (const s of sessions.values()) {
    members += s.members.size;
    if (s.members.size > 0) active += 1;
  }
  return {
    totalSessions: sessions.size,
    activeSessions: active,
    playingSessions: intervals.size,
    totalMembers: members,
  };
}

app.get("/", (_req, res) => {
  res.json({ ok: true, timestamp: new Date().toISOString(), performance });
});

app.get("/health", (_req, res) => {
  res.json({
    status: "healthy",
    redis: false,
    performance,
    sessionStats: sessionStats(),
    uptime: process.uptime(),
  });
});

server.listen(PORT, HOST, () => info(`baseline BandSync (Node ${process.version}) on ${HOST}:${PORT}`));

const shutdown = () => {
  for (const id of intervals.keys()) stopTicker(id);
  io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1500).unref();
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
