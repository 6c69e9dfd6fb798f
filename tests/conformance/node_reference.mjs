// The Node reference servers of the official protocol test suites, with the
// configuration their READMEs give (socketio/engine.io-protocol and
// socketio/socket.io-protocol, "Test suite"), so that the suites can be run
// against Node and against `bandsync conformance` in the same run.
//
//   node node_reference.mjs engineio|socketio [port]
//
// The packages come from bench/baseline-node (socket.io 4.8.1 and the
// engine.io it depends on, pinned in its package-lock.json): `npm ci` there.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../bench/baseline-node/package.json", import.meta.url));
const mode = process.argv[2];
const port = Number(process.argv[3] ?? 3000);

if (mode === "engineio") {
  const { listen } = require("engine.io");
  const server = listen(port, {
    pingInterval: 300,
    pingTimeout: 200,
    maxPayload: 1e6,
    cors: { origin: "*" },
  });
  server.on("connection", (socket) => {
    socket.on("data", (...args) => socket.send(...args));
  });
} else if (mode === "socketio") {
  const { Server } = require("socket.io");
  const io = new Server(port, {
    pingInterval: 300,
    pingTimeout: 200,
    maxPayload: 1000000,
    connectTimeout: 1000,
    cors: { origin: "*" },
  });
  io.on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
    socket.on("message", (...args) => socket.emit("message-back", ...args));
    socket.on("message-with-ack", (...args) => {
      const ack = args.pop();
      ack(...args);
    });
  });
  io.of("/custom").on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
  });
} else {
  console.error("usage: node node_reference.mjs engineio|socketio [port]");
  process.exit(2);
}
console.log(`node reference (${mode}) listening on port ${port}`);
process.on("SIGTERM", () => process.exit(0));
