import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createWorld, type World } from "../../e2e/world";

/**
 * What the edge serves and accepts for workspace files and scripts, with the real agent and
 * real files behind it: files are untrusted content (whatever runs in the workspace wrote
 * them), so they must never run as a page of Kai's origin, and client mistakes are 4xx.
 */

let world: World;
let workspace: string;
let workspaceId: string;
const ws = (suffix: string) => `/api/v1/workspaces/${workspaceId}${suffix}`;
const authorization = () => ({ authorization: `Bearer ${world.session.token}` });
const get = (suffix: string, headers: Record<string, string> = {}) =>
  fetch(`${world.edge.url}${ws(suffix)}`, { headers: { ...authorization(), ...headers } });

beforeAll(async () => {
  world = await createWorld();
  workspace = path.join(world.root, "served");
  await mkdir(path.join(workspace, ".kai/scripts"), { recursive: true });
  await writeFile(
    path.join(workspace, "package.json"),
    JSON.stringify({ name: "s", scripts: { mark: "touch ran-marker" } }),
  );
  const item = await world.api("/api/catalog/flexy", { body: { name: "served", hostPath: workspace } });
  workspaceId = item.body.data.id;
});
afterAll(async () => {
  await world?.dispose();
});

const HTML = "<!doctype html><script>fetch('/api/tokens',{method:'POST'})</script>";
const SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';

describe("raw file bytes are a sandboxed download, never active content", () => {
  it.each([
    ["page.html", HTML, "text/plain; charset=utf-8"],
    ["image.svg", SVG, "text/plain; charset=utf-8"],
    ["feed.xml", '<?xml version="1.0"?><a/>', "text/plain; charset=utf-8"],
    ["app.js", "alert(1)", "text/plain; charset=utf-8"],
    ["notes.txt", "plain words", "text/plain; charset=utf-8"],
    ["data.json", '{"a":1}', "application/json; charset=utf-8"],
  ])(
    "serves %s with raw=true as a sandboxed attachment of a passive type, nosniff, with the secure defaults",
    async (name, content, type) => {
      await writeFile(path.join(workspace, name), content);
      const res = await get(`/files/${name}?raw=true`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
      expect(res.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      // secureHeaders' defaults still reach this hand-built response.
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
      expect(await res.text()).toBe(content);
    },
  );

  it("serves binary files as a download too: passive types keep theirs, unknown bytes are octet-stream", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    await writeFile(path.join(workspace, "pixel.png"), png);
    await writeFile(path.join(workspace, "blob.dat"), Buffer.from([0, 1, 2, 3, 255]));
    await writeFile(path.join(workspace, "binary.html"), Buffer.from([0x3c, 0x73, 0, 0x3e]));
    for (const [name, type, bytes] of [
      ["pixel.png", "image/png", png],
      ["blob.dat", "application/octet-stream", Buffer.from([0, 1, 2, 3, 255])],
      ["binary.html", "application/octet-stream", Buffer.from([0x3c, 0x73, 0, 0x3e])],
    ] as const) {
      const res = await get(`/files/${name}`);
      expect(res.headers.get("content-type"), name).toBe(type);
      expect(res.headers.get("content-disposition"), name).toMatch(/^attachment; /);
      expect(res.headers.get("content-security-policy"), name).toBe("sandbox; default-src 'none'");
      expect(res.headers.get("x-content-type-options"), name).toBe("nosniff");
      expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), bytes), name).toBe(0);
    }
  });

  it("names the download safely: the exact name percent-encoded, an ASCII fallback without quotes", async () => {
    const name = 'résumé "v2"; x=1.html';
    await writeFile(path.join(workspace, name), "<b>x</b>");
    const res = await get(`/files/${encodeURIComponent(name)}?raw=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="r_sum_ _v2_; x=1.html"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22%3B%20x%3D1.html`,
    );
  });

  it("keeps the documented JSON read of a text file, with its true content type", async () => {
    const res = await world.api(ws("/files/page.html"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      path: "page.html",
      content: HTML,
      encoding: "utf-8",
      content_type: "text/html; charset=utf-8",
    });
  });
});

