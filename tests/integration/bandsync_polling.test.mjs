// The multi-device band scenario (shortened: no tempo burst, no capacity
// check) with socket.io-client on HTTP long-polling only, never upgraded:
// phones behind proxies that block WebSocket must scroll just as well.

import { describeBandScenario } from "./lib/band_scenario.mjs";

describeBandScenario({
  title: "multi-device band session over HTTP long-polling (no upgrade)",
  clientOptions: { transports: ["polling"], upgrade: false },
  full: false,
});
