import { type ChildProcess, spawn } from "node:child_process";
import WebSocket from "ws";

type Reply = { result?: { usedSize?: number }; error?: { message: string } };

/** What Node prints on stderr when started with `--inspect`. */
export const INSPECTOR_LINE = /Debugger listening on (ws:\/\/\S+)/;

/**
 * A DevTools protocol session with a Node process started with `--inspect=127.0.0.1:0`, so a
 * benchmark can force a full garbage collection before reading the process's memory: a
 * 10-minute idle window holds at most one natural major collection, and without forcing
 * one, garbage awaiting collection looks like growth.
 */
export class Inspector {
  #nextId = 1;
  readonly #waiting = new Map<number, (reply: Reply) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const reply = JSON.parse(data.toString()) as Reply & { id?: number };
      if (reply.id !== undefined) this.#waiting.get(reply.id)?.(reply);
    });
  }

  /** Opens a session once the process has said where its inspector listens. */
  static async open(url: Promise<string>): Promise<Inspector> {
    const socket = new WebSocket(await within(url, "the inspector's address"), { perMessageDeflate: false });
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      }),
      "the inspector session",
    );
    return new Inspector(socket);
  }

  /** A full, blocking collection in the inspected process. */
  async collectGarbage(): Promise<void> {
    await this.#call("HeapProfiler.collectGarbage");
  }

  /** Bytes of the JavaScript heap in use. */
  async heapUsed(): Promise<number> {
    return Number((await this.#call("Runtime.getHeapUsage")).result?.usedSize);
  }

  async #call(method: string): Promise<Reply> {
    const id = this.#nextId++;
    const reply = await within(
      new Promise<Reply>((resolve) => {
        this.#waiting.set(id, resolve);
        this.socket.send(JSON.stringify({ id, method }));
      }),
      `the inspector's answer to ${method}`,
    ).finally(() => this.#waiting.delete(id));
    if (reply.error) throw new Error(`the inspector refused ${method}: ${reply.error.message}`);
    return reply;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** A bare `node -e` process doing nothing, the footprint's baseline; inspectable on request. */
export function bareNode(options: { inspect?: boolean } = {}): {
  child: ChildProcess;
  inspectorUrl: Promise<string>;
  exited: Promise<unknown>;
} {
  const args = [...(options.inspect ? ["--inspect=127.0.0.1:0"] : []), "-e", "setInterval(()=>{},1e3)"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const inspectorUrl = new Promise<string>((resolve, reject) => {
    let text = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const url = INSPECTOR_LINE.exec(text)?.[1];
      if (url) resolve(url);
    });
    child.once("exit", () => reject(new Error("the bare Node process exited before its inspector listened")));
  });
  // Only awaited when inspecting; a plain process never prints the line.
  inspectorUrl.catch(() => undefined);
  return { child, inspectorUrl, exited };
}

/** Fails instead of hanging the whole run when an inspected process has died. */
function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
