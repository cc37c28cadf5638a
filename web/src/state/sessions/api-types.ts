import type { paths } from "../../api/schema";

type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;

/** An agent session as `GET /api/v1/agent-sessions` lists it. */
export type AgentSession = Json<paths["/api/v1/agent-sessions"]["get"]["responses"][200]>["sessions"][number];

/** A pending approval as the inbox (`GET /api/v1/approvals`) lists it. */
export type PendingApproval = Json<paths["/api/v1/approvals"]["get"]["responses"][200]>["approvals"][number];

/** A person's answer to an approval (the API also takes an exact option kind; the dashboard offers these two). */
export type Decision = "allow" | "reject";
