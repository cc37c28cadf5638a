import type { FileContent } from "./files";

/**
 * A workspace file's bytes as an HTTP answer. Workspace files are written by whatever runs
 * in the workspace (a coding agent, a cloned repository), so they are untrusted content on
 * Kai's own origin: an HTML or SVG file rendered inline would run its scripts with the
 * owner's cookie. So file bytes are always a download (`Content-Disposition: attachment`),
 * under a CSP that sandboxes and allows nothing, with `nosniff`, and only passive types keep
 * their own content type: anything a browser could render as a document or run as a script
 * (HTML, SVG, XML, JavaScript, PDF, and any type not listed here) is served as
 * `text/plain; charset=utf-8` when it is text and `application/octet-stream` otherwise.
 * An allowlist, so a type added to the agent later is inert until someone decides otherwise.
 */

/** Types served as themselves: a browser displays them at most, never runs them. */
const PASSIVE_TYPES = new Set([
  "application/octet-stream",
  "text/plain",
  "text/csv",
  "text/tab-separated-values",
  "text/markdown",
  "text/css",
  "text/typescript",
  "text/x-python",
  "text/x-ruby",
  "text/x-go",
  "text/x-rust",
  "text/x-java",
  "text/x-c",
  "text/x-c++",
  "application/json",
  "application/yaml",
  "application/toml",
  "application/sql",
  "application/x-sh",
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "image/x-icon",
  "audio/mpeg",
  "audio/wav",
  "video/mp4",
  "video/webm",
  "font/woff",
  "font/woff2",
  "font/ttf",
  "font/otf",
  "application/zip",
  "application/gzip",
  "application/x-tar",
  "application/x-7z-compressed",
  "application/wasm",
  "application/vnd.sqlite3",
]);

/** The content type a file's bytes are served with (see above). */
export function servedType(file: Pick<FileContent, "contentType" | "binary">): string {
  const [mediaType = "", ...parameters] = file.contentType.split(";");
  const type = mediaType.trim().toLowerCase();
  if (PASSIVE_TYPES.has(type)) return [type, ...parameters.map((parameter) => parameter.trim())].join("; ");
  return file.binary ? "application/octet-stream" : "text/plain; charset=utf-8";
}

/**
 * `attachment; filename="…"; filename*=UTF-8''…` for the file's last path segment: the
 * quoted form keeps only printable ASCII other than `"`, `\` and `%` (others become `_`) for
 * old clients, and the RFC 8187 form carries the exact name percent-encoded.
 */
export function attachmentDisposition(path: string): string {
  const name = path.split("/").filter(Boolean).pop() || "download";
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const exact = encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

export function fileDownload(file: FileContent): Response {
  return new Response(file.bytes, {
    headers: {
      "content-type": servedType(file),
      "content-length": String(file.bytes.length),
      "content-disposition": attachmentDisposition(file.path),
      "content-security-policy": "sandbox; default-src 'none'",
      "x-content-type-options": "nosniff",
      "cache-control": "private, no-cache",
      "last-modified": new Date(file.modified).toUTCString(),
    },
  });
}