describe("names holding % and the digit 0", () => {
  it("writes, reads, lists and deletes 100%.txt through its once-encoded URL", async () => {
    const put = await world.api(ws("/files/100%25.txt"), { method: "PUT", body: { content: "full" } });
    expect(put.status).toBe(200);
    expect(put.body.path).toBe("100%.txt");
    expect(await readFile(path.join(workspace, "100%.txt"), "utf8")).toBe("full");
    expect((await world.api(ws("/files/100%25.txt"))).body).toMatchObject({ path: "100%.txt", content: "full" });
    expect((await world.api(ws("/files"))).body.entries.map((entry: { name: string }) => entry.name)).toContain(
      "100%.txt",
    );
    expect((await world.api(ws("/files/100%25.txt"), { method: "DELETE" })).status).toBe(200);
    await expect(stat(path.join(workspace, "100%.txt"))).rejects.toThrow();
  });

  it("reads a name holding a literal %2F as one name, not a separator", async () => {
    await writeFile(path.join(workspace, "a%2Fb.txt"), "literal");
    expect((await world.api(ws("/files/a%252Fb.txt"))).body).toMatchObject({ path: "a%2Fb.txt", content: "literal" });
  });

  it("uploads names holding the digit 0", async () => {
    const form = new FormData();
    form.append("files", new Blob(["one"]), "v1.0.txt");
    form.append("files", new Blob(["two"]), "2020-report.md");
    const res = await fetch(`${world.edge.url}${ws("/files/upload")}`, {
      method: "POST",
      headers: authorization(),
      body: form,
    });
    expect(res.status).toBe(201);
    expect(await readFile(path.join(workspace, "v1.0.txt"), "utf8")).toBe("one");
    expect(await readFile(path.join(workspace, "2020-report.md"), "utf8")).toBe("two");
  });
});

describe("client mistakes are 4xx, and nothing is written", () => {
  it("refuses content that is not base64 with 422", async () => {
    for (const content of ["not base64!", "abc", "YQ==YQ=="]) {
      const res = await world.api(ws("/files/decoded.bin"), { method: "PUT", body: { content, encoding: "base64" } });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: "VALIDATION_ERROR", detail: expect.stringContaining("base64") });
    }
    await expect(stat(path.join(workspace, "decoded.bin"))).rejects.toThrow();
    expect(
      (await world.api(ws("/files/decoded.bin"), { method: "PUT", body: { content: "aGk=", encoding: "base64" } }))
        .status,
    ).toBe(200);
    expect(await readFile(path.join(workspace, "decoded.bin"), "utf8")).toBe("hi");
  });

  it("refuses JSON nested 20,000 deep with 422 naming the limit, before it reaches the agent", async () => {
    const deep = `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
    const res = await fetch(`${world.edge.url}${ws("/settings")}`, {
      method: "PUT",
      headers: { ...authorization(), "content-type": "application/json" },
      body: deep,
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "VALIDATION_ERROR", detail: expect.stringContaining("64") });
    await expect(stat(path.join(workspace, ".claude/settings.json"))).rejects.toThrow();
  });
});

describe("a script runs on POST or over a WebSocket, never on a plain GET", () => {
  it("answers a plain GET with 405 Allow: POST and runs nothing", async () => {
    const res = await get("/scripts/mark/run");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(await res.json()).toMatchObject({ code: "METHOD_NOT_ALLOWED" });
    await expect(stat(path.join(workspace, "ran-marker"))).rejects.toThrow();
  });

  it("still runs it over a WebSocket (the live form) and on POST", async () => {
    const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}${ws("/scripts/mark/run")}`, {
      headers: authorization(),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("close", () => resolve());
      socket.once("error", reject);
    });
    expect(await readdir(workspace)).toContain("ran-marker");
    const posted = await world.api(ws("/scripts/mark/run"), { method: "POST" });
    expect(posted.body).toMatchObject({ name: "mark", exitCode: 0 });
  });
});
