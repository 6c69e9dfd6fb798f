// The one launcher of the real `bandsync` binary for black-box tests, and the
// small helpers every suite shares (sleep, withTimeout, canConnect, freePort).
//
// The binary comes from $BANDSYNC_BIN (set by ctest), else from the default
// build directory: ../../build/app/bandsync relative to tests/integration.
// Every server runs with the configuration variables removed from its
// environment (cleanEnv) and in an empty temporary working directory, so that
// neither the runner's REDIS_HOST nor a stray ./.env changes what is tested;
// a test passes `env` / `cwd` to choose them. Servers started with
// startServer listen on 127.0.0.1 on a port found free just before the start.
// Tests must call stop() (or kill()) on every server they start; the exit
// hook below only catches servers a crashed test left behind, and it signals
// them by PID, never by name.

import assert from "node:assert/strict";
import { after, afterEach, before } from "node:test";
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const integrationDir = path.resolve(here, "..");

export const BANDSYNC_BIN = process.env.BANDSYNC_BIN
  ? path.resolve(process.env.BANDSYNC_BIN)
  : path.resolve(integrationDir, "../../build/app/bandsync");

export const HOST = "127.0.0.1";

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const STDERR_KEEP = 64 * 1024;

const running = new Set();
let emptyDir = null;
process.on("exit", () => {
  for (const proc of running) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (emptyDir) rmSync(emptyDir, { recursive: true, force: true });
});

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Rejects after `ms` with a message naming what was awaited.
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A loopback port nobody listens on right now (the OS picks it).
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export function canConnect(port, host = HOST) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

// Configuration variables the binary reads; removed from the environment of
// every server started here so that the runner's own environment cannot
// change what is tested. bandsync_http's "serve --help" case fails when the
// binary reads a variable that is missing here.
export const CONFIG_VARS = [
  "PORT",
  "HOST",
  "CORS_ORIGIN",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_PASSWORD",
  "REDIS_DB",
  "SOCKET_PING_INTERVAL",
  "SOCKET_PING_TIMEOUT",
  "SOCKET_MAX_BUFFER_SIZE",
  "RATE_LIMIT_WINDOW",
  "RATE_LIMIT_MAX",
  "LOG_LEVEL",
  "LOG_FORMAT",
  "METRICS_INTERVAL",
  "SESSION_IDLE_TIMEOUT",
  "SWEEP_INTERVAL",
  "CONNECT_TIMEOUT",
  "HANDSHAKE_RATE",
  "HANDSHAKE_BURST",
  "MAX_CONNECTIONS_PER_ADDRESS",
  "HTTP_HEADER_TIMEOUT",
  "SERVE_CLIENT",
  "HEALTH_RATE_LIMIT_MAX",
  "METRICS_TOKEN",
  "SESSION_CREATE_BURST",
  "SESSION_CREATE_PER_MINUTE",
  "SESSION_CREATE_ADDRESS_BURST",
  "SESSION_CREATE_ADDRESS_PER_MINUTE",
  "SOCKET_RECOVERY_WINDOW",
  "LEADER_GRACE",
  "PLAY_LEAD_MS",
  "CLUSTER",
  "NODE_ID",
];

// The runner's environment without the configuration variables, plus `extra`.
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of CONFIG_VARS) delete env[k];
  return { ...env, ...extra };
}

// An empty working directory, so that no stray ./.env changes a test (for a
// process started without this file's launcher, e.g. under prlimit).
export function emptyCwd() {
  emptyDir ??= mkdtempSync(path.join(os.tmpdir(), "bandsync-cwd-"));
  return emptyDir;
}

// BANDSYNC_TEST_LOG_DIR=<dir>: every server's whole stderr also goes to
// <dir>/<NODE_ID or "server">-<pid>.log (the handle keeps only the last
// 64 KiB), to read the order of a race after the fact; with LOG_LEVEL in the
// runner's environment (e.g. debug) every server logs at that level.
const LOG_DIR = process.env.BANDSYNC_TEST_LOG_DIR;
const LOG_LEVEL = LOG_DIR ? process.env.LOG_LEVEL : undefined;

function spawnServer(args, { env = cleanEnv(), cwd = emptyCwd() } = {}) {
  if (LOG_LEVEL) env = { ...env, LOG_LEVEL: env.LOG_LEVEL ?? LOG_LEVEL };
  const proc = spawn(BANDSYNC_BIN, args, { env, cwd, stdio: ["ignore", "ignore", "pipe"] });
  running.add(proc);
  let stderr = "";
  let logFile = null;
  if (LOG_DIR && proc.pid) {
    mkdirSync(LOG_DIR, { recursive: true });
    logFile = path.join(LOG_DIR, `${env.NODE_ID ?? "server"}-${proc.pid}.log`);
  }
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
    if (logFile) appendFileSync(logFile, chunk);
  });
  const exited = new Promise((resolve) => {
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });
  proc.once("error", () => {}); // spawn failure shows up as an exit below
  return { proc, exited, stderr: () => stderr };
}

