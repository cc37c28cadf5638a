import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { workspacePath } from "../../shared/schemas/command-params";
import { fileEntry } from "../../shared/schemas/workspace";
import type { WorkspaceEnv } from "../env";
import { parseOrThrow as parse } from "../http/errors";
import { problems } from "../http/openapi";
import type { RouteGroup } from "../http/route-group";
import { fromBase64Strict } from "../identity/crypto";
import { relay } from "../relay/relay";
import { fileDownload } from "../workspaces/download";
import { readFile, writeFile } from "../workspaces/files";

/** Query and body shapes of the file routes; they validate requests and document them. */
const listQuery = z.object({ path: workspacePath.default(""), hidden: z.enum(["true", "false"]).default("false") });
const writeJson = z
  .object({
    content: z.string(),
    encoding: z.enum(["utf-8", "base64"]).default("utf-8"),
    create_parents: z.boolean().default(false),
  })
  .strict()
  .meta({ id: "WriteFile" });
const truthy = z
  .enum(["true", "false", "1", "0"])
  .optional()
  .transform((value) => value === "true" || value === "1");

/**
 * The file path from `/files/{path}`, checked like any other input. Hono's `param` has
 * already decoded it once; decoding again broke names holding `%` (`100%25.txt`).
 */
const filePath = (decoded: string | undefined) => parse(workspacePath.min(1), decoded ?? "");

/**
 * An uploaded file's name: one path segment. `/` and NUL can never be part of a name, and
 * `\` is refused too: it is Windows' separator (old browsers sent whole `C:\…` paths), so
 * a name holding it was never meant as one name.
 */
const uploadName = z
  .string()
  .regex(/^[^/\\\u0000]+$/, "a file name cannot hold /, \\ or NUL")
  .refine((value) => value !== "." && value !== "..", "a file name cannot be . or ..");

/**
 * `/files`, `/files/{path}` (GET read, PUT write, DELETE) and `/files/upload`, mounted both
 * under `/api/v1/workspaces/{id}` and on the unscoped `/api/v1` paths. Plain Hono routes:
 * a file path spans slashes, which OpenAPI path templates cannot say, so they are
 * documented with `registerPath` from the same schemas.
 */
export function registerFileRoutes(group: RouteGroup<WorkspaceEnv>): void {
  group.plain("GET", "/files", async (c) => {
    const query = parse(listQuery, c.req.query());
    return c.json(
      await relay(c.var.agent, "files.list", {
        root: c.var.workspace.root,
        path: query.path,
        hidden: query.hidden === "true",
      }),
    );
  });

  group.plain("POST", "/files/upload", async (c) => {
    const form = await c.req.formData().catch(() => {
      throw new KaiError("BAD_REQUEST", "send the files as multipart/form-data (field `files`)");
    });
    const directory = parse(workspacePath.default(""), form.get("path") ?? undefined);
    const createParents = parse(truthy, form.get("create_parents") ?? undefined);
    // Workers' FormData types say string[]; at runtime file fields are File objects.
    const entries: unknown[] = form.getAll("files");
    const files = entries.filter((item): item is File => item instanceof File);
    if (files.length === 0)
      throw new KaiError("VALIDATION_ERROR", "invalid request: attach one or more files in the `files` field");
    const uploaded = [];
    for (const file of files) {
      const name = parse(uploadName, file.name);
      const target = directory ? `${directory.replace(/\/+$/, "")}/${name}` : name;
      uploaded.push(
        await writeFile(c.var.agent, c.var.workspace, target, new Uint8Array(await file.arrayBuffer()), createParents),
      );
    }
    return c.json({ files: uploaded }, 201);
  });

  group.plain("GET", "/files/:path{.+}", async (c) => {
    const file = await readFile(c.var.agent, c.var.workspace, filePath(c.req.param("path")));
    const raw = parse(truthy, c.req.query("raw"));
    if (file.binary || raw) return fileDownload(file);
    return c.json({
      path: file.path,
      content: new TextDecoder().decode(file.bytes),
      encoding: "utf-8",
      size: file.size,
      modified: file.modified,
      content_type: file.contentType,
    });
  });

  group.plain("PUT", "/files/:path{.+}", async (c) => {
    const path = filePath(c.req.param("path"));
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type === "application/json") {
      const body = parse(
        writeJson,
        await c.req.json().catch(() => {
          throw new KaiError("BAD_REQUEST", "the body is not valid JSON");
        }),
      );
      const bytes =
        body.encoding === "base64" ? fromBase64Strict(body.content) : new TextEncoder().encode(body.content);
      if (!bytes) {
        throw new KaiError(
          "VALIDATION_ERROR",
          "invalid request: content is not valid base64 (A-Z, a-z, 0-9, + and /, padded with = to a multiple of 4)",
          {
            details: { fields: { content: ["not valid base64"] } },
          },
        );
      }
      return c.json(await writeFile(c.var.agent, c.var.workspace, path, bytes, body.create_parents));
    }
    if (type === "application/octet-stream" || type?.startsWith("text/")) {
      return c.json(
        await writeFile(
          c.var.agent,
          c.var.workspace,
          path,
          new Uint8Array(await c.req.arrayBuffer()),
          parse(truthy, c.req.query("create_parents")),
        ),
      );
    }
    throw new KaiError(
      "UNSUPPORTED_MEDIA_TYPE",
      "send JSON {content, encoding} or the raw bytes as application/octet-stream",
    );
  });

  group.plain("DELETE", "/files/:path{.+}", async (c) => {
    const path = filePath(c.req.param("path"));
    return c.json(
      await relay(c.var.agent, "files.delete", {
        root: c.var.workspace.root,
        path,
        recursive: parse(truthy, c.req.query("recursive")),
      }),
    );
  });

  const tags = ["workspace files"];
  const errors = problems(401, 403, 404, 409, 413, 422, 503, 504);
  group.document({
    method: "get",
    path: "/files",
    tags,
    summary: "List a workspace directory (hidden entries with hidden=true)",
    request: { query: listQuery },
    responses: {
      200: {
        description: "Entries",
        content: {
          "application/json": {
            schema: z.object({ path: z.string(), entries: z.array(fileEntry), truncated: z.boolean() }),
          },
        },
      },
      ...errors,
    },
  });
  for (const [method, summary] of [
    [
      "get",
      "Read a file: text as JSON {content}; binary (or raw=true) as a download (attachment, sandboxed; active types such as HTML or SVG served as text/plain or octet-stream)",
    ],
    ["put", "Write a file: JSON {content, encoding, create_parents} or raw bytes (application/octet-stream)"],
    ["delete", "Delete a file, or a folder with recursive=true"],
  ] as const) {
    group.document({
      method,
      path: "/files/{path}",
      tags,
      summary,
      request: {
        params: z.object({ path: workspacePath }),
        ...(method === "put" ? { body: { content: { "application/json": { schema: writeJson } } } } : {}),
      },
      responses: { 200: { description: "Done" }, ...errors },
    });
  }
  group.document({
    method: "post",
    path: "/files/upload",
    tags,
    summary: "Upload files (multipart/form-data: `files`, optional `path` and `create_parents`)",
    responses: { 201: { description: "Uploaded" }, ...errors },
  });
}
