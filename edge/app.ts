import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import { MAX_FILE_BYTES } from "../shared/schemas/command-params";
import { configFrom } from "./config";
import { database } from "./db/client";
import type { AppEnv } from "./env";
import { bodyLimit } from "./http/body-limit";
import { methodNotAllowedResponse, onError, onNotFound, validationHook } from "./http/errors";
import { jsonDepthLimit } from "./http/json-depth";
import { AUTH_PER_IP, apiRateLimit, rateLimit } from "./middleware/rate-limit";
import { refuseCrossSite } from "./middleware/refuse-cross-site";
import { agentChatRoutes } from "./routes/agent-chats";
import { agentConnect } from "./routes/agent-connect";
import { agentSelfRoutes } from "./routes/agent-self";
import { agentSessionRoutes, agentSessionSocketRoutes } from "./routes/agent-sessions";
import { auditRoutes } from "./routes/audit";
import { authSessions } from "./routes/auth-sessions";
import { authUsers } from "./routes/auth-users";
import { authVerifications } from "./routes/auth-verifications";
import { catalogHostRoutes, catalogRoutes } from "./routes/catalog";
import { devMailboxRoutes } from "./routes/dev-mailbox";
import { deviceAgentRoutes, deviceApprovalRoutes } from "./routes/device";
import { flexyRoutes } from "./routes/flexy";
import { hostDirectoriesRoutes } from "./routes/host-directories";
import { hostDoctorRoutes } from "./routes/host-doctor";
import { hostAgentRoutes, hostsRoutes } from "./routes/hosts";
import { installRoutes } from "./routes/install";
import { servicesRoutes } from "./routes/services";
import { systemRoutes } from "./routes/system";
import { systemStatsRoutes } from "./routes/system-stats";
import { tokensRoutes } from "./routes/tokens";
import { userEventRoutes } from "./routes/user-events";
import { usersRoutes } from "./routes/users";
import { webhooksRoutes } from "./routes/webhooks";
import { scopedWorkspaceRoutes, unscopedWorkspaceRoutes } from "./routes/workspaces";

/** JSON bodies above this are refused with 413 before anything parses them. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The Worker's HTTP surface. This file is the table of contents: each line mounts one route group. */
export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

// The request's settings and database handle, set once for every route and middleware.
app.use("*", async (c, next) => {
  c.set("config", configFrom(c.env));
  c.set("db", database(c.env.DB));
  await next();
});
// Every answer names its request, so a person can quote it in a report (the dashboard shows it
// with each error); a server error logs the same id next to the failure's own log line.
app.use("*", async (c, next) => {
  const requestId = crypto.randomUUID();
  await next();
  if (c.res.status === 101) return;
  c.header("X-Request-Id", requestId);
  if (c.res.status >= 500) console.error(`kai: request ${requestId}: ${c.req.method} ${c.req.path} ${c.res.status}`);
});
// WebSocket upgrade answers (101) must reach the client untouched.
app.use("*", async (c, next) =>
  c.req.header("Upgrade")?.toLowerCase() === "websocket" ? next() : secureHeaders()(c, next),
);
// Before methodNotAllowed, so the 405 it substitutes still gets the rate-limit headers.
app.use("/api/*", apiRateLimit);
app.use("*", methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedResponse }));
/** File writes and uploads may carry a whole file (plus base64 or multipart overhead). */
const FILE_BODY_BYTES = Math.ceil(MAX_FILE_BYTES * 1.4);
const jsonLimit = bodyLimit(MAX_BODY_BYTES);
const fileLimit = bodyLimit(FILE_BODY_BYTES);
app.use("/api/*", (c, next) =>
  /^\/api\/v1\/(workspaces\/[^/]+\/)?files(\/|$)/.test(c.req.path) ? fileLimit(c, next) : jsonLimit(c, next),
);
// After the size limits: every JSON body, whichever route parses it, is checked for depth here.
app.use("/api/*", jsonDepthLimit);
app.use("/api/v1/auth/*", rateLimit(AUTH_PER_IP));
app.use("/api/v1/auth/sessions", refuseCrossSite);
app.use("/api/v1/auth/verifications/verify", refuseCrossSite);

app.route("/", systemRoutes);
app.route("/", installRoutes);
app.route("/api/v1/auth/verifications", authVerifications);
app.route("/api/v1/auth/sessions", authSessions);
app.route("/api/v1/auth/users", authUsers);
app.route("/api/v1/users", usersRoutes);
app.route("/api/v1/dev/mailbox", devMailboxRoutes);
app.route("/api/tokens", tokensRoutes);
app.route("/api/hosts", hostsRoutes);
app.route("/api/hosts", hostAgentRoutes);
app.route("/api/hosts", hostDoctorRoutes);
app.route("/api/v1/device", deviceAgentRoutes);
app.route("/api/v1/device", deviceApprovalRoutes);
app.route("/api/agent/connect", agentConnect);
app.route("/api/agent", agentSelfRoutes);
app.route("/api/flexy", flexyRoutes);
app.route("/api/catalog/flexy", catalogRoutes);
app.route("/api/catalog/flexy", catalogHostRoutes);
app.route("/api/host/directories", hostDirectoriesRoutes);
app.route("/api/audit", auditRoutes);
app.route("/api/services", servicesRoutes);
app.route("/api/system/stats", systemStatsRoutes);
app.route("/api/webhooks", webhooksRoutes);
app.route("/api/v1/workspaces/:workspaceId", scopedWorkspaceRoutes());
app.route("/api/v1", unscopedWorkspaceRoutes());
app.route("/api/v1", agentSessionRoutes);
app.route("/api/v1", agentChatRoutes);
app.route("/api/v1/ws", agentSessionSocketRoutes);
app.route("/api/v1/ws", userEventRoutes);

app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  description: "An access token from /api/v1/auth/sessions or a personal API token (kai_pat_…).",
});
app.openAPIRegistry.registerComponent("securitySchemes", "agentToken", {
  type: "http",
  scheme: "bearer",
  description: "A host's agent token (kai_agent_…), for kai-agent's own requests.",
});
app.openAPIRegistry.registerComponent("securitySchemes", "cookie", {
  type: "apiKey",
  in: "cookie",
  name: "__Host-kai_session",
});
app.doc31("/api/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Kai API",
    version: "0.1.0",
    description:
      "Run and steer dev-sandbox containers and coding agents on your own machines. `/api/...` answers in the Kai envelope; `/api/v1/...` answers plain JSON with RFC 7807 errors.",
  },
});
app.get("/api/docs", swaggerUI({ url: "/api/openapi.json", title: "Kai API reference" }));

app.onError(onError);
app.notFound(onNotFound);
