import path from "node:path";

/**
 * The content type of a workspace file, so the edge can answer text as JSON and other
 * files as raw bytes. The extension decides first; a text type is still checked against
 * the content (a `.txt` full of NUL bytes is not text), and an unknown extension is decided
 * by the content alone: a NUL byte or invalid UTF-8 means binary.
 */

const UTF8 = "; charset=utf-8";

/** Extensions whose files are text: served with a charset and still sniffed. */
const TEXT_TYPES: Record<string, string> = {
  txt: "text/plain",
  log: "text/plain",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  md: "text/markdown",
  markdown: "text/markdown",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "text/javascript",
  jsx: "text/javascript",
  ts: "text/typescript",
  mts: "text/typescript",
  cts: "text/typescript",
  tsx: "text/typescript",
  json: "application/json",
  jsonc: "application/json",
  map: "application/json",
  xml: "application/xml",
  svg: "image/svg+xml",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  sh: "application/x-sh",
  py: "text/x-python",
  rb: "text/x-ruby",
  go: "text/x-go",
  rs: "text/x-rust",
  java: "text/x-java",
  c: "text/x-c",
  h: "text/x-c",
  cpp: "text/x-c++",
  hpp: "text/x-c++",
  sql: "application/sql",
  ini: "text/plain",
  env: "text/plain",
};

/** Extensions whose files are binary whatever their first bytes say. */
const BINARY_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  bmp: "image/bmp",
  avif: "image/avif",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  "7z": "application/x-7z-compressed",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  webm: "video/webm",
  sqlite: "application/vnd.sqlite3",
  db: "application/vnd.sqlite3",
};

const OCTET_STREAM = "application/octet-stream";

/** How many leading bytes `guessContentType` needs to decide. */
export const SNIFF_BYTES = 8192;

/**
 * `head` is the first bytes of the file (up to SNIFF_BYTES), `complete` whether that is the
 * whole file: a multi-byte character cut at the end of a partial head is not an error.
 */
export function guessContentType(
  name: string,
  head: Uint8Array,
  complete: boolean,
): { contentType: string; binary: boolean } {
  const extension = path.extname(name).slice(1).toLowerCase();
  const binaryType = BINARY_TYPES[extension];
  if (binaryType !== undefined) return { contentType: binaryType, binary: true };
  if (!looksLikeText(head, complete)) return { contentType: OCTET_STREAM, binary: true };
  return { contentType: `${TEXT_TYPES[extension] ?? "text/plain"}${UTF8}`, binary: false };
}

function looksLikeText(head: Uint8Array, complete: boolean): boolean {
  if (head.includes(0)) return false;
  try {
    // `stream: true` tolerates a character cut at the end of the sniffed window.
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(head, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}
