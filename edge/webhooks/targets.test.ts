import { describe, expect, it } from "vitest";
import { checkTarget, isPrivateHost } from "./targets";

describe("webhook targets", () => {
  it.each(["localhost", "api.localhost", "127.0.0.1", "127.1.2.3", "10.0.0.5", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "[::1]", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "printer.local", "db.internal"])(
    "treats %s as private",
    (host) => expect(isPrivateHost(host)).toBe(true),
  );

  it.each(["example.com", "8.8.8.8", "172.32.0.1", "192.169.0.1", "2606:4700::1111"])("treats %s as public", (host) => expect(isPrivateHost(host)).toBe(false));

  it("refuses private targets unless allowed, and credentials in URLs always", () => {
    expect(() => checkTarget("http://127.0.0.1:9000/hook", false)).toThrow(/public/);
    expect(() => checkTarget("http://127.0.0.1:9000/hook", true)).not.toThrow();
    expect(() => checkTarget("https://user:pass@example.com/hook", true)).toThrow(/credentials/);
    expect(() => checkTarget("https://hooks.example.com/kai", false)).not.toThrow();
  });
});
