import { KaiError } from "../../shared/errors";
import { FILE_CHUNK_BYTES, MAX_FILE_BYTES } from "../../shared/schemas/command-params";
import type { Workspace } from "../env";
import { fromBase64, toBase64 } from "../identity/crypto";
import { type HostAgent, relay } from "../relay/relay";

/**
 * Whole-file reads and writes over the relay, a chunk per request, so a large file never
 * travels as one giant frame (a Workers WebSocket message is capped at 1 MiB).
 */

export interface FileContent {
  path: string;
  bytes: Uint8Array;
  size: number;
  modified: string;
  contentType: string;
  binary: boolean;
}

export async function readFile(agent: HostAgent, { root }: Workspace, path: string): Promise<FileContent> {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (;;) {
    const chunk = await relay(agent, "files.read", { root, path, offset, length: FILE_CHUNK_BYTES });
    const bytes = fromBase64(chunk.data);
    parts.push(bytes);
    offset += bytes.length;
    if (chunk.eof || bytes.length === 0) {
      const whole = new Uint8Array(offset);
      let at = 0;
      for (const part of parts) {
        whole.set(part, at);
        at += part.length;
      }
      return {
        path: chunk.path,
        bytes: whole,
        size: chunk.size,
        modified: chunk.modified,
        contentType: chunk.contentType,
        binary: chunk.binary,
      };
    }
  }
}

export async function writeFile(
  agent: HostAgent,
  { root }: Workspace,
  path: string,
  bytes: Uint8Array,
  createParents: boolean,
) {
  if (bytes.length > MAX_FILE_BYTES)
    throw new KaiError("PAYLOAD_TOO_LARGE", `files are limited to ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
  const uploadId = crypto.randomUUID();
  const count = Math.max(1, Math.ceil(bytes.length / FILE_CHUNK_BYTES));
  let result = { path, size: 0, written: false };
  for (let index = 0; index < count; index++) {
    const data = toBase64(bytes.subarray(index * FILE_CHUNK_BYTES, (index + 1) * FILE_CHUNK_BYTES));
    result = await relay(agent, "files.write", {
      root,
      path,
      uploadId,
      index,
      data,
      last: index === count - 1,
      createParents,
    });
  }
  return { path: result.path, size: result.size };
}
