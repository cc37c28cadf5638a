/** Headers the Worker sets on the requests it hands to a HostRelay (never taken from a client: see upgrade.ts). */
export const HOST_ID_HEADER = "X-Kai-Host-Id";
export const HOST_NAME_HEADER = "X-Kai-Host-Name";
export const HOST_OWNER_HEADER = "X-Kai-User-Id";
/** The agent's turn in the connect pace (edge/connect-turns.ts), released once its hello is recorded. */
export const CONNECT_LEASE_HEADER = "X-Kai-Connect-Lease";
/** Set by the Worker when a client (not an agent) opens a socket to watch a streamed command. */
export const VIEWER_OP_HEADER = "X-Kai-Stream-Op";
export const VIEWER_PARAMS_HEADER = "X-Kai-Stream-Params";
export const VIEWER_REQUEST_HEADER = "X-Kai-Request-Id";
/** `batch` when the viewer asked for batched frames (`frames=batch`); absent for one frame per chunk. */
export const VIEWER_FRAMES_HEADER = "X-Kai-Stream-Frames";
/**
 * The credential that opened a viewer (`pat:<token id>` or `session:<session id>`), so
 * revoking it closes the viewer.
 */
export const VIEWER_CREDENTIAL_HEADER = "X-Kai-Credential";
/** Set by the Worker when a client opens `WS /api/v1/ws/agent-sessions/{id}`: the session (already checked as the caller's). */
export const AGENT_SESSION_HEADER = "X-Kai-Agent-Session";
/** The last message that viewer has seen (`?since=`), 0 for everything kept. */
export const AGENT_SESSION_SINCE_HEADER = "X-Kai-Agent-Session-Since";