// Starts `bandsync <args>` exactly as given (no --port/--host added), with
// `env` (default: cleanEnv()) in `cwd` (default: an empty directory), and
// resolves at once to the handle described at startServer; `exited`
// resolves to { code, signal }. For configuration tests.
export function launch(args, options = {}) {
  const { proc, exited, stderr } = spawnServer(args, options);
  return makeHandle(proc, exited, stderr, null);
}

// Runs `bandsync <args>` to completion (the bench tools): resolves to
// { code, stdout, stderr }; killed and rejected after timeoutMs.
export function runBandsync(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    // Scrubbed as every server here: the bench tools start servers of their own.
    const proc = spawn(BANDSYNC_BIN, args, { env: cleanEnv(), cwd: emptyCwd(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.setEncoding("utf8").on("data", (c) => (stdout += c));
    proc.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`bandsync ${args.join(" ")} ran over ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once("error", reject);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// Resolves true once `port` on `host` accepts connections, false if the
// server exits first or `ms` pass.
export async function waitListening(server, port, host = HOST, ms = READY_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  while (server.alive() && Date.now() < deadline) {
    if (await canConnect(port, host)) return true;
    await sleep(50);
  }
  return false;
}

// Whether this machine can listen on the IPv6 loopback.
export function hasIpv6Loopback() {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", () => resolve(false));
    probe.listen(0, "::1", () => probe.close(() => resolve(true)));
  });
}

// Starts `bandsync <args...> --port P --host 127.0.0.1` and resolves once it
// accepts TCP connections. `options.port` pins the port (to restart a server
// where a client expects it); otherwise a free one is chosen, and the start is
// retried with another port if the chosen one was taken in between.
// `options.env` and `options.cwd` as for launch().
//
// Resolves to { port, url, proc, exited, stderr(), alive(), stop(), kill() }:
//   stop()  SIGTERM, wait for the exit, SIGKILL after 3 s; resolves to
//           { code, signal, forced } (forced: SIGKILL was needed).
//   kill()  SIGKILL at once (a crash, as seen by clients); resolves on exit.
export async function startServer(args, options = {}) {
  if (CLUSTER_NODES > 1 && clusterable(args, options)) {
    return startCluster(CLUSTER_NODES, options.cluster ? options.env : undefined);
  }
  const attempts = options.port ? 1 : 3;
  let lastError;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort());
    const { proc, exited, stderr } = spawnServer([...args, "--port", String(port), "--host", HOST], {
      env: options.env,
      cwd: options.cwd,
    });
    let exitInfo = null;
    exited.then((info) => {
      exitInfo = info;
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!exitInfo && Date.now() < deadline) {
      if (await canConnect(port)) {
        ready = true;
        break;
      }
      await sleep(50);
    }
    if (ready && !exitInfo) {
      return makeHandle(proc, exited, stderr, port);
    }
    if (!exitInfo) {
      proc.kill("SIGKILL");
      await exited;
      throw new Error(
        `bandsync ${args.join(" ")} did not accept connections on port ${port} ` +
          `within ${READY_TIMEOUT_MS} ms; stderr:\n${stderr()}`,
      );
    }
    lastError = new Error(
      `bandsync ${args.join(" ")} (${BANDSYNC_BIN}) exited early ` +
        `(code ${exitInfo.code}, signal ${exitInfo.signal}) on port ${port}; stderr:\n${stderr()}`,
    );
  }
  throw lastError;
}

// ------------------------------------------------------------ cluster mode
//
// BANDSYNC_TEST_NODES=N (N >= 2) turns every plain `startServer(["serve"])`
// (no env, cwd or port chosen by the test) into a cluster: one real
// redis-server and N `bandsync serve` nodes on it (NODE_ID node-1..N), so that
// the contract suites run with a band's members spread over nodes
// (integration.cluster_contract). The handle looks like one server's:
//   url      node 1's URL, stable, for HTTP checks; a Device created with it
//            connects to the next node in turn (nodeFor), so consecutive
//            devices land on different nodes;
//   urls     every node's URL; metrics(url) in bandsync.mjs sums them all;
//   alive()  every node is alive; stop() stops the nodes then Redis.
// Servers started with their own env/port/cwd (configuration tests) stay
// single nodes, unless the test passes `cluster: true` with its env (settings
// such as SOCKET_RECOVERY_WINDOW that every node gets, added to the cluster's
// own: bandsync_seats).
export const CLUSTER_NODES = Number(process.env.BANDSYNC_TEST_NODES ?? 0);

const clusters = new Map(); // node 1's url -> { urls, next }

function clusterable(args, options) {
  return (
    args.length === 1 &&
    args[0] === "serve" &&
    (!options.env || options.cluster === true) &&
    !options.cwd &&
    !options.port
  );
}

// The URL a new device should connect to: `url` itself, or, for a cluster's
// URL, its next node in round-robin order.
export function nodeFor(url) {
  const c = clusters.get(url);
  if (!c) return url;
  const chosen = c.urls[c.next % c.urls.length];
  c.next += 1;
  return chosen;
}

// Every node of the cluster whose URL is `url`, or [url].
export function clusterUrls(url) {
  return clusters.get(url)?.urls ?? [url];
}

async function startCluster(count, env = undefined) {
  // Only cluster mode needs Redis (a cycle with redis.mjs, resolved at call time).
  const { redisMissing, startRedis } = await import("./redis.mjs");
  const missing = redisMissing();
  if (missing) throw new Error(`BANDSYNC_TEST_NODES=${count}: ${missing}`);
  const redis = await startRedis();
  const nodes = [];
  try {
    for (let i = 1; i <= count; i++) {
      const nodeEnv = {
        ...(env ?? cleanEnv()),
        REDIS_HOST: HOST,
        REDIS_PORT: String(redis.port),
        NODE_ID: `node-${i}`,
      };
      nodes.push(await startServer(["serve"], { env: nodeEnv }));
    }
    // Every node has seen every other's heartbeat before a device connects.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const n of nodes) {
      for (;;) {
        const h = await fetch(`${n.url}/health`)
          .then((r) => r.json())
          .catch(() => null);
        if (h?.cluster?.peers?.length === count) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${n.url} did not see ${count} peers: ${JSON.stringify(h)}`);
        await sleep(50);
      }
    }
  } catch (err) {
    for (const n of nodes) await n.kill();
    await redis.kill();
    throw err;
  }
  const urls = nodes.map((n) => n.url);
  clusters.set(urls[0], { urls, next: 0 });
  const stderr = () => nodes.map((n, i) => `--- node-${i + 1}\n${n.stderr()}`).join("\n");
  return {
    port: nodes[0].port,
    url: urls[0],
    wsUrl: nodes[0].wsUrl,
    urls,
    nodes,
    redis,
    proc: nodes[0].proc,
    stderr,
    alive: () => nodes.every((n) => n.alive()),
    exited: Promise.all(nodes.map((n) => n.exited)).then((all) => all.find((e) => e.code !== 0) ?? all[0]),
    async stop(graceMs = STOP_GRACE_MS) {
      const exits = [];
      for (const n of nodes) exits.push(await n.stop(graceMs));
      await redis.stop();
      clusters.delete(urls[0]);
      return exits.find((e) => e.forced || e.code !== 0) ?? exits[0];
    },
    async kill() {
      for (const n of nodes) await n.kill();
      await redis.kill();
      clusters.delete(urls[0]);
      return nodes[0].exited;
    },
  };
}

