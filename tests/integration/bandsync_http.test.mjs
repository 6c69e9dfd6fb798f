// BandSync over plain HTTP (EVENTS.md "HTTP" and "Configuration"): the JSON
// routes, /metrics, security headers, the per-IP rate limit (which must not
// cut off a band's established polling connections), configuration
// validation and precedence (.env < environment < flags), the default
// dual-stack listener, and graceful shutdown.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { CONFIG_VARS, emptyCwd, startServer } from "./lib/server.mjs";
import {
  BANDSYNC_BIN,
  DeviceJar,
  WAIT_MS,
  canConnect,
  cleanEnv,
  freePort,
  hasIpv6Loopback,
  join,
  launch,
  parseMetrics,
  sessionName,
  sleep,
  waitListening,
  withTimeout,
} from "./lib/bandsync.mjs";

const HOST = "127.0.0.1";
const get = (url, init = {}) => fetch(url, { signal: AbortSignal.timeout(WAIT_MS), ...init });

const PERFORMANCE_FIELDS = ["totalConnections", "activeConnections", "messagesPerSecond", "averageLatency", "lastResetTime"];

function checkPerformance(perf, what) {
  assert.ok(perf && typeof perf === "object", `${what}.performance must be an object`);
  for (const k of PERFORMANCE_FIELDS) {
    assert.equal(typeof perf[k], "number", `${what}.performance.${k} must be a number: ${JSON.stringify(perf)}`);
    assert.ok(Number.isFinite(perf[k]) && perf[k] >= 0, `${what}.performance.${k} = ${perf[k]}`);
  }
}

// helmet's defaults, as the Express server sent them.
const SECURITY_HEADERS = {
  "content-security-policy": (v) => /default-src/.test(v),
  "strict-transport-security": (v) => /max-age=\d+/.test(v),
  "x-content-type-options": (v) => v === "nosniff",
  "x-frame-options": (v) => v === "SAMEORIGIN",
  "referrer-policy": (v) => v === "no-referrer",
  "cross-origin-opener-policy": (v) => v.length > 0,
  "cross-origin-resource-policy": (v) => v.length > 0,
  "x-dns-prefetch-control": (v) => v === "off",
  "x-permitted-cross-domain-policies": (v) => v === "none",
  "origin-agent-cluster": (v) => v.length > 0,
  "x-xss-protection": (v) => v === "0",
};

function checkSecurityHeaders(res, what) {
  const problems = [];
  for (const [name, ok] of Object.entries(SECURITY_HEADERS)) {
    const v = res.headers.get(name);
    if (v === null) problems.push(`${name} missing`);
    else if (!ok(v)) problems.push(`${name}: ${JSON.stringify(v)}`);
  }
  assert.deepEqual(problems, [], `${what}: security headers`);
}

// ---------------------------------------------------------------------------

