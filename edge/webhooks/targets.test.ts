import { describe, expect, it } from "vitest";
import { checkTarget, isPrivateHost, privateReason } from "./targets";

describe("webhook targets", () => {
  it.each([
    "localhost",
    "localhost.",
    "api.localhost",
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.5",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "100.64.0.1",
    "198.18.0.1",
    "192.0.0.1",
    "[::1]",
    "::1",
    "fd00::1",
    "fe80::1",
    "fec0::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "[::ffff:7f00:1]",
    "0:0:0:0:0:ffff:127.0.0.1",
    "::127.0.0.1",
    "::ffff:0:127.0.0.1",
    "64:ff9b::127.0.0.1",
    "2002:7f00:1::",
    "printer.local",
    "db.internal",
    "metadata.google.internal.",
    "metadata",
    "0x7f.1",
    "2130706433",
  ])("treats %s as private", (host) => expect(isPrivateHost(host)).toBe(true));

  it.each([
    "example.com",
    "example.com.",
    "8.8.8.8",
    "172.32.0.1",
    "192.169.0.1",
    "2606:4700::1111",
    "[2606:4700::1111]",
    "2002:808:808::",
  ])("treats %s as public", (host) => expect(isPrivateHost(host)).toBe(false));

  it("treats what is not a host at all as refused", () => {
    for (const host of ["", "a/b", "user@example.com", "[::1", "1::2::3", "example.com:80"])
      expect(isPrivateHost(host)).toBe(true);
  });

  it("says which block an address fell in", () => {
    expect(privateReason("[::ffff:7f00:1]")).toContain("IPv4-mapped");
    expect(privateReason("2002:7f00:1::")).toContain("127.0.0.1");
    expect(privateReason("169.254.169.254")).toContain("link-local");
  });

  it("refuses private targets unless allowed, and credentials in URLs always", () => {
    expect(() => checkTarget("http://127.0.0.1:9000/hook", false)).toThrow(/public/);
    expect(() => checkTarget("http://[::ffff:127.0.0.1]:9000/hook", false)).toThrow(/public/);
    expect(() => checkTarget("http://127.0.0.1:9000/hook", true)).not.toThrow();
    expect(() => checkTarget("https://user:pass@example.com/hook", true)).toThrow(/credentials/);
    expect(() => checkTarget("https://hooks.example.com/kai", false)).not.toThrow();
    expect(() => checkTarget("ftp://hooks.example.com/kai", true)).toThrow(/http or https/);
    expect(() => checkTarget("not a url", true)).toThrow(/not a valid URL/);
  });
});
