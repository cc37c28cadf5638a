import * as acp from "@agentclientprotocol/sdk";
import type { AgentProcess } from "./agent-process";

export interface AcpClientHandlers {
  /** A `session/update`'s params, raw, called in the order they arrive (before any later answer). */
  onUpdate: (params: unknown) => void;
  /** A `session/request_permission`; `signal` aborts when the agent withdraws it. */
  onPermission: (params: acp.RequestPermissionRequest, signal: AbortSignal) => Promise<acp.RequestPermissionResponse>;
}

/**
 * Kai's side of ACP with one agent process (SDK 2.x builder API over the child's stdio).
 * Kai advertises no file system and no terminal: agents use their own tools in the workspace.
 */
export class AcpClient {
  readonly #connection: acp.ClientConnection;
  #capabilities: acp.AgentCapabilities = {};

  constructor(agentProcess: AgentProcess, handlers: AcpClientHandlers) {
    const { input, output } = agentProcess.streams();
    const stream = acp.ndJsonStream(input, output);
    this.#connection = acp
      .client({ name: "kai-agent" })
      .onRequest(acp.methods.client.session.requestPermission, ({ params, signal }) =>
        handlers.onPermission(params, signal),
      )
      .connect({ writable: stream.writable, readable: stream.readable.pipeThrough(takeUpdates(handlers.onUpdate)) });
  }

  /** Resolves when the connection ends (the process died or closed its stdout). */
  get closed(): Promise<void> {
    return this.#connection.closed;
  }

  async initialize(): Promise<void> {
    const response = await this.#connection.agent.request(acp.methods.agent.initialize, {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: "kai-agent", version: "1" },
    });
    this.#capabilities = response.agentCapabilities ?? {};
  }

  async newSession(cwd: string): Promise<string> {
    const response = await this.#connection.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
    return response.sessionId;
  }

  /**
   * How the agent can restore a session, by its capabilities: `resume` replays nothing;
   * `load` replays the conversation as updates before it answers.
   */
  get restoreMethod(): "resume" | "load" | undefined {
    if (this.#capabilities.sessionCapabilities?.resume) return "resume";
    return this.#capabilities.loadSession ? "load" : undefined;
  }

  async resume(sessionId: string, cwd: string): Promise<void> {
    await this.#connection.agent.request(acp.methods.agent.session.resume, { sessionId, cwd, mcpServers: [] });
  }

  async load(sessionId: string, cwd: string): Promise<void> {
    await this.#connection.agent.request(acp.methods.agent.session.load, { sessionId, cwd, mcpServers: [] });
  }

  async prompt(sessionId: string, text: string): Promise<acp.StopReason> {
    const response = await this.#connection.agent.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [{ type: "text", text }],
    });
    return response.stopReason;
  }

  cancel(sessionId: string): void {
    // A notification: the agent answers by ending the turn with `cancelled`.
    this.#connection.agent.notify(acp.methods.agent.session.cancel, { sessionId }).catch(() => undefined);
  }

  close(): void {
    this.#connection.close();
  }
}

/**
 * Takes `session/update` notifications off the stream before the SDK sees them, handing
 * their raw params to `onUpdate` in stream order. The SDK (2.4.0) parses every update with
 * its strict schema in a built-in router that runs before any handler, a `'*'` fallback
 * included: an update of a kind (or field value) newer than the SDK would be lost whole.
 * Taken here, they also come before the answer that follows them, so a turn's `done` is its
 * last message by construction.
 */
function takeUpdates(onUpdate: (params: unknown) => void): TransformStream<acp.AnyMessage, acp.AnyMessage> {
  return new TransformStream({
    transform(message, controller) {
      if ("method" in message && !("id" in message) && message.method === acp.methods.client.session.update) {
        try {
          onUpdate(message.params);
        } catch {
          // One update Kai cannot map must not end the connection.
        }
        return;
      }
      controller.enqueue(message);
    },
  });
}
