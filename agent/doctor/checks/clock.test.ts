import { describe, expect, it } from "vitest";
import { checkClock } from "./clock";

const at = (skewMs: number, roundTripMs = 10) => ({
  serverMs: 1_000_000 + roundTripMs / 2 + skewMs,
  before: 1_000_000,
  after: 1_000_000 + roundTripMs,
  precisionMs: 0,
});

describe("the clock check", () => {
  it("passes a small skew, warns past 30 s, fails past 5 minutes, each with the way to sync", () => {
    expect(checkClock(at(1_200)).status).toBe("pass");
    const warned = checkClock(at(-45_000));
    expect(warned.status).toBe("warn");
    expect(warned.detail).toContain("ahead of the server's");
    expect(warned.fix).toContain("timedatectl set-ntp true");
    const failed = checkClock(at(6 * 60_000));
    expect(failed.status).toBe("fail");
    expect(failed.detail).toContain("behind the server's");
  });

  it("does not blame the clock for what the round trip cannot tell apart", () => {
    // 40 s apart, but the answer took 90 s: the server's time could be anywhere in that span.
    expect(checkClock(at(40_000, 90_000)).status).toBe("pass");
  });

  it("skips without the server's time", () => {
    expect(checkClock(undefined).status).toBe("skip");
  });
});
