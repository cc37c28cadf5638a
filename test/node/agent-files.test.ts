import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fileHandlers } from "../../agent/handlers/files";
import { pendingUploads, UPLOAD_IDLE_MS } from "../../agent/runtime/fs/file-upload";
import { COMMANDS } from "../../shared/commands";
import { FILE_CHUNK_BYTES, MAX_FILE_BYTES } from "../../shared/schemas/command-params";
import { until } from "../support/until";
import { call, kaiError, type WorkspaceWorld, workspaceWorld } from "../support/workspace-handlers";

/**
 * files.* on real temp directories. The workspace is the policy's only allowed root;
 * `outside` sits next to it and must come through every test untouched.
 */

let world: WorkspaceWorld;
let root: string;
const PNG = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe,
]);
const big = randomBytes(1.5 * 1024 * 1024);

const ctx = (maxDirectoryEntries = 1000) => world.ctx({ policy: { ...world.policy, maxDirectoryEntries } });
const list = (p: string, hidden = false, context = ctx()) =>
  call(fileHandlers, "files.list", { root, path: p, hidden }, context);
const read = (p: string, offset = 0, length = FILE_CHUNK_BYTES) =>
  call(fileHandlers, "files.read", { root, path: p, offset, length }, ctx());
const del = (p: string, recursive = false) => call(fileHandlers, "files.delete", { root, path: p, recursive }, ctx());
const chunk = (p: string, uploadId: string, index: number, data: Buffer, last: boolean, createParents = false) =>
  call(
    fileHandlers,
    "files.write",
    { root, path: p, uploadId, index, data: data.toString("base64"), last, createParents },
    ctx(),
  );

/** Writes `data` in chunks of `size`, the way the edge does. */
async function upload(p: string, data: Buffer, size = FILE_CHUNK_BYTES, createParents = false) {
  const id = randomUUID();
  const count = Math.max(1, Math.ceil(data.length / size));
  const results = [];
  for (let index = 0; index < count; index++)
    results.push(
      await chunk(p, id, index, data.subarray(index * size, (index + 1) * size), index === count - 1, createParents),
    );
  return results;
}

