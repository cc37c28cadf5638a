import { describe, expect, it } from "vitest";
import { call, expectEnvelopeError, expectProblem, registerUser } from "./helpers";

describe("one error model on both surfaces", () => {
  it("answers an unknown /api/v1 route with a 404 problem", async () => {
    const body = await expectProblem(await call("/api/v1/nope"), 404, "NOT_FOUND");
    expect(body["instance"]).toBe("/api/v1/nope");
  });

  it("answers an unknown /api route with a 404 envelope", async () => {
    await expectEnvelopeError(await call("/api/nope"), 404, "NOT_FOUND");
  });

  it("answers a wrong method with 405 and Allow, in each surface's format", async () => {
    const v1 = await call("/api/v1/health", { method: "DELETE" });
    expect(v1.headers.get("allow")).toContain("GET");
    await expectProblem(v1, 405, "METHOD_NOT_ALLOWED");

    const envelope = await call("/api/health", { method: "POST" });
    expect(envelope.headers.get("allow")).toContain("GET");
    await expectEnvelopeError(envelope, 405, "METHOD_NOT_ALLOWED");
  });

  it("answers malformed JSON with 400 BAD_REQUEST", async () => {
    const res = await call("/api/v1/auth/sessions", {
      body: '{"email": "a@b.c", "password": ',
      headers: { "content-type": "application/json" },
    });
    await expectProblem(res, 400, "BAD_REQUEST");
  });

  it("answers a wrong content type with 415 on both surfaces", async () => {
    await expectProblem(
      await call("/api/v1/auth/sessions", {
        body: "email=a@b.c",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    const user = await registerUser();
    await expectEnvelopeError(
      await call("/api/tokens", { body: "name=x", token: user.accessToken, headers: { "content-type": "text/plain" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  it("answers an oversized body with 413 before parsing it", async () => {
    const huge = JSON.stringify({ email: "a@example.com", password: "x".repeat(2 * 1024 * 1024) });
    await expectProblem(await call("/api/v1/auth/sessions", { body: huge }), 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers validation errors with 422 on /api/v1 and 400 on /api, naming the fields", async () => {
    const v1 = await expectProblem(
      await call("/api/v1/auth/sessions", { body: { email: "not-an-email", password: "1" } }),
      422,
      "VALIDATION_ERROR",
    );
    expect(Object.keys((v1["errors"] as { fields: object }).fields)).toEqual(
      expect.arrayContaining(["email", "password"]),
    );

    const user = await registerUser();
    const envelope = await expectEnvelopeError(
      await call("/api/tokens", { body: { name: "" }, token: user.accessToken }),
      400,
      "VALIDATION_ERROR",
    );
    expect(envelope.error.message).toContain("name");
  });

  it("answers an empty body on a route that needs one with a validation error, not a crash", async () => {
    await expectProblem(await call("/api/v1/auth/sessions", { method: "POST" }), 422, "VALIDATION_ERROR");
  });
});
