import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { DoctorReport } from "../../shared/schemas/doctor";
import { connectAgent, enrolledHost } from "./agent-socket";
import { call, expectEnvelopeError, registerUser } from "./helpers";

/**
 * The edge keeps each host's last relayed `kai-agent doctor` report: the host's page shows it
 * while the machine is offline. The agent here is a raw socket answering the real relay.
 */

const reportOf = (summary: string, ok: boolean): DoctorReport => ({
  ok,
  summary,
  agentVersion: "test",
  checkedAt: new Date().toISOString(),
  checks: [{ id: "node", title: "Node", status: ok ? "pass" : "fail", detail: "Node 22", fix: null }],
});

type Frame = { type: string; id?: string; op?: string };

/** Runs the doctor through the relay with the raw agent answering `report`; the run's answer is 200 either way. */
async function runDoctor(enrolled: Awaited<ReturnType<typeof enrolledHost>>, report: DoctorReport) {
  const agent = await connectAgent(enrolled);
  const answer = call(`/api/hosts/${enrolled.host.id}/doctor`, { method: "POST", token: enrolled.user.accessToken });
  const request = await agent.next<Frame>((frame) => frame.type === "req" && frame.op === "doctor.run");
  agent.socket.send(JSON.stringify({ type: "res", id: request.id, ok: true, result: report }));
  const res = await answer;
  expect(res.status).toBe(200);
  expect(((await res.json()) as { data: DoctorReport }).data).toEqual(report);
  agent.socket.close(1000, "done");
  await agent.closed;
}

const lastReport = async (hostId: string, token: string) => {
  const res = await call(`/api/hosts/${hostId}/doctor`, { token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { report: DoctorReport | null } }).data.report;
};

describe("GET /api/hosts/{id}/doctor", () => {
  it("is null before the first run, then the last relayed report, kept while the agent is gone", async () => {
    const enrolled = await enrolledHost();
    const { id } = enrolled.host;
    const token = enrolled.user.accessToken;
    expect(await lastReport(id, token)).toBeNull();

    const first = reportOf("1 check failed", false);
    await runDoctor(enrolled, first);
    expect(await lastReport(id, token)).toEqual(first);

    const second = reportOf("kai-agent looks healthy", true);
    await runDoctor(enrolled, second);
    // The agent has disconnected: the report is the edge's, not asked of the host.
    expect(await lastReport(id, token)).toEqual(second);
  });

  it("keeps nothing from an answer that is not a report, and is 404 for another user's host", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const answer = call(`/api/hosts/${enrolled.host.id}/doctor`, {
      method: "POST",
      token: enrolled.user.accessToken,
    });
    const request = await agent.next<Frame>((frame) => frame.type === "req" && frame.op === "doctor.run");
    agent.socket.send(JSON.stringify({ type: "res", id: request.id, ok: true, result: { ok: "yes" } }));
    await expectEnvelopeError(await answer, 500, "INTERNAL_ERROR");
    expect(await lastReport(enrolled.host.id, enrolled.user.accessToken)).toBeNull();

    const stranger = await registerUser();
    const res = await call(`/api/hosts/${enrolled.host.id}/doctor`, { token: stranger.accessToken });
    await expectEnvelopeError(res, 404, "NOT_FOUND");
  });

  it("answers the run even when keeping its report fails, and keeps the one before", async () => {
    const enrolled = await enrolledHost();
    const first = reportOf("kai-agent looks healthy", true);
    await runDoctor(enrolled, first);
    // D1 refuses this host's report rows (a trigger), as a failing write would.
    const trigger = `fail_doctor_${enrolled.host.id.replaceAll("-", "_")}`;
    await env.DB.exec(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE ON doctor_reports WHEN NEW.host_id = '${enrolled.host.id}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END;`,
    );
    try {
      await runDoctor(enrolled, reportOf("1 check failed", false));
    } finally {
      await env.DB.exec(`DROP TRIGGER ${trigger}`);
    }
    expect(await lastReport(enrolled.host.id, enrolled.user.accessToken)).toEqual(first);
  });
});
