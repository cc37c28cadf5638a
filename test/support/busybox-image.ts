import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type Docker from "dockerode";

/**
 * The test image: a static busybox and applet symlinks, imported from a tar (nothing can be
 * pulled here). Built once per run and reused across runs: the tag is a hash of everything
 * that goes into it, so a changed recipe makes a new tag instead of reusing a stale image.
 */

const execFileAsync = promisify(execFile);
const BUSYBOX = "/bin/busybox";
const REPOSITORY = "kai-test-busybox";
const APPLETS = [
  "sh",
  "sleep",
  "httpd",
  "cat",
  "echo",
  "ls",
  "env",
  "printenv",
  "wget",
  "mkdir",
  "id",
  "true",
  "false",
  "kill",
  "ps",
];
/**
 * `sleep` rather than `sh`: the create command takes no command, and a shell with no stdin
 * exits at once, so the container could never be seen running. busybox sleep as PID 1
 * ignores SIGTERM, so tests stop with short timeouts.
 */
const CMD = ["/bin/sleep", "86400"];
const RECIPE = 1;

export const DOCKER_UNREACHABLE =
  "the Docker engine is not reachable: run `bash scripts/ensure-docker.sh` (it installs and starts the engine), then run the tests again";

/** Fails (never skips) when there is no engine. */
export async function requireDocker(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(`${DOCKER_UNREACHABLE} (${error instanceof Error ? error.message : String(error)})`);
  }
}

let image: Promise<string> | undefined;

/** The image reference (`kai-test-busybox:<hash>`), imported on first use. */
export function busyboxImage(docker: Docker): Promise<string> {
  image ??= ensureImage(docker);
  return image;
}

async function ensureImage(docker: Docker): Promise<string> {
  await requireDocker(docker);
  let binary: Buffer;
  try {
    binary = await fs.readFile(BUSYBOX);
  } catch {
    throw new Error(`${BUSYBOX} is missing: install busybox-static (apt-get install -y busybox-static)`);
  }
  const tag = createHash("sha256")
    .update(binary)
    .update(JSON.stringify({ APPLETS, CMD, RECIPE }))
    .digest("hex")
    .slice(0, 16);
  const reference = `${REPOSITORY}:${tag}`;
  try {
    await docker.getImage(reference).inspect();
    return reference;
  } catch {
    // Not there yet: build it.
  }

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kai-busybox-"));
  try {
    const bin = path.join(dir, "rootfs", "bin");
    await fs.mkdir(bin, { recursive: true });
    await fs.writeFile(path.join(bin, "busybox"), binary, { mode: 0o755 });
    for (const applet of APPLETS) await fs.symlink("busybox", path.join(bin, applet));
    const tarFile = path.join(dir, "rootfs.tar");
    await execFileAsync("tar", ["-C", path.join(dir, "rootfs"), "--owner=0", "--group=0", "-cf", tarFile, "bin"]);
    const stream = await docker.importImage(tarFile, {
      repo: REPOSITORY,
      tag,
      changes: [`CMD ${JSON.stringify(CMD)}`, "LABEL kai-test.image=busybox"],
    });
    const output = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, result: Array<{ error?: string }>) =>
        error ? reject(error) : resolve(result),
      );
    });
    const failure = output.find((line) => line.error);
    if (failure) throw new Error(`docker import failed: ${failure.error}`);
    await docker.getImage(reference).inspect();
    return reference;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
