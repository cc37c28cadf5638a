import { createRoute } from "@hono/zod-openapi";
import {
  deviceApprovalBody,
  deviceApproved,
  deviceCode,
  deviceCodeBody,
  deviceToken,
  deviceTokenBody,
  displayUserCode,
  normaliseUserCode,
  pendingDevice,
  userCodeParam,
} from "../../shared/schemas/device";
import {
  approveDeviceLogin,
  denyDeviceLogin,
  findPendingDevice,
  pollDeviceLogin,
  startDeviceLogin,
} from "../device/device-logins";
import { expectDialer } from "../hosts/connect-pacer";
import { toHost } from "../hosts/hosts";
import { jsonBody, problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { publicOrigin } from "../install/public-origin";
import { clientIp } from "../middleware/client-ip";
import { consume, rateLimit } from "../middleware/rate-limit";

/**
 * Device login (RFC 8628), `/api/v1/device`: `kai-agent login` asks for a code and polls
 * (anonymous, `deviceAgentRoutes`); a signed-in person looks the code up and approves or
 * denies it (`deviceApprovalRoutes`). Both groups are mounted at the same path.
 */
export const deviceAgentRoutes = declareRoutes("public");
export const deviceApprovalRoutes = declareRoutes("signedIn");

/** New codes per client address: an agent asks for one per login. */
const CODES_PER_IP = { name: "device-codes-ip", limit: 10, windowSeconds: 60 };
/** Lookups and decisions per user: a person needs two or three per login; guessing codes needs billions. */
const DECISIONS_PER_USER = { name: "device-user", limit: 10, windowSeconds: 60 };

deviceAgentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/codes",
    tags: ["device"],
    summary: "Start a device login (kai-agent login): a device code to poll with and a user code for a person",
    middleware: [rateLimit(CODES_PER_IP)] as const,
    request: { body: jsonBody(deviceCodeBody) },
    responses: {
      201: { description: "Codes issued", content: { "application/json": { schema: deviceCode } } },
      ...problems(400, 422, 429),
    },
  }),
  async (c) => {
    // Before anything is stored: a Host header no page can be named at is a 400 that leaves no code behind.
    const origin = publicOrigin(c.var.config, c.req.url);
    const ttlSeconds = c.var.config.DEVICE_CODE_TTL_SECONDS;
    const { deviceCode, userCode } = await startDeviceLogin(c.var.db, {
      ...c.req.valid("json"),
      clientIp: clientIp(c),
      ttlSeconds,
    });
    const verificationUri = `${origin}/device`;
    return c.json(
      {
        deviceCode,
        userCode,
        verificationUri,
        verificationUriComplete: `${verificationUri}?code=${userCode}`,
        expiresIn: ttlSeconds,
        interval: c.var.config.DEVICE_POLL_INTERVAL_SECONDS,
      },
      201,
    );
  },
);

deviceAgentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/token",
    tags: ["device"],
    summary: "Poll a device login: pending, or (once, after approval) the host and its agent token",
    description:
      "Poll no more often than `interval`: sooner is 429 with Retry-After. Denied: 403. " +
      "Expired, unknown or already collected: 404 (start again with `kai-agent login`).",
    request: { body: jsonBody(deviceTokenBody) },
    responses: {
      200: { description: "Pending, or approved", content: { "application/json": { schema: deviceToken } } },
      ...problems(403, 404, 422, 429),
    },
  }),
  async (c) => {
    // The approved answer carries a token: no cache may keep any answer here (RFC 6749 §5.1).
    c.header("Cache-Control", "no-store");
    const poll = await pollDeviceLogin(
      c.var.db,
      c.req.valid("json").deviceCode,
      c.var.config.DEVICE_POLL_INTERVAL_SECONDS,
    );
    if (poll.status === "pending") return c.json({ status: "pending" as const }, 200);
    c.executionCtx.waitUntil(expectDialer(c.env, poll.host.tokenHash, poll.host.userId));
    return c.json({ status: "approved" as const, host: toHost(poll.host), token: poll.token }, 200);
  },
);

deviceApprovalRoutes.openapi(
  createRoute({
    method: "get",
    path: "/codes/{userCode}",
    tags: ["device"],
    summary: "What machine is asking with this code, so you can decide whether to approve it",
    request: { params: userCodeParam },
    responses: {
      200: { description: "The waiting machine", content: { "application/json": { schema: pendingDevice } } },
      ...problems(401, 404, 422, 429),
    },
  }),
  async (c) => {
    await consume(c, DECISIONS_PER_USER, c.var.principal.userId);
    const { userCode } = c.req.valid("param");
    const row = await findPendingDevice(c.var.db, userCode);
    return c.json(
      {
        userCode: displayUserCode(normaliseUserCode(userCode) ?? userCode),
        name: row.name,
        hostname: row.hostname,
        os: row.os,
        arch: row.arch,
        ip: row.clientIp,
        createdAt: row.createdAt.toISOString(),
        expiresAt: row.expiresAt.toISOString(),
      },
      200,
    );
  },
);

deviceApprovalRoutes.openapi(
  createRoute({
    method: "post",
    path: "/codes/{userCode}/approval",
    tags: ["device"],
    summary: "Approve the machine as one of your hosts; its agent collects its token on its next poll",
    request: { params: userCodeParam, body: jsonBody(deviceApprovalBody) },
    responses: {
      201: { description: "Approved: the host exists", content: { "application/json": { schema: deviceApproved } } },
      ...problems(401, 404, 409, 422, 429),
    },
  }),
  async (c) => {
    await consume(c, DECISIONS_PER_USER, c.var.principal.userId);
    const userId = c.var.principal.userId;
    const host = await approveDeviceLogin(c.var.db, {
      userId,
      userCode: c.req.valid("param").userCode,
      name: c.req.valid("json").name,
      intervalSeconds: c.var.config.DEVICE_POLL_INTERVAL_SECONDS,
    });
    return c.json({ host: toHost(host) }, 201);
  },
);

deviceApprovalRoutes.openapi(
  createRoute({
    method: "post",
    path: "/codes/{userCode}/denial",
    tags: ["device"],
    summary: "Deny the machine: its agent is told so and gets nothing",
    request: { params: userCodeParam },
    responses: { 204: { description: "Denied" }, ...problems(401, 404, 422, 429) },
  }),
  async (c) => {
    await consume(c, DECISIONS_PER_USER, c.var.principal.userId);
    await denyDeviceLogin(c.var.db, c.req.valid("param").userCode);
    return c.body(null, 204);
  },
);
