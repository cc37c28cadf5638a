import { describe, expect, it } from "vitest";
import { notLoaded } from "./launchd";

const PLIST = "/Users/a/Library/LaunchAgents/dev.kai.agent.plist";

describe("launchd restart after an upgrade", () => {
  it("restarts a loaded job, running or not", () => {
    expect(notLoaded({ code: 0, stdout: "\tstate = running\n\tpid = 42\n", stderr: "" }, "gui/501", PLIST)).toBe(
      undefined,
    );
    expect(notLoaded({ code: 0, stdout: "\tstate = not running\n", stderr: "" }, "gui/501", PLIST)).toBe(undefined);
  });

  it("leaves a job stopped by hand (not loaded) stopped, and says how to start it", () => {
    const outcome = notLoaded(
      { code: 113, stdout: "", stderr: 'Could not find service "dev.kai.agent" in domain for port' },
      "gui/501",
      PLIST,
    );
    expect(outcome).toEqual({
      ok: true,
      lines: [
        `dev.kai.agent is installed but not loaded (stopped by hand?): start it with launchctl bootstrap gui/501 ${PLIST}`,
      ],
    });
  });
});
