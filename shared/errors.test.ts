import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_STATUS, ERROR_TITLES, KaiError, statusOf } from "./errors";

describe("error model", () => {
  it("has a 4xx or 5xx status and a title for every code", () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(ERROR_STATUS[code]).toBeLessThan(600);
      expect(ERROR_TITLES[code].length).toBeGreaterThan(0);
    }
  });

  it("includes the documented Kai codes and Kai's own", () => {
    for (const code of [
      "CONTAINER_NOT_FOUND",
      "DOCKER_ERROR",
      "PERMISSION_DENIED",
      "VALIDATION_ERROR",
      "NETWORK_ERROR",
      "INTERNAL_ERROR",
    ]) {
      expect(ERROR_CODES).toContain(code);
    }
    for (const code of [
      "UNAUTHORIZED",
      "NOT_FOUND",
      "CONFLICT",
      "RATE_LIMITED",
      "AGENT_OFFLINE",
      "AGENT_TIMEOUT",
      "CANCELLED",
      "PAYLOAD_TOO_LARGE",
    ]) {
      expect(ERROR_CODES).toContain(code);
    }
  });

  it("answers validation failures 422 on the Runtime API and 400 on the Kai API", () => {
    expect(statusOf("VALIDATION_ERROR", "problem")).toBe(422);
    expect(statusOf("VALIDATION_ERROR", "envelope")).toBe(400);
    expect(statusOf("AGENT_OFFLINE", "problem")).toBe(503);
    expect(statusOf("AGENT_TIMEOUT", "envelope")).toBe(504);
    expect(statusOf("CANCELLED", "problem")).toBe(499);
  });

  it("carries code, details and headers", () => {
    const error = new KaiError("RATE_LIMITED", "slow down", {
      details: { retryAfterSeconds: 3 },
      headers: { "Retry-After": "3" },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.details).toEqual({ retryAfterSeconds: 3 });
    expect(error.headers).toEqual({ "Retry-After": "3" });
  });
});
