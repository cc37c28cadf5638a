import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../config";
import { httpMailer } from "./mailer";

/** A real HTTP mail API on loopback that records what it receives. */
const received: { headers: IncomingMessage["headers"]; body: unknown }[] = [];
let status = 200;
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    received.push({ headers: req.headers, body: JSON.parse(body) });
    res.writeHead(status, { "content-type": "application/json" }).end('{"id":"m1"}');
  });
});
let url = "";

beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/emails`;
});
afterAll(() => server.close());

const config = (overrides: Partial<Config> = {}) =>
  ({
    ENVIRONMENT: "production",
    MAIL_API_URL: url,
    MAIL_API_KEY: "re_test_key",
    MAIL_FROM: "Kai <kai@example.com>",
    ...overrides,
  }) as Config;

describe("production mailer", () => {
  it("POSTs the message as JSON with the API key", async () => {
    status = 200;
    await httpMailer(config()).send({
      to: "a@example.com",
      subject: "Hi",
      text: "Your code is 123456",
      code: "123456",
    });
    const last = received.at(-1);
    expect(last?.headers.authorization).toBe("Bearer re_test_key");
    expect(last?.body).toEqual({
      from: "Kai <kai@example.com>",
      to: "a@example.com",
      subject: "Hi",
      text: "Your code is 123456",
    });
  });

  it("reports a failing mail API as NETWORK_ERROR", async () => {
    status = 500;
    await expect(httpMailer(config()).send({ to: "a@example.com", subject: "Hi", text: "x" })).rejects.toMatchObject({
      code: "NETWORK_ERROR",
    });
  });

  it("reports an unreachable mail API as NETWORK_ERROR", async () => {
    await expect(
      httpMailer(config({ MAIL_API_URL: "http://127.0.0.1:1/emails" })).send({
        to: "a@example.com",
        subject: "Hi",
        text: "x",
      }),
    ).rejects.toMatchObject({ code: "NETWORK_ERROR" });
  });

  it("refuses to run without its secrets", async () => {
    await expect(
      httpMailer(config({ MAIL_API_KEY: undefined })).send({ to: "a@example.com", subject: "Hi", text: "x" }),
    ).rejects.toMatchObject({
      code: "INTERNAL_ERROR",
    });
  });
});