function makeHandle(proc, exited, stderr, port) {
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });
  return {
    port,
    url: port === null ? null : `http://${HOST}:${port}`,
    wsUrl: port === null ? null : `ws://${HOST}:${port}`,
    proc,
    stderr,
    // Synchronous, so that it is right even before the exit promise settles.
    alive: () => exitInfo === null && proc.exitCode === null && proc.signalCode === null,
    exited,
    async stop(graceMs = STOP_GRACE_MS) {
      if (exitInfo) return { ...exitInfo, forced: false };
      proc.kill("SIGTERM");
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), graceMs);
      });
      const info = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (info) return { ...info, forced: false };
      proc.kill("SIGKILL");
      return { ...(await exited), forced: true };
    },
    async kill() {
      if (!exitInfo) proc.kill("SIGKILL");
      return exited;
    },
  };
}

// One server for a whole test file (or describe block): started before the
// first test, checked alive after each test (after `cleanup`, which closes the
// test's clients), and stopped after the last one, which must be a clean exit
// 0 on SIGTERM. Returns a stand-in for the server that is usable once the
// suite has started.
export function serverPerSuite(args, cleanup) {
  let server = null;
  before(async () => {
    server = await startServer(args);
  });
  afterEach(() => {
    cleanup();
    assert.ok(server.alive(), `the server died during the test; stderr:\n${server.stderr()}`);
  });
  after(async () => {
    cleanup();
    if (!server) return;
    const exit = await server.stop();
    assert.equal(exit.forced, false, "the server ignored SIGTERM");
    assert.equal(exit.code, 0, `the server exited with ${JSON.stringify(exit)}`);
  });
  return new Proxy(
    {},
    {
      get(_, key) {
        const value = server[key];
        return typeof value === "function" ? value.bind(server) : value;
      },
    },
  );
}
