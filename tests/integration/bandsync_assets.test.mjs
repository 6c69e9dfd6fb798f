// Files compiled into the binary (src/web): GET /bandsync-client.js and the
// socket.io-client bundle under /socket.io/ (as socket.io's serveClient),
// byte for byte the files of the repository and of the pinned npm package,
// with a strong ETag, If-None-Match → 304, Cache-Control, and SERVE_CLIENT=false
// turning the bundle off.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { startServer, serverPerSuite } from "./lib/server.mjs";
import { WAIT_MS, cleanEnv, launch, withTimeout } from "./lib/bandsync.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const dist = path.join(here, "../node_modules/socket.io-client/dist");

const JS = "text/javascript; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";
const page = (f) => path.join(repo, "src/web/page", f);
const FILES = [
  ["/bandsync-client.js", path.join(repo, "client/bandsync-client.js"), JS],
  ["/app/index.html", page("index.html"), "text/html; charset=utf-8"],
  ["/app/app.js", page("app.js"), JS],
  ["/app/app.css", page("app.css"), "text/css; charset=utf-8"],
  ["/app/icon.svg", page("icon.svg"), "image/svg+xml"],
  ["/app/manifest.webmanifest", page("manifest.webmanifest"), "application/manifest+json; charset=utf-8"],
  ["/app/socket.io.esm.min.js", path.join(dist, "socket.io.esm.min.js"), JS],
  ["/socket.io/socket.io.js", path.join(dist, "socket.io.js"), JS],
  ["/socket.io/socket.io.js.map", path.join(dist, "socket.io.js.map"), JSON_TYPE],
  ["/socket.io/socket.io.min.js", path.join(dist, "socket.io.min.js"), JS],
  ["/socket.io/socket.io.min.js.map", path.join(dist, "socket.io.min.js.map"), JSON_TYPE],
  ["/socket.io/socket.io.esm.min.js", path.join(dist, "socket.io.esm.min.js"), JS],
  ["/socket.io/socket.io.esm.min.js.map", path.join(dist, "socket.io.esm.min.js.map"), JSON_TYPE],
];

const get = (url, headers = {}, method = "GET") =>
  fetch(url, { method, headers, signal: AbortSignal.timeout(WAIT_MS) });

