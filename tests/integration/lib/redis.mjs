// A real redis-server for the integration tests, and a minimal RESP client to
// look at what BandSync stored.
//
// The server is /usr/bin/redis-server (Debian's), started by the test on a
// free loopback port with no persistence (--save "" --appendonly no) in a
// temporary directory. Only the PIDs started here are ever signalled; the
// exit hook kills the ones a crashed test left behind.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { freePort, HOST, sleep } from "./server.mjs";

export const REDIS_SERVER = "/usr/bin/redis-server";

// Why the Redis tests cannot run (the binary is missing), or null.
export function redisMissing() {
  return existsSync(REDIS_SERVER)
    ? null
    : `${REDIS_SERVER} is not installed: the Redis tests need a real redis-server ` +
        "(apt-get install redis-server; `make deps` does it)";
}


const running = new Set();
const dirs = new Set();
process.on("exit", () => {
  for (const proc of running) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ------------------------------------------------------------------- RESP

function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const b = Buffer.from(String(a));
    out += `$${b.length}\r\n${b.toString("binary")}\r\n`;
  }
  return Buffer.from(out, "binary");
}

// Parses one reply at `buf[pos]`; returns { value, pos } or null when
// incomplete. Errors become { error: "..." }.
function parse(buf, pos) {
  const eol = buf.indexOf("\r\n", pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString("utf8", pos + 1, eol);
  let next = eol + 2;
  switch (type) {
    case "+":
      return { value: line, pos: next };
    case "-":
      return { value: { error: line }, pos: next };
    case ":":
      return { value: Number(line), pos: next };
    case "$": {
      const n = Number(line);
      if (n < 0) return { value: null, pos: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString("utf8", next, next + n), pos: next + n + 2 };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { value: null, pos: next };
      const items = [];
      for (let i = 0; i < n; i++) {
        const r = parse(buf, next);
        if (!r) return null;
        items.push(r.value);
        next = r.pos;
      }
      return { value: items, pos: next };
    }
    default:
      throw new Error(`RESP: unexpected type byte ${JSON.stringify(type)}`);
  }
}

// A pipelining RESP client on one connection.
export class RespClient {
  static connect(port, host = HOST) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once("connect", () => {
        socket.removeListener("error", reject);
        resolve(new RespClient(socket));
      });
      socket.once("error", reject);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    socket.on("data", (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        const r = this.waiting.length ? parse(this.buf, 0) : null;
        if (!r) break;
        this.buf = this.buf.subarray(r.pos);
        this.waiting.shift().resolve(r.value);
      }
    });
    const failAll = (err) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    socket.on("error", failAll);
    socket.on("close", () => failAll(new Error("redis connection closed")));
  }

  command(...args) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encode(args));
    });
  }

  close() {
    this.socket.destroy();
  }
}

// One command on a fresh connection.
export async function redisCommand(port, ...args) {
  const c = await RespClient.connect(port);
  try {
    return await c.command(...args);
  } finally {
    c.close();
  }
}

// Every key matching `pattern`, with SCAN.
export async function scanKeys(port, pattern) {
  const c = await RespClient.connect(port);
  try {
    const keys = [];
    let cursor = "0";
    do {
      const [next, page] = await c.command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000);
      keys.push(...page);
      cursor = next;
    } while (cursor !== "0");
    return keys;
  } finally {
    c.close();
  }
}

// The parsed JSON value of `key`, or null.
export async function getJson(port, key) {
  const v = await redisCommand(port, "GET", key);
  return v === null ? null : JSON.parse(v);
}

// ------------------------------------------------------------------ server

// Starts redis-server and resolves once it answers PING:
// { port, pid, stop() (SIGTERM), kill() (SIGKILL), start() (again, same port,
// empty), stderr() }.
export async function startRedis({ port } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bandsync-redis-"));
  dirs.add(dir);
  const handle = { port: port ?? (await freePort()), proc: null, exited: null };
  let log = "";

  handle.start = async () => {
    const proc = spawn(
      REDIS_SERVER,
      ["--port", String(handle.port), "--bind", HOST, "--save", "", "--appendonly", "no",
       "--dir", dir, "--daemonize", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    running.add(proc);
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (d) => (log = (log + d).slice(-16384)));
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (d) => (log = (log + d).slice(-16384)));
    proc.once("error", () => {});
    handle.proc = proc;
    handle.exited = new Promise((resolve) =>
      proc.once("exit", (code, signal) => {
        running.delete(proc);
        resolve({ code, signal });
      }),
    );
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      try {
        if ((await redisCommand(handle.port, "PING")) === "PONG") return handle;
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    throw new Error(`redis-server did not start on port ${handle.port}:\n${log}`);
  };

  handle.kill = async () => {
    if (!handle.proc || handle.proc.exitCode !== null || handle.proc.signalCode !== null) return;
    process.kill(handle.proc.pid, "SIGKILL");
    await handle.exited;
  };

  handle.stop = async () => {
    if (!handle.proc || handle.proc.exitCode !== null || handle.proc.signalCode !== null) return;
    process.kill(handle.proc.pid, "SIGTERM");
    await handle.exited;
  };

  handle.stderr = () => log;
  return handle.start();
}
