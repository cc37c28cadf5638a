/**
 * The workspace pages in a real Chromium against the real Worker, a real kai-agent and a real
 * git repository: open a workspace from the list, edit and save a file (and meet a change made
 * on the machine meanwhile), see it in Git's changes, commit it, find the commit in the log and
 * push it; run a script and watch its output arrive while it runs; the Claude Code and OpenSpec
 * tabs; and the page of a workspace whose machine went offline. Every step is checked at 390 px
 * and 1280 px for overflow and page errors (test/support/browser.ts).
 */
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../e2e/world";
import { CheckedPage, launchBrowser, signIn } from "../support/browser";
import { gitAsAsync } from "../support/git-identity";

let world: World;
let browser: Browser;
let tab: CheckedPage;
let project: string;
let remote: string;
let workspaceId: string;

const git = (cwd: string, ...args: string[]) => gitAsAsync({ name: "t", email: "t@t" }, cwd, ...args);

beforeAll(async () => {
  [world, browser] = await Promise.all([createWorld(), launchBrowser()]);
  project = path.join(world.root, "project");
  await mkdir(project);
  remote = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-web-remote-")));
  await git(remote, "init", "--bare", "-b", "main");
  await git(project, "init", "-b", "main");
  await git(project, "remote", "add", "origin", remote);
  await writeFile(path.join(project, "README.md"), "# project\n");
  // The script prints, then waits for a file the test creates: its first line must show while it runs.
  const waits =
    "echo 'started-<b>not-html</b>' && while [ ! -f go ]; do sleep 0.1; done && echo finished && echo warn >&2";
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "p", scripts: { waits } }, null, 2));
  await git(project, "add", "-A");
  await git(project, "commit", "-m", "initial");
  await git(project, "push", "-u", "origin", "main");
  const item = await world.api("/api/catalog/flexy", { body: { name: "project", hostPath: project } });
  workspaceId = item.body.data.id;
  tab = await CheckedPage.open(browser, world.edge.url, "workspaces");
});
afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await world?.dispose();
  await rm(remote, { recursive: true, force: true });
});

