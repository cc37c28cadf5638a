import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { replaceFile } from "./replace-file";

describe("replaceFile", () => {
  it("swaps the file in with the mode asked for, leaving nothing beside it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kai-replace-"));
    const file = path.join(dir, "kai-agent.mjs");
    await writeFile(file, "old", { mode: 0o644 });
    let checked = "";
    await replaceFile(file, "new", {
      mode: 0o755,
      check: async (temporary) => {
        checked = await readFile(temporary, "utf8");
        expect(path.extname(temporary)).toBe(".mjs");
      },
    });
    expect(checked).toBe("new");
    expect(await readFile(file, "utf8")).toBe("new");
    expect((await stat(file)).mode & 0o777).toBe(0o755);
    expect(await readdir(dir)).toEqual(["kai-agent.mjs"]);
  });

  it("leaves the old file whole and removes the new one when the check fails", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kai-replace-"));
    const file = path.join(dir, "kai-agent.mjs");
    await writeFile(file, "old");
    const failing = replaceFile(file, "broken", {
      mode: 0o755,
      check: async () => {
        throw new Error("does not run");
      },
    });
    await expect(failing).rejects.toThrow("does not run");
    expect(await readFile(file, "utf8")).toBe("old");
    expect(await readdir(dir)).toEqual(["kai-agent.mjs"]);
  });
});