describe("HTTP routes", () => {
  let server;
  const jar = new DeviceJar();

  before(async () => {
    server = await startServer(["serve"]);
  });
  afterEach(() => jar.closeAll());
  after(async () => {
    jar.closeAll();
    if (!server) return;
    const alive = server.alive();
    const exit = await server.stop();
    assert.ok(alive, `the server died; stderr:\n${server.stderr()}`);
    assert.equal(exit.code, 0, `the server exited with ${JSON.stringify(exit)}`);
  });

  it("GET / → 200 { ok: true, timestamp (ISO 8601), performance }", async () => {
    const before = Date.now();
    const res = await get(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.equal(body.ok, true);
    assert.equal(typeof body.timestamp, "string");
    assert.match(body.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, "timestamp must be ISO 8601");
    const t = Date.parse(body.timestamp);
    assert.ok(Number.isFinite(t) && Math.abs(t - before) < 5_000, `timestamp ${body.timestamp} is not now`);
    checkPerformance(body.performance, "GET /");
  });

  it('GET /health → { status: "healthy", redis: false, performance, sessionStats, uptime (s) }', async () => {
    const res = await get(`${server.url}/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.equal(body.status, "healthy");
    assert.equal(body.redis, false);
    checkPerformance(body.performance, "GET /health");
    assert.ok(body.sessionStats && typeof body.sessionStats === "object" && !Array.isArray(body.sessionStats), `sessionStats: ${JSON.stringify(body.sessionStats)}`);
    assert.equal(typeof body.uptime, "number");
    // In seconds: this server has been up for well under a minute.
    assert.ok(body.uptime >= 0 && body.uptime < 60, `uptime ${body.uptime} must be seconds since start`);
  });

  it("GET /metrics → Prometheus text with connections, sessions, playing sessions, events and tick lag", async () => {
    // Some activity first: a playing session with two members.
    const sessionId = sessionName("band-metrics");
    const a = await jar.connect(server.url, {}, "a");
    await join(a, sessionId);
    const b = await jar.connect(server.url, {}, "b");
    await join(b, sessionId, {}, [a]);
    const m = b.mark();
    a.emit("play", { sessionId });
    await b.waitCount("scroll_tick", 3, { after: m });

    const res = await get(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    const samples = parseMetrics(text);
    for (const name of ["bandsync_connections", "bandsync_sessions", "bandsync_playing_sessions"]) {
      assert.ok(samples.has(name), `${name} missing from /metrics`);
      assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, "m"), `${name} must be a gauge`);
    }
    assert.ok(samples.get("bandsync_connections") >= 2, "bandsync_connections counts the two devices");
    assert.ok(samples.get("bandsync_sessions") >= 1, "bandsync_sessions");
    assert.ok(samples.get("bandsync_playing_sessions") >= 1, "bandsync_playing_sessions");
    assert.ok((samples.get('bandsync_events_total{event="join_session"}') ?? 0) >= 2, "bandsync_events_total{event=\"join_session\"}");
    assert.ok((samples.get('bandsync_events_total{event="play"}') ?? 0) >= 1, "bandsync_events_total{event=\"play\"}");
    const buckets = [...samples.keys()].filter((k) => k.startsWith("bandsync_tick_lag_ms_bucket{"));
    assert.ok(buckets.length > 0, "bandsync_tick_lag_ms_bucket missing");
    assert.ok(samples.get('bandsync_tick_lag_ms_bucket{le="+Inf"}') >= 3, "the tick lag histogram counts the ticks");
    // Every error code the server can send (all of them are listed, at 0
    // until used) has its row in docs/EVENTS.md "Error codes".
    const codes = [...text.matchAll(/^bandsync_errors_total\{code="([A-Z_]+)"\}/gm)].map((x) => x[1]);
    assert.ok(codes.length >= 13, `error codes in /metrics: ${codes}`);
    const events = await readFile(path.join(import.meta.dirname, "../../docs/EVENTS.md"), "utf8");
    const errorTable = events.slice(events.indexOf("### Error codes"), events.indexOf("`/metrics` counts every code"));
    const undocumented = codes.filter((c) => !errorTable.includes(`\n| \`${c}\` |`));
    assert.deepEqual(undocumented, [], 'error codes without a row in docs/EVENTS.md "Error codes"');
    a.emit("pause", { sessionId });
    await b.waitFor("pause", { after: m });
  });

  it("security headers on /, /health, a 404 and an Engine.IO polling handshake", async () => {
    for (const target of ["/", "/health", "/no/such/route", "/socket.io/?EIO=4&transport=polling"]) {
      const res = await get(`${server.url}${target}`);
      await res.arrayBuffer();
      checkSecurityHeaders(res, `GET ${target} (${res.status})`);
    }
  });

  it("an unknown route → 404 with a JSON body", async () => {
    for (const [method, target] of [
      ["GET", "/no/such/route"],
      ["GET", "/healthz"],
      ["POST", "/nothing"],
    ]) {
      const res = await get(`${server.url}${target}`, { method, body: method === "POST" ? "{}" : undefined });
      assert.equal(res.status, 404, `${method} ${target}`);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/, `${method} ${target}: content-type`);
      const body = await res.json();
      assert.ok(body && typeof body === "object", `${method} ${target}: JSON object body`);
    }
  });
});

// ---------------------------------------------------------------------------

