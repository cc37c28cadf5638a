import { AgentConnection, type ConnectionOptions } from "../../agent/connection";
import { handlers } from "../../agent/handlers/index";
import { createLogger } from "../../agent/log";
import { AgentRpc } from "../../agent/rpc";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";

/**
 * kai-agent's real connection loop and RPC layer (real handlers, this machine's Docker) for
 * `server`, as the CLI builds them, with the engine's state fixed and `extra` options on top.
 * Returns the connection (not running yet) and the log lines it writes.
 */
export function loopAgent(
  server: string,
  extra: Partial<Omit<ConnectionOptions, "server" | "token" | "log" | "rpcFor">> = {},
): { connection: AgentConnection; lines: string[] } {
  const lines: string[] = [];
  const docker = createDockerClient();
  const connection = new AgentConnection({
    server,
    token: "kai_agent_test",
    log: createLogger((line) => lines.push(line)),
    rpcFor: (hostId, send, batchChunks) =>
      new AgentRpc({
        handlers,
        context: {
          hostId,
          docker,
          liveStats: new LiveStats(docker),
          agentSessions: new AgentSessions({ profiles: [] }),
          policy: { allowedRoots: ["/tmp"], maxDirectoryEntries: 10 },
        },
        send,
        batchChunks,
        log: () => undefined,
      }),
    dockerState: async () => ({ ok: true, version: "test-engine" }),
    ...extra,
  });
  return { connection, lines };
}
