import { createHash } from "node:crypto";
import { type AgentManifest, fetchChecked, UpgradeError } from "./manifest";

/**
 * Downloads the bundle the manifest names and checks it against the manifest: exactly `size`
 * bytes (reading stops past that: a server that keeps sending is not trusted with memory) and
 * the `sha256`. Throws UpgradeError before anything is written.
 */
export async function downloadBundle(url: URL, manifest: AgentManifest): Promise<Uint8Array> {
  const response = await fetchChecked(url);
  if (!response.body) throw new UpgradeError(`${url} answered no body`);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of response.body) {
    size += part.length;
    if (size > manifest.size) break;
    parts.push(part);
  }
  if (size !== manifest.size)
    throw new UpgradeError(
      `the download from ${url} is ${size > manifest.size ? "larger" : "smaller"} than the manifest says ` +
        `(${manifest.size} bytes): it was cut or changed on the way; try again`,
    );
  const bytes = Buffer.concat(parts);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== manifest.sha256)
    throw new UpgradeError(
      `checksum mismatch: the manifest says sha256 ${manifest.sha256}, the download from ${url} has ${sha256}; ` +
        "try again, and if it persists the server's release is broken (rebuild it with npm run build:web)",
    );
  return bytes;
}
