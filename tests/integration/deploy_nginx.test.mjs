// The shipped nginx example (deploy/nginx/bandsync-two-nodes.conf) run by a
// real nginx in front of two real BandSync nodes on one real redis-server:
// the file is used as shipped, only its ports are replaced by free loopback
// ones (and it is wrapped in a minimal main configuration: no daemon, logs
// and temporary files in a temporary directory).
//
//   - a long-polling client (no upgrade: every request of its Engine.IO
//     session must reach the node that created it: ip_hash) and a client with
//     socket.io's default start (polling, then the upgrade to WebSocket
//     through nginx) and a WebSocket-only client, all through nginx, join one
//     session with a device connected straight to the other node; the leader
//     plays and every one of them gets the ticks.
//
// nginx comes from Debian's nginx-light (or nginx) package: /usr/sbin/nginx.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { HOST, canConnect, sleep } from "./lib/server.mjs";
import { DeviceJar, cleanEnv, eventually, freePort, health, join, launch, sessionName, waitListening } from "./lib/bandsync.mjs";
import { redisMissing, startRedis } from "./lib/redis.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const SHIPPED = path.resolve(here, "../../deploy/nginx/bandsync-two-nodes.conf");
const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));

describe("deploy/nginx/bandsync-two-nodes.conf in front of two nodes", () => {
  const jar = new DeviceJar();
  const servers = [];
  let redis = null;
  let nginx = null;
  let nginxLog = "";
  let dir = null;
  let url = null;
  let nodeUrls = [];

  before(async () => {
    assert.ok(
      NGINX,
      "nginx is not installed: this test runs the shipped nginx example and needs Debian's " +
        "nginx-light (apt-get install nginx-light; `make deps` installs it)",
    );
    const missing = redisMissing();
    assert.ok(!missing, missing);
    redis = await startRedis();
    for (const id of ["node-a", "node-b"]) {
      const port = await freePort();
      const env = cleanEnv({ REDIS_HOST: HOST, REDIS_PORT: String(redis.port), NODE_ID: id });
      const s = launch(["serve", "--port", String(port), "--host", HOST], { env });
      servers.push(s);
      assert.ok(await waitListening(s, port), `${id} did not start:\n${s.stderr()}`);
      nodeUrls.push(`http://${HOST}:${port}`);
    }
    for (const u of nodeUrls) {
      await eventually(() => health(u), (h) => h.cluster?.peers?.length === 2, `${u} sees both nodes`);
    }
    const [pa, pb] = nodeUrls.map((u) => new URL(u).port);
    const listen = await freePort();
    const shipped = readFileSync(SHIPPED, "utf8");
    for (const needle of ["127.0.0.1:3001", "127.0.0.1:3002", "listen 8080;"]) {
      assert.ok(shipped.includes(needle), `the shipped config no longer contains "${needle}"`);
    }
    dir = mkdtempSync(path.join(os.tmpdir(), "bandsync-nginx-"));
    writeFileSync(
      path.join(dir, "bandsync.conf"),
      shipped
        .replace("127.0.0.1:3001", `127.0.0.1:${pa}`)
        .replace("127.0.0.1:3002", `127.0.0.1:${pb}`)
        .replace("listen 8080;", `listen ${HOST}:${listen};`),
    );
    writeFileSync(
      path.join(dir, "nginx.conf"),
      [
        "daemon off;",
        "master_process off;",
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        "events { worker_connections 256; }",
        "http {",
        "  access_log off;",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`),
        `  include ${dir}/bandsync.conf;`,
        "}",
        "",
      ].join("\n"),
    );
    nginx = spawn(NGINX, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    nginx.stdout.on("data", (d) => (nginxLog += d));
    nginx.stderr.on("data", (d) => (nginxLog += d));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(listen))) {
      assert.ok(nginx.exitCode === null && Date.now() < deadline, `nginx did not start:\n${nginxLog}`);
      await sleep(50);
    }
    url = `http://${HOST}:${listen}`;
  });

  after(async () => {
    jar.closeAll();
    if (nginx && nginx.exitCode === null) {
      nginx.kill("SIGKILL");
      await new Promise((r) => nginx.once("exit", r));
    }
    for (const s of servers) await s.kill();
    await redis?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("polling, polling-then-upgrade and WebSocket clients through nginx share a session with a device on the other node", async () => {
    const sessionId = sessionName("nginx");
    const polling = await jar.connect(url, { transports: ["polling"], upgrade: false }, "polling");
    const upgrading = await jar.connect(url, { transports: ["polling", "websocket"] }, "upgrading");
    const ws = await jar.connect(url, { transports: ["websocket"] }, "websocket");
    // ip_hash: every client of this address reaches one node; the direct
    // device goes to the other.
    await join(polling, sessionId, { displayName: "Polling" });
    const owner = (await Promise.all(nodeUrls.map((u) => health(u)))).findIndex((h) => h.cluster.ownedSessions === 1);
    assert.ok(owner >= 0, "one node runs the session");
    const direct = await jar.connect(nodeUrls[1 - owner], { transports: ["websocket"] }, "direct");
    const members = [polling];
    for (const d of [upgrading, ws, direct]) {
      await join(d, sessionId, { displayName: d.label }, members);
      members.push(d);
    }
    await eventually(
      () => upgrading.socket.io.engine.transport.name,
      (t) => t === "websocket",
      "the default client upgraded to WebSocket through nginx",
    );
    const marks = members.map((d) => d.mark());
    polling.emit("play", { sessionId });
    for (const [i, d] of members.entries()) {
      await d.waitCount("scroll_tick", 5, { after: marks[i], where: (t) => t.sessionId === sessionId });
    }
    assert.equal(polling.socket.io.engine.transport.name, "polling");
    const snap = await direct.waitFor("snapshot", { after: marks[3] });
    assert.deepEqual(snap.payload.members.map((m) => m.socketId), members.map((d) => d.id), "one session across the nodes");
  });
});
