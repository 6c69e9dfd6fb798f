// A loopback TCP proxy that plays a device's bad Wi-Fi: it forwards bytes
// both ways, and can freeze a link (stop forwarding both ways without
// closing anything, as a link that stalls) or cut it (reset both sides, as a
// link that dies). Per connection, or for the whole device (every connection,
// including new ones, while frozen).
//
//   const proxy = await TcpProxy.start(server.port);
//   const socket = io(`http://127.0.0.1:${proxy.port}`, ...);
//   proxy.last.freeze();        // this connection only, until thaw()
//   proxy.freeze(3000);         // the device: every connection, for 3 s
//   proxy.last.cut();           // RST to both the client and the server
//   proxy.delayDown(30);        // server → client bytes arrive 30 ms late
//   proxy.retarget(otherPort);  // new connections go elsewhere (a load
//                               // balancer moving the device to another node)
//   await proxy.stop();
//
// Bytes that arrive while frozen wait in the kernel's buffers (reads are
// paused) and flow again on thaw, as a stalled link delivers late.

import net from "node:net";

const HOST = "127.0.0.1";

export class ProxyConnection {
  #proxy;
  #frozen = false;
  #thawTimer = null;

  constructor(proxy, id, client, upstream) {
    this.#proxy = proxy;
    this.id = id;
    this.client = client;
    this.upstream = upstream;
    this.closed = false;
    this.bytesUp = 0;
    this.bytesDown = 0;
    this.done = new Promise((resolve) => {
      let open = 2;
      const end = () => {
        if (--open === 0) {
          this.closed = true;
          clearTimeout(this.#thawTimer);
          resolve();
        }
      };
      client.once("close", end);
      upstream.once("close", end);
    });
    // Either side ending or failing ends the other the same way.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("data", (d) => {
      this.bytesUp += d.length;
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      this.bytesDown += d.length;
      const delay = this.#proxy.downDelayMs;
      if (delay <= 0) client.write(d);
      // Same delay for every chunk: timers of equal duration fire in order.
      else setTimeout(() => client.destroyed || client.write(d), delay);
    });
  }

  get frozen() {
    return this.#frozen;
  }

  // Stops forwarding both ways, without closing; for `ms` when given, else
  // until thaw().
  freeze(ms) {
    if (this.closed) return;
    clearTimeout(this.#thawTimer);
    this.#frozen = true;
    this.client.pause();
    this.upstream.pause();
    if (ms !== undefined) this.#thawTimer = setTimeout(() => this.thaw(), ms);
  }

  thaw() {
    clearTimeout(this.#thawTimer);
    if (!this.#frozen || this.closed) return;
    this.#frozen = false;
    this.client.resume();
    this.upstream.resume();
  }

  // Resets both sides (TCP RST): each sees ECONNRESET, nothing in flight is delivered.
  cut() {
    clearTimeout(this.#thawTimer);
    for (const s of [this.client, this.upstream]) {
      if (s.destroyed) continue;
      if (typeof s.resetAndDestroy === "function") s.resetAndDestroy();
      else s.destroy();
    }
    return this.done;
  }
}

export class TcpProxy {
  #server;
  #targetPort;
  #targetHost;
  #nextId = 1;
  #frozenUntil = 0; // Infinity: until thaw()
  #thawTimer = null;

  constructor(targetPort, targetHost) {
    this.#targetPort = targetPort;
    this.#targetHost = targetHost;
    this.connections = []; // every connection, in accept order
    this.downDelayMs = 0;
  }

  // A proxy on a free loopback port forwarding to targetHost:targetPort.
  static async start(targetPort, targetHost = HOST) {
    const proxy = new TcpProxy(targetPort, targetHost);
    await proxy.#listen();
    return proxy;
  }

  get port() {
    return this.#server.address().port;
  }

  // The most recent connection (the live one, for a WebSocket client).
  get last() {
    return this.connections[this.connections.length - 1];
  }

  get open() {
    return this.connections.filter((c) => !c.closed);
  }

  get frozen() {
    return this.#frozenUntil > Date.now();
  }

  // The whole device: every open connection, and those it opens meanwhile,
  // stop forwarding for `ms` (or until thaw()).
  freeze(ms) {
    clearTimeout(this.#thawTimer);
    this.#frozenUntil = ms === undefined ? Infinity : Date.now() + ms;
    for (const c of this.open) c.freeze();
    if (ms !== undefined) this.#thawTimer = setTimeout(() => this.thaw(), ms);
  }

  thaw() {
    clearTimeout(this.#thawTimer);
    this.#frozenUntil = 0;
    for (const c of this.open) c.thaw();
  }

  // Server → client bytes of every connection arrive `ms` later than they
  // would (a slow downlink), in order: a device behind this proxy hears of
  // an event after a directly connected one does, as a phone on bad Wi-Fi.
  delayDown(ms) {
    this.downDelayMs = ms;
  }

  // Connections opened from now on go to targetPort (open ones stay where
  // they are).
  retarget(targetPort) {
    this.#targetPort = targetPort;
  }

  // Resets every open connection.
  async cut() {
    await Promise.all(this.open.map((c) => c.cut()));
  }

  async stop() {
    clearTimeout(this.#thawTimer);
    await this.cut();
    await new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #listen() {
    this.#server = net.createServer({ pauseOnConnect: true }, (client) => this.#accept(client));
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, HOST, () => resolve());
    });
  }

  #accept(client) {
    const upstream = net.connect({ port: this.#targetPort, host: this.#targetHost });
    const conn = new ProxyConnection(this, this.#nextId++, client, upstream);
    // After the 'data' listeners are attached, which would start the flow.
    client.pause();
    upstream.pause();
    this.connections.push(conn);
    upstream.once("connect", () => {
      if (this.frozen) conn.freeze();
      else {
        client.resume();
        upstream.resume();
      }
    });
  }
}
