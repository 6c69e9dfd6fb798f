// bandsync-client's linkOf: the round trip and jitter a sync burst reports to
// the band (docs/EVENTS.md "Link quality"), on hand-made exchanges.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { linkOf } from "../../../client/bandsync-client.js";

// One exchange with round trip `rtt` outside a server that held it `hold` ms.
const ex = (t1, rtt, hold = 0.5) => ({ t1, t2: t1 + 1000 + rtt / 2, t3: t1 + 1000 + rtt / 2 + hold, t4: t1 + rtt + hold });

describe("linkOf", () => {
  it("reports the median round trip outside the server and the mean change between round trips", () => {
    const l = linkOf([ex(0, 10), ex(100, 19), ex(200, 6)]);
    assert.deepEqual(l, { rttMs: 10, jitterMs: 11, samples: 3 });
  });

  it("takes the middle pair's mean for an even count; one slow exchange does not move the median", () => {
    const l = linkOf([ex(0, 4), ex(50, 6), ex(100, 8), ex(150, 400)]);
    assert.equal(l.rttMs, 7);
    assert.equal(l.jitterMs, (2 + 2 + 392) / 3);
  });

  it("one exchange has no jitter; none gives null; bad samples are dropped", () => {
    assert.deepEqual(linkOf([ex(0, 12.345)]), { rttMs: 12.35, jitterMs: 0, samples: 1 });
    assert.equal(linkOf([]), null);
    // A negative round trip (a clock step mid-exchange) and NaN are not samples.
    assert.equal(linkOf([{ t1: 10, t2: 0, t3: 0, t4: 5 }, { t1: NaN, t2: 0, t3: 0, t4: 1 }]), null);
  });

  it("stays inside the server's bounds (0 to 60000 ms)", () => {
    const l = linkOf([ex(0, 90_000), ex(1, 70_000)]);
    assert.equal(l.rttMs, 60_000);
    assert.equal(l.jitterMs, 20_000);
  });
});