describe("the workspace pages", () => {
  it("signs in and lists the workspace with its machine online", async () => {
    const { page } = tab;
    await signIn(page, world.session.email);
    await page.getByRole("link", { name: "Workspaces" }).click();
    const card = page.locator('[data-workspace="project"]');
    await card.getByText("online", { exact: true }).waitFor();
    await expect(card.textContent()).resolves.toContain(project);
    await tab.step("list");
  });

  it("opens a file, saves an edit, and stops a save over a change made on the machine", async () => {
    const { page } = tab;
    await page.locator('[data-workspace="project"]').getByRole("link", { name: "project" }).click();
    await page.waitForURL(`**/workspaces/${workspaceId}`);
    await page.locator('[data-entry="package.json"]').waitFor();
    await tab.step("files");
    await page.locator('[data-entry="README.md"]').getByRole("link").click();
    const editor = page.getByLabel("Contents of README.md");
    await expect(editor.inputValue()).resolves.toBe("# project\n");
    await editor.fill("# project\n\nEdited in the dashboard.\n");
    await page.getByRole("button", { name: "Save" }).click();
    await page
      .getByRole("status")
      .getByText(/^Saved/)
      .waitFor();
    expect(await readFile(path.join(project, "README.md"), "utf8")).toBe("# project\n\nEdited in the dashboard.\n");
    await tab.step("file-saved");

    await writeFile(path.join(project, "README.md"), "# changed on the machine\n");
    await editor.fill("# mine\n");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("[data-conflict]").waitFor();
    await tab.step("file-conflict");
    expect(await readFile(path.join(project, "README.md"), "utf8")).toBe("# changed on the machine\n");
    await page.getByRole("button", { name: "Load their version" }).click();
    await expect(editor.inputValue()).resolves.toBe("# changed on the machine\n");
    await editor.fill("# project\n\nEdited in the dashboard.\n");
    await page.getByRole("button", { name: "Save" }).click();
    await page
      .getByRole("status")
      .getByText(/^Saved/)
      .waitFor();
  });

  it("shows the edit in Git's changes, commits it, finds it in the log and pushes it", async () => {
    const { page } = tab;
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Git" }).click();
    const change = page.locator('[data-change="README.md"]');
    await change.getByText("modified").waitFor();
    await tab.step("git-changes");
    await page.getByLabel("Commit message").fill("Edit the README from the dashboard");
    await page.getByRole("button", { name: "Commit all changes" }).click();
    await page.getByText("Nothing changed since the last commit.").waitFor();
    const newest = page.locator("[data-commit]").first();
    await expect(newest.textContent()).resolves.toContain("Edit the README from the dashboard");
    await tab.step("git-committed");
    await page.getByRole("button", { name: "Push" }).click();
    await page.locator(".ws-output").waitFor();
    const { stdout } = await git(remote, "log", "-1", "--format=%s", "main");
    expect(stdout.trim()).toBe("Edit the README from the dashboard");
    await tab.step("git-pushed");

    // Nothing left to commit: git's refusal reads as a sentence with its request id.
    await page.getByLabel("Commit message").fill("Empty");
    await page.getByRole("button", { name: "Commit all changes" }).click();
    const alert = page.locator('form[aria-label="Commit"] [role="alert"]');
    await alert.waitFor();
    expect(await alert.getAttribute("data-code")).toBe("CONFLICT");
    await expect(alert.textContent()).resolves.toMatch(/nothing to commit.*[0-9a-f-]{36}/);
    await tab.step("git-nothing-to-commit");
  });

  it("creates a branch, switches to it and back", async () => {
    const { page } = tab;
    await page.getByLabel("New branch from here").fill("feature");
    await page.getByRole("button", { name: "Create and switch" }).click();
    await page.locator('[data-branch="feature"]').getByText("current").waitFor();
    expect((await git(project, "branch", "--show-current")).stdout.trim()).toBe("feature");
    await tab.step("git-branch");
    await page.locator('[data-branch="main"]').getByRole("button", { name: "Switch" }).click();
    await page.locator('[data-branch="main"]').getByText("current").waitFor();
    expect((await git(project, "branch", "--show-current")).stdout.trim()).toBe("main");
  });

  it("runs a script and shows its output while it runs, as text", async () => {
    const { page } = tab;
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Scripts" }).click();
    await page.locator('[data-script="waits"]').getByRole("button", { name: "Run" }).click();
    const output = page.locator("[data-output]");
    await output.getByText("started-<b>not-html</b>").waitFor();
    await expect(page.locator("[data-outcome]").textContent()).resolves.toBe("running");
    expect(await output.locator("b").count()).toBe(0);
    await tab.step("script-running");
    await writeFile(path.join(project, "go"), "");
    await page.locator("[data-outcome]").getByText("finished (exit code 0)").waitFor();
    await output.getByText("finished").waitFor();
    await output.locator(".ws-stderr").getByText("warn").waitFor();
    await tab.step("script-finished");
  });

  it("creates a file in a new folder, walks the breadcrumbs, uploads a file and deletes it", async () => {
    const { page } = tab;
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Files" }).click();
    await page.getByText("New file or upload").click();
    await page.getByLabel(/New file name/).fill("docs/notes.md");
    await page.getByRole("button", { name: "Create" }).click();
    const editor = page.getByLabel("Contents of docs/notes.md");
    await editor.fill("notes\n");
    await page.getByRole("button", { name: "Save" }).click();
    await page
      .getByRole("status")
      .getByText(/^Saved/)
      .waitFor();
    expect(await readFile(path.join(project, "docs/notes.md"), "utf8")).toBe("notes\n");
    await page.getByRole("link", { name: "Back to the folder" }).click();
    await page.locator('[data-entry="notes.md"]').waitFor();
    await tab.step("folder");
    await page.getByText("New file or upload").click();
    await page.getByLabel("Upload files here").setInputFiles({
      name: "data.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from([0, 1, 2, 255]),
    });
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.locator('[data-entry="data.bin"]').waitFor();
    expect([...(await readFile(path.join(project, "docs/data.bin")))]).toEqual([0, 1, 2, 255]);
    await page.locator('[data-entry="data.bin"]').getByRole("link").click();
    await page.getByText("This is a binary file").waitFor();
    await tab.step("binary-file");
    await page.getByRole("link", { name: "Back to the folder" }).click();
    await page.locator('[data-entry="data.bin"]').getByRole("button", { name: "Delete" }).click();
    await page.locator('[data-entry="data.bin"]').waitFor({ state: "detached" });
    await page.getByRole("navigation", { name: "Folder" }).getByRole("link", { name: "root" }).click();
    await page.locator('[data-entry="docs"]').waitFor();
  });

  it("shows the Claude Code settings and the OpenSpec state", async () => {
    const { page } = tab;
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Claude Code" }).click();
    const settings = page.getByLabel("Settings JSON");
    await settings.waitFor();
    await settings.fill('{ "model": "sonnet" }');
    await page.locator('[data-section="settings"]').getByRole("button", { name: "Save" }).click();
    await page.locator('[data-section="settings"]').getByRole("status").waitFor();
    const saved = JSON.parse(await readFile(path.join(project, ".claude/settings.json"), "utf8"));
    expect(saved.model).toBe("sonnet");
    await tab.step("settings");
    await settings.fill("{ not json");
    await page.locator('[data-section="settings"]').getByRole("button", { name: "Save" }).click();
    const refused = page.locator('[data-section="settings"] [role="alert"]');
    await refused.waitFor();
    expect(await refused.getAttribute("data-code")).toBe("VALIDATION_ERROR");
    await page.locator('[data-section="settings"]').getByRole("button", { name: "Discard changes" }).click();
    await expect(settings.inputValue()).resolves.toContain('"model": "sonnet"');
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "OpenSpec" }).click();
    await page.getByText("OpenSpec is not set up in this workspace").waitFor();
    await tab.step("openspec");
  });

  it("says so when the workspace's machine is offline", async () => {
    const { page } = tab;
    await world.agent.stop();
    await page.goto(`/workspaces/${workspaceId}/git`);
    await page.getByText("This workspace's machine is offline.").waitFor();
    await tab.step("offline");
  });
});
