import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { rssMiB } from "../agent-footprint";
import type { Figure } from "../run";
import { descendantPids, workerPids } from "./cpu-meter";
import type { Inspector } from "./inspector";
import type { KaiStack } from "./kai-stack";
import { round } from "./stats";

/**
 * Memory of agent sessions for bench/agent-sessions.ts, read from /proc: kai-agent's own
 * (after a full collection forced through its inspector), the agent processes it started,
 * and the Worker's workerd, where the host's Durable Object keeps each session's log.
 */

const SETTLE_MS = 2_000;
const execFileAsync = promisify(execFile);

export interface Memory {
  /** kai-agent's VmRSS right after a forced full collection, and its JavaScript heap in use (MiB). */
  agent: number;
  agentHeap: number;
  /** The processes kai-agent started (the fixture agents and what they run), summed (MiB). */
  agentProcesses: number;
  processCount: number;
  /** The Worker's workerd (not wrangler's dev proxy), summed (MiB). */
  workerd: number;
  /** workerd's persisted state on disk (KiB). */
  stateKiB: number;
}

/** Reads, `SETTLE_MS` after the last change and right after a full collection of kai-agent, what each side holds. */
export async function readMemory(stack: KaiStack, agentPid: number, inspector: Inspector): Promise<Memory> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  await inspector.collectGarbage();
  const children = descendantPids(agentPid);
  const sum = async (pids: number[]) =>
    (await Promise.all(pids.map((pid) => rssMiB(pid).catch(() => 0)))).reduce((all, one) => all + one, 0);
  const du = await execFileAsync("du", ["-sk", stack.stateDir]);
  return {
    agent: await rssMiB(agentPid),
    agentHeap: (await inspector.heapUsed()) / 2 ** 20,
    agentProcesses: await sum(children),
    processCount: children.length,
    workerd: await sum(workerPids()),
    stateKiB: Number(du.stdout.split(/\s/)[0]),
  };
}

/** Per session: `before` with none, `idle` with `sessions` idle ones, `filled` once each sent `stored` messages. */
export function memoryFigures(m: {
  before: Memory;
  idle: Memory;
  filled: Memory;
  stored: number;
  sessions: number;
}): Figure[] {
  const { before, idle, filled, stored, sessions } = m;
  const per = (value: number) => value / sessions;
  const mib = (value: number) => `${round(value)} MiB`;
  const details = { sessions, storedPerSession: stored, before, idle, filled };
  const storedKiB = filled.stateKiB - idle.stateKiB;
  return [
    {
      figure: `kai-agent RSS per idle agent session (${sessions} sessions)`,
      value: per(idle.agent - before.agent),
      unit: "MiB",
      note: [
        `kai-agent's VmRSS after a full collection forced through its inspector, ${SETTLE_MS / 1000} s after the last`,
        `change: ${mib(before.agent)} with no session, ${mib(idle.agent)} with ${sessions} idle ones (heap in use`,
        `${mib(before.agentHeap)} → ${mib(idle.agentHeap)}), ${mib(filled.agent)} once each had sent ${stored}`,
        `messages, which its ring keeps for resends (${round(per(filled.agent - before.agent), 2)} MiB per session);`,
        "the agent processes are not in it (next row)",
      ].join(" "),
      details,
    },
    {
      figure: "agent process RSS per session (the fixture ACP agent)",
      value: per(idle.agentProcesses),
      unit: "MiB",
      note: [
        `the ${idle.processCount} processes kai-agent started for ${sessions} sessions, VmRSS summed: each is Node`,
        "running the fixture through tsx's loader, so this is Node's own floor, not a real coding agent's",
        "(Claude Code alone is ~130 MB); a session costs its host this plus kai-agent's share above",
      ].join(" "),
    },
    {
      figure: `workerd RSS per session with ${stored} stored messages`,
      value: per(filled.workerd - before.workerd),
      unit: "MiB",
      note: [
        "the local Worker's workerd process (the Worker, D1 and every Durable Object; wrangler's dev proxy apart),",
        `VmRSS before any session ${mib(before.workerd)}, with ${sessions} idle ones ${mib(idle.workerd)}, after`,
        `each stored ${stored} messages and their viewers left ${mib(filled.workerd)}; no collection can be forced`,
        "there, so this is an upper bound of what one host's object keeps, noise included; the messages live in",
        `the object's SQLite: on disk ${round((storedKiB * 1024) / (sessions * stored))} bytes per message`,
        `(workerd's state grew ${round(storedKiB / 1024, 1)} MiB; the files grow by whole pages and the WAL,`,
        "so few messages overstate it)",
      ].join(" "),
    },
  ];
}
