import { z } from "zod";

/** `SERVER/agent/kai-agent.json`, as scripts/agent-bundle.ts writes it; checked before it is trusted. */
const manifestSchema = z.object({
  version: z.string().regex(/^[\w.+-]{1,64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z
    .number()
    .int()
    .positive()
    .max(256 * 1024 * 1024),
  // A name beside the manifest, never a path or another host.
  file: z.string().regex(/^[\w.-]+$/),
  node: z.string(),
});

export type AgentManifest = z.infer<typeof manifestSchema>;

/** A step of the upgrade that failed; the message says what happened and that nothing changed. */
export class UpgradeError extends Error {}

export async function fetchChecked(url: URL): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(60_000), redirect: "follow" });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UpgradeError(
      `cannot reach ${url.origin} (${cause}): check the address and your network (kai-agent doctor checks both)`,
    );
  }
  if (!response.ok)
    throw new UpgradeError(
      `${url} answered HTTP ${response.status}: is ${url.origin} a Kai server? pass the right one with --server URL`,
    );
  return response;
}

/** Fetches and checks the served release's manifest. */
export async function fetchManifest(server: string): Promise<{ url: URL; manifest: AgentManifest }> {
  let url: URL;
  try {
    url = new URL("agent/kai-agent.json", server.endsWith("/") ? server : `${server}/`);
  } catch {
    throw new UpgradeError(`the server must be an http(s) URL such as https://kai.example.com, got ${server}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new UpgradeError(`the server must be an http(s) URL such as https://kai.example.com, got ${server}`);
  const response = await fetchChecked(url);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new UpgradeError(`${url} is not JSON: is ${url.origin} a Kai server?`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UpgradeError(`${url} is not a kai-agent manifest (${issue?.path.join(".")}: ${issue?.message})`);
  }
  return { url, manifest: parsed.data };
}