describe("rate limit (RATE_LIMIT_MAX=5, RATE_LIMIT_WINDOW=60000)", () => {
  const servers = [];
  const jar = new DeviceJar();

  async function limitedServer() {
    const port = await freePort();
    const s = launch(["serve", "--port", String(port), "--host", HOST], {
      env: cleanEnv({ RATE_LIMIT_MAX: "5", RATE_LIMIT_WINDOW: "60000" }),
    });
    servers.push(s);
    assert.ok(await waitListening(s, port, HOST), `the server did not start; stderr:\n${s.stderr()}`);
    return { ...s, url: `http://${HOST}:${port}` };
  }

  afterEach(() => jar.closeAll());
  after(async () => {
    jar.closeAll();
    for (const s of servers) {
      const exit = await s.stop();
      assert.equal(exit.code, 0, `a rate-limited server exited with ${JSON.stringify(exit)}; stderr:\n${s.stderr()}`);
    }
  });

  it("the 6th request → 429 with Retry-After and a JSON body; new Engine.IO handshakes are not limited by it", async () => {
    const s = await limitedServer();
    for (let i = 1; i <= 5; i++) {
      const res = await get(`${s.url}/`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, `request ${i} of 5`);
    }
    const res = await get(`${s.url}/`);
    assert.equal(res.status, 429, "the 6th GET /");
    const retryAfter = res.headers.get("retry-after");
    assert.ok(retryAfter !== null, "429 without Retry-After");
    assert.match(retryAfter, /^\d+$/, `Retry-After: ${retryAfter}`);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter} must be within the 60 s window`);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.ok(body && typeof body === "object", "429 body must be a JSON object");

    // RATE_LIMIT_* covers the plain HTTP routes only: Engine.IO handshakes
    // have their own per-address bucket (HANDSHAKE_RATE / HANDSHAKE_BURST).
    const hs = await get(`${s.url}/socket.io/?EIO=4&transport=polling`);
    const hsBody = await hs.text();
    assert.equal(hs.status, 200, `a new Engine.IO handshake after the HTTP limit: ${hs.status} ${hsBody}`);
  });

  it("GET /health is outside RATE_LIMIT_*: it still answers 200 once the address is limited, and does not count", async () => {
    const s = await limitedServer();
    for (let i = 0; i < 20; i++) {
      const res = await get(`${s.url}/health`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, `GET /health ${i + 1} before the limit`);
    }
    const first = await get(`${s.url}/`);
    await first.arrayBuffer();
    assert.equal(first.status, 200, "/health requests did not use up RATE_LIMIT_MAX");
    let limited = false;
    for (let i = 0; i < 6 && !limited; i++) {
      const res = await get(`${s.url}/`);
      await res.arrayBuffer();
      limited = res.status === 429;
    }
    assert.ok(limited, "GET / must be limited after RATE_LIMIT_MAX requests");
    for (let i = 0; i < 5; i++) {
      const res = await get(`${s.url}/health`);
      const body = await res.json();
      assert.equal(res.status, 200, `GET /health ${i + 1} after the limit`);
      assert.equal(body.status, "healthy");
    }
  });

  it("an established polling connection keeps working after the address hit the limit", async () => {
    const s = await limitedServer();
    // The band's first phone connects (polling only) before the limit is hit.
    const phone = await jar.connect(s.url, { transports: ["polling"], upgrade: false }, "phone");
    assert.equal(phone.socket.io.engine.transport.name, "polling");
    let limited = false;
    for (let i = 0; i < 6 && !limited; i++) {
      const res = await get(`${s.url}/`);
      await res.arrayBuffer();
      limited = res.status === 429;
    }
    assert.ok(limited, "the address must be limited after 6 more requests");
    const hs = await get(`${s.url}/socket.io/?EIO=4&transport=polling`);
    await hs.arrayBuffer();
    assert.equal(hs.status, 200, "new handshakes are not limited by RATE_LIMIT_*");

    // Every one of these is a polling POST plus a long-poll GET.
    const sessionId = sessionName("band-limited");
    await join(phone, sessionId, { displayName: "Phone" });
    const rounds = 35;
    for (let i = 0; i < rounds; i++) {
      const m = phone.mark();
      phone.emit("sync_request", { sessionId });
      const rec = await phone.waitFor("sync_response", { after: m });
      assert.equal(rec.payload.sessionId, sessionId);
    }
    const m = phone.mark();
    phone.emit("latency_probe", { timestamp: Date.now() });
    await phone.waitFor("latency_response", { after: m });
    assert.ok(phone.socket.connected, "the established connection must survive the limit");
    assert.equal(phone.socket.io.engine.transport.name, "polling");
  });
});

// ---------------------------------------------------------------------------

function run(args, { env = cleanEnv(), timeout = 5_000 } = {}) {
  return new Promise((resolve) => {
    execFile(BANDSYNC_BIN, args, { env, timeout, cwd: emptyCwd() }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? null) : 0, signal: error?.signal ?? null, killed: error?.killed ?? false, stdout, stderr });
    });
  });
}

describe("METRICS_TOKEN=s3cret-token, HEALTH_RATE_LIMIT_MAX=3", () => {
  let s = null;
  before(async () => {
    const port = await freePort();
    const proc = launch(["serve", "--port", String(port), "--host", HOST], {
      env: cleanEnv({ METRICS_TOKEN: "s3cret-token", HEALTH_RATE_LIMIT_MAX: "3" }),
    });
    assert.ok(await waitListening(proc, port, HOST), `the server did not start; stderr:\n${proc.stderr()}`);
    s = { ...proc, url: `http://${HOST}:${port}` };
  });
  after(async () => {
    const exit = await s?.stop();
    assert.equal(exit?.code, 0, `exit ${JSON.stringify(exit)}`);
  });

  it("GET /metrics without the bearer token → 401 JSON; with it → the Prometheus text", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong-token!" }, { authorization: "s3cret-token" },
      { authorization: "Basic s3cret-token" }, { authorization: "Bearer s3cret-token2" }]) {
      const res = await get(`${s.url}/metrics`, { headers });
      assert.equal(res.status, 401, `GET /metrics with ${JSON.stringify(headers)}`);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      const body = await res.json();
      assert.equal(body.code, "UNAUTHORIZED");
      assert.doesNotMatch(JSON.stringify(body), /bandsync_/);
    }
    const res = await get(`${s.url}/metrics`, { headers: { authorization: "Bearer s3cret-token" } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^bandsync_connections /m);
  });

  it("GET /health has its own per-IP limit", async () => {
    for (let i = 1; i <= 3; i++) {
      const res = await get(`${s.url}/health`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, `GET /health ${i} of 3`);
    }
    const res = await get(`${s.url}/health`);
    await res.arrayBuffer();
    assert.equal(res.status, 429, "the 4th GET /health within the minute");
    const root = await get(`${s.url}/`);
    await root.arrayBuffer();
    assert.equal(root.status, 200, "RATE_LIMIT_* is separate");
  });
});

