import { api, call } from "../../api/client";

/** The largest file opened in the editor; bigger ones are offered as a download instead. */
export const EDITABLE_BYTES = 1024 * 1024;

/** A file as the Files tab shows it: text to edit, or a binary file to download. */
export type OpenedFile =
  | { kind: "text"; path: string; content: string; modified: string; size: number }
  | { kind: "binary"; path: string; contentType: string };

const file = (workspaceId: string, path: string) => ({ params: { path: { workspaceId, path } } });

/** The URL that downloads a file as it is (the API answers it as an attachment). */
export const downloadUrl = (workspaceId: string, path: string) => {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/workspaces/${encodeURIComponent(workspaceId)}/files/${encoded}?raw=true`;
};

export async function listDirectory(workspaceId: string, path: string) {
  return call(
    api.GET("/api/v1/workspaces/{workspaceId}/files", { params: { path: { workspaceId }, query: { path } } }),
  );
}

/**
 * Reads a file: the API answers text as JSON and a binary file as a download, so the answer's
 * type says which it is.
 */
export async function readTextOrBinary(workspaceId: string, path: string): Promise<OpenedFile> {
  const pending = api.GET("/api/v1/workspaces/{workspaceId}/files/{path}", {
    ...file(workspaceId, path),
    parseAs: "text",
  });
  const text = (await call(pending)) as unknown as string;
  const type = (await pending).response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) return { kind: "binary", path, contentType: type };
  const body = JSON.parse(text) as { content: string; modified: string; size: number };
  return { kind: "text", path, content: body.content, modified: body.modified, size: body.size };
}

export async function writeText(workspaceId: string, path: string, content: string, createParents = false) {
  await call(
    api.PUT("/api/v1/workspaces/{workspaceId}/files/{path}", {
      ...file(workspaceId, path),
      body: { content, encoding: "utf-8", create_parents: createParents },
    }),
  );
}

export async function deletePath(workspaceId: string, path: string, recursive: boolean) {
  await call(
    api.DELETE("/api/v1/workspaces/{workspaceId}/files/{path}", {
      params: { path: { workspaceId, path }, query: { recursive: recursive ? "true" : "false" } } as never,
    }),
  );
}

/** Uploads `files` into the directory `path` (multipart: the route reads the `files` and `path` fields). */
export async function upload(workspaceId: string, path: string, files: File[]) {
  const form = new FormData();
  form.set("path", path);
  for (const each of files) form.append("files", each);
  await call(
    api.POST("/api/v1/workspaces/{workspaceId}/files/upload", {
      params: { path: { workspaceId } },
      body: form as never,
      bodySerializer: (body: unknown) => body as FormData,
    }),
  );
}