/** Every name and content below `dir`, to prove nothing outside the workspace changed. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.map(async (entry) => {
      const full = path.join(entry.parentPath, entry.name);
      return `${full}:${entry.isFile() ? await fs.readFile(full, "base64") : entry.isSymbolicLink() ? "link" : "dir"}`;
    }),
  ).then((lines) => lines.sort());
}

beforeAll(async () => {
  world = await workspaceWorld("files");
  root = world.root;
  await fs.mkdir(path.join(root, "src", "deep"), { recursive: true });
  await fs.mkdir(path.join(root, "Docs"));
  await fs.mkdir(path.join(root, ".hidden-dir"));
  await fs.writeFile(path.join(root, "README.md"), "# hello\n");
  await fs.writeFile(path.join(root, ".env"), "A=1\n");
  await fs.writeFile(path.join(root, "src", "index.ts"), "export const x = 1;\n");
  await fs.writeFile(path.join(root, "image.png"), PNG);
  await fs.writeFile(path.join(root, "blob"), Buffer.from([1, 2, 0, 3]));
  await fs.writeFile(path.join(root, "notes"), "plain words, no extension ✓\n");
  await fs.writeFile(path.join(root, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  await fs.writeFile(path.join(root, "big.bin"), big);
  await fs.writeFile(path.join(world.outside, "secret.txt"), "secret");
  await fs.symlink("README.md", path.join(root, "readme-link"));
  await fs.symlink(".", path.join(root, "to-root"));
  await fs.symlink(world.outside, path.join(root, "to-outside"));
  await fs.symlink(path.join(world.outside, "secret.txt"), path.join(root, "to-outside-file"));
  await fs.symlink("chain-2", path.join(root, "chain-1"));
  await fs.symlink("../..", path.join(root, "chain-2"));
  await fs.symlink("/etc", path.join(root, "to-etc"));
});

afterAll(async () => {
  await world?.cleanup();
});

describe("files.list", () => {
  it("lists directories first, then by name, without hidden entries, symlinks not followed", async () => {
    const listing = await list("");
    expect(listing.path).toBe("");
    expect(listing.truncated).toBe(false);
    const names = listing.entries.map((entry) => entry.name);
    expect(names.slice(0, 2)).toEqual(["Docs", "src"]);
    expect(names).not.toContain(".env");
    expect(names).not.toContain(".hidden-dir");
    expect(listing.entries.find((entry) => entry.name === "README.md")).toMatchObject({
      path: "README.md",
      type: "file",
      size: 8,
    });
    for (const link of ["readme-link", "to-outside", "to-root", "chain-1"])
      expect(listing.entries.find((entry) => entry.name === link)?.type).toBe("symlink");
    expect(Math.abs(Date.parse(listing.entries[0]!.modified) - Date.now())).toBeLessThan(60_000);
  });

  it("shows hidden entries on request, and answers paths relative to the workspace", async () => {
    const names = (await list("", true)).entries.map((entry) => entry.name);
    expect(names.slice(0, 4)).toEqual([".hidden-dir", "Docs", "src", ".env"]);
    const sub = await list("src");
    expect(sub).toMatchObject({
      path: "src",
      entries: [
        { name: "deep", path: "src/deep", type: "directory" },
        { name: "index.ts", path: "src/index.ts", type: "file" },
      ],
    });
  });

  it("caps at maxDirectoryEntries after sorting and says so", async () => {
    const capped = await list("", false, ctx(2));
    expect(capped).toMatchObject({ truncated: true, entries: [{ name: "Docs" }, { name: "src" }] });
  });

  it("refuses a file (VALIDATION_ERROR) and a missing path (NOT_FOUND)", async () => {
    expect(await kaiError(list("README.md"))).toMatchObject({
      code: "VALIDATION_ERROR",
      message: "README.md is not a directory",
    });
    expect((await kaiError(list("nope"))).code).toBe("NOT_FOUND");
  });
});

describe("files.read", () => {
  it("reads text with its type", async () => {
    const text = await read("README.md");
    expect(text).toMatchObject({
      path: "README.md",
      size: 8,
      offset: 0,
      eof: true,
      contentType: "text/markdown; charset=utf-8",
      binary: false,
    });
    expect(Buffer.from(text.data, "base64").toString()).toBe("# hello\n");
    expect((await read("src/index.ts")).contentType).toBe("text/typescript; charset=utf-8");
    expect(await read("notes")).toMatchObject({ contentType: "text/plain; charset=utf-8", binary: false });
    // Through a symlink inside the workspace: the answer names the real file.
    expect((await read("readme-link")).path).toBe("README.md");
  });

  it("reads binary files byte-exact, typed by extension or by content", async () => {
    const png = await read("image.png");
    expect(png).toMatchObject({ contentType: "image/png", binary: true, size: PNG.length });
    expect(Buffer.from(png.data, "base64").equals(PNG)).toBe(true);
    expect(await read("blob")).toMatchObject({ contentType: "application/octet-stream", binary: true });
    expect(await read("latin1.txt")).toMatchObject({ contentType: "application/octet-stream", binary: true });
  });

  it("reads a 1.5 MiB file in chunks that reassemble byte-exact", async () => {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const part = await read("big.bin", offset);
      expect(part).toMatchObject({ size: big.length, offset, contentType: "application/octet-stream", binary: true });
      const bytes = Buffer.from(part.data, "base64");
      parts.push(bytes);
      offset += bytes.length;
      if (part.eof) break;
    }
    expect(parts).toHaveLength(3);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    expect(await read("big.bin", big.length)).toMatchObject({ data: "", eof: true });
    expect((await kaiError(read("big.bin", big.length + 1))).code).toBe("VALIDATION_ERROR");
  });

  it("refuses directories, missing files, FIFOs and files over MAX_FILE_BYTES", async () => {
    expect((await kaiError(read("src"))).code).toBe("VALIDATION_ERROR");
    expect((await kaiError(read("missing.txt"))).code).toBe("NOT_FOUND");
    execFileSync("mkfifo", [path.join(root, "pipe")]);
    expect(await kaiError(read("pipe"))).toMatchObject({
      code: "VALIDATION_ERROR",
      message: "pipe is not a regular file",
    });
    await fs.rm(path.join(root, "pipe"));
    await fs.writeFile(path.join(root, "huge.bin"), "");
    await fs.truncate(path.join(root, "huge.bin"), MAX_FILE_BYTES + 1); // sparse: no 25 MiB written
    const tooLarge = await kaiError(read("huge.bin"));
    expect(tooLarge.code).toBe("PAYLOAD_TOO_LARGE");
    expect(tooLarge.message).toContain(String(MAX_FILE_BYTES));
    await fs.rm(path.join(root, "huge.bin"));
  });
});

describe("files.write", () => {
  it("writes in three chunks, invisible until the last one renames it into place", async () => {
    const data = randomBytes(300_000);
    const id = randomUUID();
    const part = (i: number) => data.subarray(i * 100_000, (i + 1) * 100_000);
    expect(await chunk("upload.bin", id, 0, part(0), false)).toEqual({
      path: "upload.bin",
      size: 100_000,
      written: false,
    });
    expect(await chunk("upload.bin", id, 1, part(1), false)).toMatchObject({ size: 200_000, written: false });
    await expect(fs.stat(path.join(root, "upload.bin"))).rejects.toThrow();
    expect(await fs.readdir(root)).toContain(`.upload.bin.kai-${id}.part`);
    expect(await chunk("upload.bin", id, 2, part(2), true)).toEqual({
      path: "upload.bin",
      size: 300_000,
      written: true,
    });
    expect((await fs.readFile(path.join(root, "upload.bin"))).equals(data)).toBe(true);
    expect((await fs.readdir(root)).filter((name) => name.endsWith(".part"))).toEqual([]);
    expect(pendingUploads()).toBe(0);
  });

  it("round-trips 1.5 MiB written in chunks and read back in chunks", async () => {
    await upload("copy/big.bin", big, FILE_CHUNK_BYTES, true);
    const parts = [
      await read("copy/big.bin", 0),
      await read("copy/big.bin", FILE_CHUNK_BYTES),
      await read("copy/big.bin", 2 * FILE_CHUNK_BYTES),
    ];
    expect(Buffer.concat(parts.map((p) => Buffer.from(p.data, "base64"))).equals(big)).toBe(true);
  });

  it("replaces an existing file keeping its permissions, and writes through a symlink inside", async () => {
    await fs.writeFile(path.join(root, "private.txt"), "old");
    await fs.chmod(path.join(root, "private.txt"), 0o600);
    await upload("private.txt", Buffer.from("new"));
    expect(await fs.readFile(path.join(root, "private.txt"), "utf8")).toBe("new");
    expect((await fs.stat(path.join(root, "private.txt"))).mode & 0o777).toBe(0o600);
    expect((await upload("readme-link", Buffer.from("# via link\n")))[0]?.path).toBe("README.md");
    expect((await fs.lstat(path.join(root, "readme-link"))).isSymbolicLink()).toBe(true);
    expect(await fs.readFile(path.join(root, "README.md"), "utf8")).toBe("# via link\n");
    expect(await upload("empty.txt", Buffer.alloc(0))).toEqual([{ path: "empty.txt", size: 0, written: true }]);
  });

  it("refuses chunks out of order with CONFLICT and keeps waiting for the right one", async () => {
    const id = randomUUID();
    await chunk("ordered.txt", id, 0, Buffer.from("a"), false);
    expect(await kaiError(chunk("ordered.txt", id, 2, Buffer.from("c"), true))).toMatchObject({
      code: "CONFLICT",
      details: { expectedIndex: 1 },
    });
    expect((await kaiError(chunk("ordered.txt", id, 0, Buffer.from("a"), false))).code).toBe("CONFLICT");
    expect((await kaiError(chunk("other.txt", id, 1, Buffer.from("b"), true))).code).toBe("CONFLICT");
    await chunk("ordered.txt", id, 1, Buffer.from("b"), true);
    expect(await fs.readFile(path.join(root, "ordered.txt"), "utf8")).toBe("ab");
    expect(await kaiError(chunk("ordered.txt", randomUUID(), 3, Buffer.from("x"), true))).toMatchObject({
      code: "CONFLICT",
      details: { expectedIndex: 0 },
    });
  });

  it("refuses a file over MAX_FILE_BYTES and removes the temp file", async () => {
    const id = randomUUID();
    const full = Buffer.alloc(FILE_CHUNK_BYTES, 7);
    const count = MAX_FILE_BYTES / FILE_CHUNK_BYTES;
    for (let index = 0; index < count; index++) await chunk("too-big.bin", id, index, full, false);
    const error = await kaiError(chunk("too-big.bin", id, count, Buffer.from("x"), true));
    expect(error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { maxBytes: MAX_FILE_BYTES } });
    expect((await fs.readdir(root)).filter((name) => name.includes("too-big"))).toEqual([]);
    expect((await kaiError(chunk("one.bin", randomUUID(), 0, Buffer.alloc(FILE_CHUNK_BYTES + 1), true))).code).toBe(
      "PAYLOAD_TOO_LARGE",
    );
  });

  it("creates parents only on request, and refuses directories and bad base64", async () => {
    expect((await kaiError(upload("new/dir/file.txt", Buffer.from("x")))).code).toBe("NOT_FOUND");
    await expect(fs.stat(path.join(root, "new"))).rejects.toThrow();
    await upload("new/dir/file.txt", Buffer.from("x"), FILE_CHUNK_BYTES, true);
    expect(await fs.readFile(path.join(root, "new", "dir", "file.txt"), "utf8")).toBe("x");
    expect((await kaiError(upload("src", Buffer.from("x")))).code).toBe("VALIDATION_ERROR");
    expect((await kaiError(upload("", Buffer.from("x")))).code).toBe("VALIDATION_ERROR");
    expect((await kaiError(upload("README.md/x", Buffer.from("x"), FILE_CHUNK_BYTES, true))).code).toBe(
      "VALIDATION_ERROR",
    );
    const bad = call(
      fileHandlers,
      "files.write",
      { root, path: "b.txt", uploadId: randomUUID(), index: 0, data: "not base64!", last: true, createParents: false },
      ctx(),
    );
    expect((await kaiError(bad)).code).toBe("VALIDATION_ERROR");
  });

  it("drops an upload nobody finishes, with its temp file", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const id = randomUUID();
      await chunk("abandoned.txt", id, 0, Buffer.from("half"), false);
      vi.advanceTimersByTime(UPLOAD_IDLE_MS + 1);
    } finally {
      vi.useRealTimers();
    }
    await until(
      async () => !(await fs.readdir(root)).some((name) => name.includes("abandoned")),
      5_000,
      "the temp file to go",
    );
    expect(pendingUploads()).toBe(0);
  });
});

describe("files.delete", () => {
  it("deletes files, links (not their targets) and folders, recursive only on request", async () => {
    await fs.writeFile(path.join(root, "gone.txt"), "x");
    expect(await del("gone.txt")).toEqual({ path: "gone.txt", deleted: true });
    await fs.symlink("README.md", path.join(root, "link-to-delete"));
    await del("link-to-delete");
    expect(await fs.readFile(path.join(root, "README.md"), "utf8")).toContain("#");
    await del("to-root");
    expect((await fs.stat(root)).isDirectory()).toBe(true);
    await fs.mkdir(path.join(root, "empty-dir"));
    await del("empty-dir");
    await fs.mkdir(path.join(root, "full", "inner"), { recursive: true });
    await fs.symlink(world.outside, path.join(root, "full", "inner", "escape"));
    expect(await kaiError(del("full"))).toMatchObject({
      code: "CONFLICT",
      message: "full: folder is not empty; pass recursive",
    });
    await del("full", true);
    await expect(fs.stat(path.join(root, "full"))).rejects.toThrow();
    expect(await fs.readFile(path.join(world.outside, "secret.txt"), "utf8")).toBe("secret");
    expect((await kaiError(del("gone.txt"))).code).toBe("NOT_FOUND");
  });

  it("never deletes the workspace root", async () => {
    for (const p of ["", ".", "./", "src/..", "src/deep/../.."]) {
      expect((await kaiError(del(p, true))).code, p).toBe("PERMISSION_DENIED");
    }
    expect((await fs.stat(path.join(root, "src"))).isDirectory()).toBe(true);
  });
});

describe("symlinks that stay inside the workspace", () => {
  it("are followed for reads, listings and writes, whatever their form; a dangling one is deleted itself", async () => {
    const dir = path.join(root, "src", "deep");
    await fs.symlink(path.join(root, "README.md"), path.join(dir, "absolute"));
    await fs.symlink("../../README.md", path.join(dir, "relative-up"));
    await fs.symlink("../deep/../../src", path.join(dir, "to-src"));
    await fs.symlink("nowhere", path.join(dir, "dangling"));
    try {
      expect((await read("src/deep/absolute")).path).toBe("README.md");
      expect((await read("src/deep/relative-up")).path).toBe("README.md");
      expect((await read("src/deep/to-src/index.ts")).path).toBe("src/index.ts");
      expect((await list("src/deep/to-src")).path).toBe("src");
      expect((await upload("src/deep/to-src/via-link.txt", Buffer.from("x")))[0]?.path).toBe("src/via-link.txt");
      expect(await fs.readFile(path.join(root, "src", "via-link.txt"), "utf8")).toBe("x");
      expect((await kaiError(read("src/deep/dangling"))).code).toBe("NOT_FOUND");
      expect(await del("src/deep/dangling")).toEqual({ path: "src/deep/dangling", deleted: true });
    } finally {
      for (const name of ["absolute", "relative-up", "to-src", "dangling"])
        await fs.rm(path.join(dir, name), { force: true });
      await fs.rm(path.join(root, "src", "via-link.txt"), { force: true });
    }
  });
});

describe("paths leading out of the workspace are refused by every files op", () => {
  const corpus = [
    "..",
    "../..",
    "a/../../x",
    "src/../../outside/secret.txt",
    "../outside/secret.txt",
    "to-outside",
    "to-outside/secret.txt",
    "to-outside/new.txt",
    "to-outside/newdir/new.txt",
    "to-outside-file",
    "chain-1",
    "chain-1/etc/passwd",
    "to-etc",
    "to-etc/passwd",
  ];

  it("with PERMISSION_DENIED, and nothing outside touched", async () => {
    const before = await snapshot(world.tmp);
    const outsideBefore = await snapshot(world.outside);
    for (const p of corpus) {
      const attempts = {
        list: () => list(p, true),
        read: () => read(p),
        write: () => chunk(p, randomUUID(), 0, Buffer.from("pwned"), true, true),
        delete: () => del(p, true),
      };
      for (const [op, attempt] of Object.entries(attempts))
        expect((await kaiError(attempt())).code, `${op} ${p}`).toBe("PERMISSION_DENIED");
    }
    expect(await snapshot(world.outside)).toEqual(outsideBefore);
    expect(await snapshot(world.tmp)).toEqual(before);
  });

  it("refuses absolute paths and NUL in the schema, and again in the handler", async () => {
    for (const p of ["/etc/passwd", "/", `${root}/README.md`, "a\0b", "README.md\0/../../x"]) {
      expect(COMMANDS["files.read"].params.safeParse({ root, path: p, offset: 0, length: 1 }).success, p).toBe(false);
      // Straight to the handlers, as if the edge had skipped its checks.
      const ops = [
        () => fileHandlers["files.list"]({ root, path: p, hidden: true }, ctx()),
        () => fileHandlers["files.read"]({ root, path: p, offset: 0, length: 10 }, ctx()),
        () =>
          fileHandlers["files.write"](
            { root, path: p, uploadId: randomUUID(), index: 0, data: "eA==", last: true, createParents: true },
            ctx(),
          ),
        () => fileHandlers["files.delete"]({ root, path: p, recursive: true }, ctx()),
      ];
      for (const attempt of ops) expect((await kaiError(attempt())).code, p).toBe("PERMISSION_DENIED");
    }
    expect(await fs.readFile("/etc/passwd", "utf8")).not.toContain("eA");
  });

  it("refuses a workspace root outside the allowed roots", async () => {
    const error = await kaiError(
      call(fileHandlers, "files.list", { root: world.outside, path: "", hidden: false }, ctx()),
    );
    expect(error.code).toBe("PERMISSION_DENIED");
  });
});