describe("configuration", () => {
  const tmpDirs = [];
  const servers = [];

  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
  });

  // Starts the binary with a bad value and expects a prompt non-zero exit with
  // one clear line naming `variable`.
  async function expectRejected(args, env, variable, value) {
    const s = launch(args, { env: cleanEnv(env) });
    servers.push(s);
    const exit = await withTimeout(s.exited, 5_000, `bandsync ${args.join(" ")} to exit`).catch(async (e) => {
      await s.kill();
      throw e;
    });
    const what = `bandsync ${args.join(" ")} ${JSON.stringify(env)}`;
    assert.notEqual(exit.code, 0, `${what} must fail`);
    assert.equal(exit.signal, null, `${what} must exit, not crash (${exit.signal})`);
    const lines = s.stderr().split("\n").filter((l) => l.trim());
    assert.equal(lines.length, 1, `${what}: one clear message expected, got:\n${s.stderr()}`);
    assert.ok(lines[0].includes(variable), `${what}: the message must name ${variable}: ${lines[0]}`);
    assert.ok(lines[0].includes(value), `${what}: the message should show the bad value ${value}: ${lines[0]}`);
  }

  it("invalid values exit non-zero with one message naming the variable", async () => {
    await expectRejected(["serve", "--port", "abc"], {}, "PORT", "abc");
    await expectRejected(["serve"], { PORT: "abc" }, "PORT", "abc");
    const port = String(await freePort());
    await expectRejected(["serve", "--port", port, "--host", HOST], { RATE_LIMIT_MAX: "-1" }, "RATE_LIMIT_MAX", "-1");
  });

  it("serve --help lists every configuration variable", async () => {
    const { code, stdout, stderr } = await run(["serve", "--help"]);
    assert.equal(code, 0, `serve --help: exit ${code}; ${stderr}`);
    const text = stdout + stderr;
    for (const v of [
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
      "METRICS_INTERVAL",
    ]) {
      assert.match(text, new RegExp(`\\b${v}\\b`), `serve --help must list ${v}`);
    }
    // The test launcher (lib/server.mjs) scrubs every variable the binary
    // reads from the runner's environment: a new one must be added there.
    const listed = [...text.matchAll(/\[([A-Z][A-Z0-9_]+), default:/g)].map((m) => m[1]);
    assert.ok(listed.length >= 30, `serve --help lists ${listed.length} variables`);
    const unscrubbed = listed.filter((v) => !CONFIG_VARS.includes(v));
    assert.deepEqual(unscrubbed, [], "variables the test launcher does not scrub (lib/server.mjs CONFIG_VARS)");
    // And each has its row in docs/EVENTS.md "Configuration".
    const events = await readFile(path.join(import.meta.dirname, "../../docs/EVENTS.md"), "utf8");
    const undocumented = listed.filter((v) => !events.includes(`\n| \`${v}\` |`));
    assert.deepEqual(undocumented, [], "variables without a row in docs/EVENTS.md \"Configuration\"");
  });

  it("LOG_FORMAT=json: every log line is one JSON object { time, level, msg }", async () => {
    const port = await freePort();
    const s = launch(["serve", "--port", String(port), "--host", HOST], {
      env: cleanEnv({ LOG_FORMAT: "json", LOG_LEVEL: "debug" }),
    });
    servers.push(s);
    assert.ok(await waitListening(s, port, HOST), `not listening; stderr:\n${s.stderr()}`);
    const jar = new DeviceJar();
    try {
      const d = await jar.connect(`http://${HOST}:${port}`, {}, "json-log");
      await join(d, sessionName("band-json"), { displayName: 'Ke"ys \\ 🎸' });
      const m = d.mark();
      d.emit("join_session", { sessionId: 'no "such" \\ id' });
      await d.waitFor("error", { after: m });
    } finally {
      jar.closeAll();
    }
    const exit = await s.stop();
    assert.equal(exit.code, 0);
    const lines = s.stderr().split("\n").filter((l) => l.trim());
    assert.ok(lines.length >= 4, `log lines:\n${s.stderr()}`);
    for (const line of lines) {
      let o;
      assert.doesNotThrow(() => (o = JSON.parse(line)), `not JSON: ${line}`);
      assert.deepEqual(Object.keys(o), ["time", "level", "msg"], line);
      assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    }
    assert.ok(lines.some((l) => JSON.parse(l).msg.includes("rejected: INVALID_PAYLOAD")), "the refusal is logged");
  });

  it("a .env file is honoured; the environment overrides it; a flag overrides both", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "bandsync-env-"));
    tmpDirs.push(dir);
    const [fromFile, fromEnv, fromFlag] = [await freePort(), await freePort(), await freePort()];
    const envFile = path.join(dir, "test.env");
    await writeFile(envFile, `# BandSync test configuration\n\nPORT=${fromFile}\nHOST=${HOST}\n`);

    const cases = [
      ["the .env file", [], {}, fromFile],
      ["the environment over .env", [], { PORT: String(fromEnv) }, fromEnv],
      ["a flag over both", ["--port", String(fromFlag)], { PORT: String(fromEnv) }, fromFlag],
    ];
    for (const [what, flags, env, expected] of cases) {
      const s = launch(["serve", "--env-file", envFile, ...flags], { env: cleanEnv(env), cwd: dir });
      servers.push(s);
      try {
        assert.ok(await waitListening(s, expected, HOST), `${what}: not listening on ${expected}; stderr:\n${s.stderr()}`);
        const res = await get(`http://${HOST}:${expected}/health`);
        assert.equal(res.status, 200, `${what}: GET /health`);
        await res.arrayBuffer();
        for (const other of [fromFile, fromEnv, fromFlag].filter((p) => p !== expected)) {
          assert.equal(await canConnect(other, HOST), false, `${what}: must not listen on ${other}`);
        }
      } finally {
        const exit = await s.stop();
        assert.equal(exit.code, 0, `${what}: exit ${JSON.stringify(exit)}`);
      }
    }
  });

  it("the default HOST listens on IPv6 too: a client on http://[::1]:PORT works", async (t) => {
    if (!(await hasIpv6Loopback())) {
      t.skip("no IPv6 loopback on this machine");
      return;
    }
    const port = await freePort();
    const s = launch(["serve", "--port", String(port)]);
    servers.push(s);
    const jar = new DeviceJar();
    try {
      assert.ok(await waitListening(s, port, "::1"), `not listening on [::1]:${port}; stderr:\n${s.stderr()}`);
      const url = `http://[::1]:${port}`;
      const res = await get(`${url}/health`);
      assert.equal(res.status, 200, "GET http://[::1]/health");
      assert.equal((await res.json()).status, "healthy");
      const device = await jar.connect(url, { transports: ["websocket"] }, "ipv6");
      const snap = await join(device, sessionName("band-v6"), { displayName: "Six" });
      assert.equal(snap.leaderSocketId, device.id);
      // "::" is every interface: IPv4 clients are served as well.
      const v4 = await get(`http://${HOST}:${port}/health`);
      assert.equal(v4.status, 200, "GET http://127.0.0.1/health on the default host");
      await v4.arrayBuffer();
    } finally {
      jar.closeAll();
      const exit = await s.stop();
      assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
    }
  });
});

