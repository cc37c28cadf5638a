#!/usr/bin/env node
import type Docker from "dockerode";
import { CONTAINER_EVENT_TOPIC } from "../shared/protocol";
import { AGENT_VERSION } from "../shared/version";
import { ConfigError, parseCommand, USAGE } from "./config";
import { AgentConnection } from "./connection";
import { reportHostStats } from "./connection/stats-reporter";
import { EXIT_CONFIG, EXIT_FINAL } from "./exit-codes";
import { handlers } from "./handlers/index";
import { systemStats } from "./handlers/system-stats";
import { createLogger } from "./log";
import { login } from "./login";
import { loadPolicy } from "./policy";
import { AgentRpc } from "./rpc";
import { agentProfileInfos } from "./runtime/acp/agent-profiles";
import { AgentSessions } from "./runtime/acp/agent-sessions";
import { createDockerClient, RemoteEngineError } from "./runtime/docker/client";
import { ContainerIndex } from "./runtime/docker/container-index";
import { engineState } from "./runtime/docker/engine-state";
import { type EventObserver, watchContainerEvents } from "./runtime/docker/events";
import { LiveStats } from "./runtime/docker/live-stats";
import { SUBCOMMANDS } from "./subcommands";

/** `kai-agent`: parse the command line, load the local policy, and hold the connection. */
async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
  if (subcommand) return subcommand(rest);
  let command;
  try {
    command = await parseCommand(process.argv.slice(2));
    if (command.kind === "login") {
      if (command.withToken) await login(command, { stdin: process.stdin, stderr: process.stderr });
      else {
        // Nothing is written before the token arrives, so stopping while waiting leaves nothing behind.
        process.once("SIGINT", () => {
          process.stderr.write("\nkai-agent: login cancelled; nothing was saved\n");
          process.exit(130);
        });
        // Imported here: its schemas are memory the running agent does not need.
        const { deviceLogin } = await import("./device-login");
        await deviceLogin(command, { stderr: process.stderr });
      }
      return 0;
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kai-agent: ${error.message}\nRun kai-agent --help for usage.\n`);
    return EXIT_CONFIG;
  }
  if (command.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command.kind === "version") {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }

  const { config } = command;
  const log = createLogger(undefined, config.logLevel);
  let policy;
  try {
    policy = await loadPolicy(config.policyFile, { warn: (message) => log("warn", message) });
  } catch (error) {
    process.stderr.write(`kai-agent: ${(error as Error).message}\n`);
    return EXIT_CONFIG;
  }
  let docker: Docker;
  try {
    docker = createDockerClient(config.dockerSocket ? { socketPath: config.dockerSocket } : {});
  } catch (error) {
    if (!(error instanceof RemoteEngineError)) throw error;
    process.stderr.write(`kai-agent: ${error.message}: ${error.fix}\n`);
    return EXIT_CONFIG;
  }
  // One for the agent, not per connection: a reconnect keeps the streams it has warmed.
  const liveStats = new LiveStats(docker, { log });
  // One for the agent, filled from the event stream of each connection.
  const containerIndex = new ContainerIndex(docker);
  const profiles = policy.agentProfiles ?? [];
  // One for the agent: sessions outlive a connection; the edge re-syncs them after a reconnect.
  const agentSessions = new AgentSessions({ profiles, policyFile: policy.file, ...policy.agentSessionTimeouts });
  log("info", "starting", {
    version: AGENT_VERSION,
    allowed_roots: policy.allowedRoots.join(","),
    agent_profiles: profiles.map((profile) => profile.name).join(",") || "none",
  });

  const connection = new AgentConnection({
    server: config.server,
    token: config.token,
    log,
    rpcFor: (hostId, send, batchChunks) =>
      new AgentRpc({
        handlers,
        context: { hostId, policy, docker, liveStats, containerIndex, agentSessions, settings: config },
        send,
        batchChunks,
        log,
      }),
    agentProfiles: agentProfileInfos(profiles),
    // Container events and agent session events go to the edge while it listens; a reconnect
    // resubscribes (and the edge asks for the agent session messages it missed with sync).
    // The engine's event stream also drives the reported Docker state (engineStream).
    whileConnected: (hostId, publish, signal, asks, engineStream) => {
      agentSessions.attach(publish, signal);
      const index = containerIndex.observer(hostId);
      const observer: EventObserver = {
        opened: () => {
          index.opened();
          engineStream.opened();
        },
        lost: () => {
          index.lost();
          engineStream.lost();
        },
        event: index.event,
      };
      void watchContainerEvents(docker, hostId, (event) => publish(CONTAINER_EVENT_TOPIC, event), signal, log, {
        observer,
      });
      if (config.statsIntervalMs > 0) {
        const context = { hostId, policy, docker, liveStats, agentSessions, emit() {} };
        const stats = (signal: AbortSignal) => systemStats({}, { ...context, requestId: "host-stats", signal });
        const canPublish = () => !signal.aborted;
        const reporter = reportHostStats({
          stats,
          publish,
          canPublish,
          intervalMs: config.statsIntervalMs,
          log,
          signal,
        });
        asks.hostStats = (send) => reporter.send(send);
      }
    },
    dockerState: (timeoutMs) => engineState(docker, timeoutMs),
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log("info", "stopping", { signal });
      connection.stop();
      liveStats.stop();
      // Started now, awaited again before exit (below): agents get their grace while the socket closes.
      void agentSessions.stopAll();
    });
  }
  const reason = await connection.run();
  // Agent processes lead their own process groups: they outlive kai-agent unless stopped here.
  await agentSessions.stopAll();
  // run() returns only when stopped or when reconnecting cannot help: a service manager must not restart it then.
  return reason === "stopped" ? 0 : EXIT_FINAL;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`kai-agent: unexpected failure: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
