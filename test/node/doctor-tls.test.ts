import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOf, reportOf, runDoctorCli } from "../support/doctor-cli";

/**
 * The doctor's TLS line against real HTTPS servers with real certificates made by openssl:
 * self-signed, for another name, expired, and valid (from a CA trusted the way an owner
 * would trust a private one: NODE_EXTRA_CA_CERTS). The real CLI runs in its own process.
 */
const openssl = (cwd: string, ...args: string[]) => promisify(execFile)("openssl", args, { cwd });

let dir: string;
const servers: https.Server[] = [];
const urls: Record<"selfSigned" | "otherName" | "expired" | "valid", string> = {
  selfSigned: "",
  otherName: "",
  expired: "",
  valid: "",
};

/** A certificate for `name` signed by the test CA, valid `days` (negative: already expired). */
async function signed(name: string, san: string, days: number): Promise<{ key: Buffer; cert: Buffer }> {
  await openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  );
  await writeFile(path.join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    String(days),
    "-extfile",
    `${name}.ext`,
  );
  return { key: await readFile(path.join(dir, `${name}.key`)), cert: await readFile(path.join(dir, `${name}.crt`)) };
}

async function serve(credentials: { key: Buffer; cert: Buffer }): Promise<string> {
  const server = https.createServer(credentials, (_request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ status: "ok" }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kai-doctor-tls-"));
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "30",
    "-subj",
    "/CN=Kai Test CA",
  );
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.crt",
    "-days",
    "30",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  );
  const self = { key: await readFile(path.join(dir, "self.key")), cert: await readFile(path.join(dir, "self.crt")) };
  urls.selfSigned = await serve(self);
  urls.otherName = await serve(await signed("kai.test", "DNS:kai.test", 30));
  urls.expired = await serve(await signed("expired", "IP:127.0.0.1", -1));
  urls.valid = await serve(await signed("valid", "IP:127.0.0.1", 30));
}, 60_000);
afterAll(async () => {
  for (const server of servers) server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function doctorAt(server: string) {
  const run = await runDoctorCli(["--json", "--server", server], {
    home: dir,
    env: { NODE_EXTRA_CA_CERTS: path.join(dir, "ca.crt") },
  });
  return reportOf(run);
}

describe("the doctor's TLS line", () => {
  it("names each certificate problem and passes a valid certificate", async () => {
    const [selfSigned, otherName, expired, valid] = await Promise.all([
      doctorAt(urls.selfSigned),
      doctorAt(urls.otherName),
      doctorAt(urls.expired),
      doctorAt(urls.valid),
    ]);
    expect(checkOf(selfSigned, "tls")).toMatchObject({ status: "fail" });
    expect(checkOf(selfSigned, "tls").detail).toContain("self-signed");
    expect(checkOf(selfSigned, "tls").fix).toContain("NODE_EXTRA_CA_CERTS");
    expect(checkOf(selfSigned, "server")).toMatchObject({ status: "fail" });
    expect(checkOf(selfSigned, "server").fix).toContain("TLS line");

    expect(checkOf(otherName, "tls")).toMatchObject({ status: "fail" });
    expect(checkOf(otherName, "tls").detail).toContain("does not name 127.0.0.1");
    expect(checkOf(otherName, "tls").detail).toContain("kai.test");

    expect(checkOf(expired, "tls")).toMatchObject({ status: "fail" });
    expect(checkOf(expired, "tls").detail).toContain("expired");

    expect(checkOf(valid, "tls")).toMatchObject({ status: "pass" });
    expect(checkOf(valid, "tls").detail).toContain("verified");
    expect(checkOf(valid, "server")).toMatchObject({ status: "pass" });
  });
});