// ---------------------------------------------------------------------------

describe("graceful shutdown", () => {
  let server;
  const jar = new DeviceJar();

  after(async () => {
    jar.closeAll();
    if (server) await server.stop();
  });

  it("SIGTERM with 3 WebSocket and 1 polling client: exit 0 within 2 s, every client told", async () => {
    server = await startServer(["serve"]);
    const sessionId = sessionName("band-shutdown");
    const devices = [];
    for (const [label, options] of [
      ["ws1", { transports: ["websocket"] }],
      ["ws2", { transports: ["websocket"] }],
      ["ws3", { transports: ["websocket"] }],
      ["poll", { transports: ["polling"], upgrade: false }],
    ]) {
      const d = await jar.connect(server.url, options, label);
      await join(d, sessionId, {}, devices);
      devices.push(d);
    }
    // Playing, so ticks are in flight when the signal comes.
    const m = devices[3].mark();
    devices[0].emit("play", { sessionId });
    await devices[3].waitCount("scroll_tick", 2, { after: m });

    const t0 = Date.now();
    server.proc.kill("SIGTERM");
    const exit = await withTimeout(server.exited, 2_000, "the server to exit after SIGTERM");
    const elapsed = Date.now() - t0;
    assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}; stderr:\n${server.stderr()}`);
    assert.ok(elapsed <= 2_000, `the server took ${elapsed} ms to exit`);

    const reasons = await Promise.all(
      devices.map((d) => withTimeout(d.disconnected, 2_000, `${d.label} to see the disconnect`).then((r) => [d, r])),
    );
    const wrong = reasons
      .filter(([, reason]) => !["io server disconnect", "transport close"].includes(reason))
      .map(([d, reason]) => `${d.label}: disconnect reason ${JSON.stringify(reason)} (${d.closeDetail})`);
    assert.deepEqual(wrong, [], "every client must be told of the shutdown");
  });

  // The deterministic form of a race in the test above: a polling client
  // re-polls right after each answer, so at any moment it may have no GET
  // pending. Its next GET, sent as the shutdown begins, must still get the
  // close packet (socket.io-client: "transport close"), not 400 "Session ID
  // unknown" or a refused connection (both "transport error").
  it("SIGTERM while a polling client is between two polls: its next poll gets the close packet", async () => {
    const s = await startServer(["serve"]);
    try {
      const base = `${s.url}/socket.io/?EIO=4&transport=polling`;
      const hs = await (await get(base)).text();
      assert.match(hs, /^0\{/, `handshake: ${hs}`);
      const { sid } = JSON.parse(hs.slice(1));
      const url = `${base}&sid=${encodeURIComponent(sid)}`;
      const posted = await get(url, { method: "POST", body: "40", headers: { "content-type": "text/plain;charset=UTF-8" } });
      assert.equal(posted.status, 200, "namespace connect");
      await posted.arrayBuffer();
      const connected = await (await get(url)).text();
      assert.match(connected, /^40\{/, `namespace connect answer: ${connected}`);

      // No GET pending now. The signal, then the client's next poll at once.
      s.proc.kill("SIGTERM");
      let outcome;
      try {
        const res = await get(url);
        outcome = { status: res.status, body: await res.text() };
      } catch (err) {
        outcome = { error: err.cause?.code ?? err.message };
      }
      const packets = outcome.body?.split("\x1e") ?? [];
      assert.ok(
        outcome.status === 200 && (packets.includes("1") || packets.includes("41")),
        `the poll sent as the shutdown began must get the close packet "1" (or a disconnect "41"); got ${JSON.stringify(outcome)}`,
      );
      const exit = await withTimeout(s.exited, 2_000, "the server to exit after SIGTERM");
      assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
    } finally {
      await s.stop();
    }
  });
});
