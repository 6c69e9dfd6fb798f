// Starts the real `bandsync` binary for black-box tests.
//
// The binary comes from $BANDSYNC_BIN (set by ctest), else from the default
// build directory: ../../build/app/bandsync relative to tests/integration.
// Every server listens on 127.0.0.1 on a port found free just before the
// start. Tests must call stop() (or kill()) on every server they start; the
// exit hook below only catches servers a crashed test left behind, and it
// signals them by PID, never by name.

import assert from "node:assert/strict";
import { after, afterEach, before } from "node:test";
import { spawn } from "node:child_process";
import net from "node:net";
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
process.on("exit", () => {
  for (const proc of running) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: HOST });
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

function launch(args, port) {
  const proc = spawn(BANDSYNC_BIN, [...args, "--port", String(port), "--host", HOST], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(proc);
  let stderr = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
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

// Starts `bandsync <args...> --port P --host 127.0.0.1` and resolves once it
// accepts TCP connections. `options.port` pins the port (to restart a server
// where a client expects it); otherwise a free one is chosen, and the start is
// retried with another port if the chosen one was taken in between.
//
// Resolves to { port, url, proc, stderr(), alive(), stop(), kill() }:
//   stop()  SIGTERM, wait for the exit, SIGKILL after 3 s; resolves to
//           { code, signal, forced } (forced: SIGKILL was needed).
//   kill()  SIGKILL at once (a crash, as seen by clients); resolves on exit.
export async function startServer(args, options = {}) {
  const attempts = options.port ? 1 : 3;
  let lastError;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort());
    const { proc, exited, stderr } = launch(args, port);
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

function makeHandle(proc, exited, stderr, port) {
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });
  return {
    port,
    url: `http://${HOST}:${port}`,
    wsUrl: `ws://${HOST}:${port}`,
    proc,
    stderr,
    alive: () => exitInfo === null && proc.exitCode === null && proc.signalCode === null,
    exited,
    async stop() {
      if (exitInfo) return { ...exitInfo, forced: false };
      proc.kill("SIGTERM");
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), STOP_GRACE_MS);
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
