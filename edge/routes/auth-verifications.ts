import { createRoute } from "@hono/zod-openapi";
import { KaiError } from "../../shared/errors";
import {
  createVerificationBody,
  resendVerificationBody,
  tokenPair,
  verificationAccepted,
  verifyBody,
} from "../../shared/schemas/identity";
import { jsonBody, problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { setSessionCookie } from "../identity/cookie";
import { isAllowedOrigin } from "../identity/origins";
import { confirmRegistration, resendCode, startRegistration } from "../identity/registration";
import { startSession } from "../identity/sessions";
import { mailerFor } from "../mail/mailer";
import { consume, REGISTER_PER_ACCOUNT, VERIFY_PER_ACCOUNT } from "../middleware/rate-limit";

/** Registration by emailed code: `/api/v1/auth/verifications`, `/resend`, `/verify`. */
export const authVerifications = declareRoutes("public");

authVerifications.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["auth"],
    summary: "Start a registration: emails a 6-digit code",
    request: { body: jsonBody(createVerificationBody) },
    responses: {
      202: {
        description:
          "Accepted. The same answer whatever happens next, which only the address is told by mail: a code, or a notice that the email is registered, that its registration is already pending (a pending one keeps its first password until it lapses), or that the username is taken",
        content: { "application/json": { schema: verificationAccepted } },
      },
      ...problems(422, 429),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    await consume(c, REGISTER_PER_ACCOUNT, body.email);
    if (body.redirect_to && !isAllowedOrigin(c, new URL(body.redirect_to).origin)) {
      throw new KaiError("VALIDATION_ERROR", "invalid request: redirect_to must point at one of Kai's own origins", {
        details: { fields: { redirect_to: ["must point at one of Kai's own origins"] } },
      });
    }
    const db = c.var.db;
    const config = c.var.config;
    await startRegistration(db, config, mailerFor(config, db), { ...body, redirectTo: body.redirect_to });
    return c.json({ email: body.email }, 202);
  },
);

authVerifications.openapi(
  createRoute({
    method: "post",
    path: "/resend",
    tags: ["auth"],
    summary: "Send a fresh code for a pending registration",
    request: { body: jsonBody(resendVerificationBody) },
    responses: { 204: { description: "Sent if a registration is pending" }, ...problems(422, 429) },
  }),
  async (c) => {
    const { email } = c.req.valid("json");
    await consume(c, REGISTER_PER_ACCOUNT, email);
    const db = c.var.db;
    const config = c.var.config;
    await resendCode(db, config, mailerFor(config, db), email);
    return c.body(null, 204);
  },
);

authVerifications.openapi(
  createRoute({
    method: "post",
    path: "/verify",
    tags: ["auth"],
    summary: "Confirm the code: creates the account and signs in",
    request: { body: jsonBody(verifyBody) },
    responses: {
      200: { description: "Signed in", content: { "application/json": { schema: tokenPair } } },
      ...problems(401, 409, 422, 429),
    },
  }),
  async (c) => {
    const { email, token } = c.req.valid("json");
    await consume(c, VERIFY_PER_ACCOUNT, email);
    const db = c.var.db;
    const config = c.var.config;
    const user = await confirmRegistration(db, config, email, token);
    const session = await startSession(db, config, user);
    setSessionCookie(c, session.cookieSecret);
    return c.json(session.tokens, 200);
  },
);