describe("embedded files", () => {
  const server = serverPerSuite(["serve"], () => {});

  for (const [route, file, type] of FILES) {
    it(`GET ${route} serves ${path.relative(repo, file)} byte for byte`, async () => {
      const want = await readFile(file);
      const res = await get(server.url + route);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), type);
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(got.length, want.length, "length");
      assert.ok(got.equals(want), "the bytes differ from the file");
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/, "a strong ETag");
      // The same security headers as every other route.
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    });
  }

  it("ETags differ between files and stay the same between requests", async () => {
    // One tag per file: the page's copy of the ESM bundle (same bytes as
    // /socket.io/socket.io.esm.min.js) has the same tag, as a strong ETag should.
    const tagOf = new Map(); // file → tag
    for (const [route, file] of FILES) {
      const a = (await get(server.url + route)).headers.get("etag");
      const b = (await get(server.url + route)).headers.get("etag");
      assert.equal(a, b, route);
      if (tagOf.has(file)) assert.equal(a, tagOf.get(file), `${route}: same bytes, same tag`);
      tagOf.set(file, a);
    }
    const tags = [...tagOf.values()];
    assert.equal(new Set(tags).size, tags.length, `duplicate ETags: ${tags}`);
  });

  it("If-None-Match with the ETag → 304 without a body; a stale tag → 200", async () => {
    const route = "/socket.io/socket.io.min.js";
    const etag = (await get(server.url + route)).headers.get("etag");
    for (const header of [etag, `W/${etag}`, `"0000", ${etag}`, "*"]) {
      const res = await get(server.url + route, { "If-None-Match": header });
      assert.equal(res.status, 304, `If-None-Match: ${header}`);
      assert.equal(res.headers.get("etag"), etag);
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    }
    const stale = await get(server.url + route, { "If-None-Match": '"00000000000000000000000000000000"' });
    assert.equal(stale.status, 200);
    assert.ok((await stale.arrayBuffer()).byteLength > 1000);
  });

  it("HEAD answers the headers only", async () => {
    const res = await get(server.url + "/bandsync-client.js", {}, "HEAD");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), JS);
    assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
  });

  it("files that are not embedded stay 404 JSON", async () => {
    for (const route of ["/socket.io/socket.io.msgpack.min.js", "/bandsync-client.js.map", "/socket.io/x.js"]) {
      const res = await get(server.url + route);
      assert.equal(res.status, 404, route);
      assert.deepEqual(await res.json(), { error: "Not Found", path: route });
    }
  });

  it("the Engine.IO endpoint still answers next to the bundle", async () => {
    const res = await get(`${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^0\{"sid":/);
  });
});

// GET / : the band page for a browser, the contract's JSON for everyone else.
const CHROME_ACCEPT =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8," +
  "application/signed-exchange;v=b3;q=0.7";
const FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("GET / negotiation", () => {
  const server = serverPerSuite(["serve"], () => {});

  for (const [who, headers] of [
    ["no Accept", {}],
    ["curl (*/*)", { Accept: "*/*" }],
    ["the app (application/json)", { Accept: "application/json" }],
    ["axios", { Accept: "application/json, text/plain, */*" }],
    ["a tie", { Accept: "text/html, application/json" }],
    ["text/html below */*", { Accept: "text/html;q=0.5, */*" }],
  ]) {
    it(`${who} gets the JSON of the contract`, async () => {
      // fetch sends Accept: */* unless told otherwise; "no Accept" removes it.
      const res = await fetch(server.url + "/", {
        headers: Object.keys(headers).length ? headers : { Accept: "" },
        signal: AbortSignal.timeout(WAIT_MS),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      const body = await res.json();
      assert.equal(body.ok, true);
      assert.deepEqual(Object.keys(body).sort(), ["ok", "performance", "timestamp"]);
      assert.match(res.headers.get("vary") ?? "", /Accept/);
    });
  }

  for (const [who, accept] of [
    ["Chromium", CHROME_ACCEPT],
    ["Firefox/Safari", FIREFOX_ACCEPT],
  ]) {
    it(`${who} gets the band page with its own CSP and the other security headers`, async () => {
      const res = await get(server.url + "/", { Accept: accept });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      const html = await res.text();
      assert.equal(html, await readFile(page("index.html"), "utf8"));
      const csp = res.headers.get("content-security-policy");
      const host = new URL(server.url).host;
      assert.match(csp, /(^|;)script-src 'self';/);
      assert.match(csp, /(^|;)style-src 'self';/);
      assert.ok(csp.includes(`connect-src 'self' ws://${host} wss://${host}`), csp);
      assert.ok(!csp.includes("unsafe-inline"), csp);
      assert.ok(!csp.includes("upgrade-insecure-requests"), csp);
      assert.ok(!csp.includes(","), "one policy, not the API's joined to it");
      assert.match(res.headers.get("vary") ?? "", /Accept/);
      const json = await get(server.url + "/health");
      for (const h of ["x-content-type-options", "x-frame-options", "referrer-policy", "cross-origin-opener-policy",
                       "strict-transport-security", "x-dns-prefetch-control"]) {
        assert.equal(res.headers.get(h), json.headers.get(h), h);
      }
      // The page revalidates like the other files.
      const again = await get(server.url + "/", { Accept: accept, "If-None-Match": res.headers.get("etag") });
      assert.equal(again.status, 304);
    });
  }

  it("the API routes keep the API's CSP", async () => {
    const res = await get(server.url + "/health", { Accept: CHROME_ACCEPT });
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.match(res.headers.get("content-security-policy"), /upgrade-insecure-requests/);
  });
});

describe("SERVE_CLIENT=false", () => {
  it("turns the socket.io bundle off (404 JSON) and keeps /bandsync-client.js", async () => {
    for (const args of [["serve", "--serve-client", "false"], ["serve", "--serve-client", "0"]]) {
      const server = await startServer(args);
      try {
        for (const [route] of FILES.filter(([r]) => r.startsWith("/socket.io/"))) {
          const res = await get(server.url + route);
          assert.equal(res.status, 404, route);
          assert.deepEqual(await res.json(), { error: "Not Found", path: route });
        }
        assert.equal((await get(server.url + "/bandsync-client.js")).status, 200);
        // The page has its own copy of the bundle.
        assert.equal((await get(server.url + "/app/socket.io.esm.min.js")).status, 200);
        assert.equal((await get(server.url + "/", { Accept: CHROME_ACCEPT })).status, 200);
      } finally {
        const exit = await server.stop();
        assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      }
    }
  });

  it("a bad SERVE_CLIENT value stops the server at start with a clear message", async () => {
    const run = launch(["serve", "--port", "0", "--host", "127.0.0.1"], {
      env: cleanEnv({ SERVE_CLIENT: "maybe" }),
    });
    const { code } = await withTimeout(run.exited, WAIT_MS, "the server's exit");
    assert.notEqual(code, 0);
    assert.match(run.stderr(), /SERVE_CLIENT="maybe" is invalid/);
  });
});
