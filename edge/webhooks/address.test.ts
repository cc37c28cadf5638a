import { describe, expect, it } from "vitest";
import { parseIPv4, parseIPv6 } from "../net/ip-literal";
import { specialIPv4, specialIPv6 } from "./address";

const v6 = (text: string) => {
  const bytes = parseIPv6(text);
  if (!bytes) throw new Error(`${text} did not parse`);
  return bytes;
};
const v4 = (text: string) => {
  const bytes = parseIPv4(text);
  if (!bytes) throw new Error(`${text} did not parse`);
  return bytes;
};
const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString("hex") : undefined);

describe("IP literals as bytes", () => {
  it("parses dotted quads and nothing looser (the URL parser normalises the rest first)", () => {
    expect(Array.from(v4("127.0.0.1"))).toEqual([127, 0, 0, 1]);
    expect(Array.from(v4("255.255.255.255"))).toEqual([255, 255, 255, 255]);
    for (const text of ["127.1", "0x7f.0.0.1", "0177.0.0.1", "256.0.0.1", "1.2.3.4.", "1.2.3", "", "a.b.c.d"])
      expect(parseIPv4(text)).toBeUndefined();
  });

  it("parses every IPv6 spelling of one address to the same bytes", () => {
    const mapped = "00000000000000000000ffff7f000001";
    for (const text of [
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "0:0:0:0:0:ffff:127.0.0.1",
      "0:0:0:0:0:FFFF:7F00:0001",
      "::0:ffff:7f00:1",
    ])
      expect(hex(v6(text))).toBe(mapped);
    expect(hex(v6("::"))).toBe("0".repeat(32));
    expect(hex(v6("::1"))).toBe(`${"0".repeat(31)}1`);
    expect(hex(v6("2606:4700::1111"))).toBe("26064700000000000000000000001111");
    expect(hex(v6("1:2:3:4:5:6:7::"))).toBe("00010002000300040005000600070000");
  });

  it("refuses what is not IPv6", () => {
    for (const text of [
      "",
      ":",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "12345::",
      "::1.2.3",
      "::1.2.3.4:5",
      "g::1",
      "1:2:3:4:5:6:7:8::",
    ]) {
      expect(parseIPv6(text)).toBeUndefined();
    }
  });
});

describe("special-purpose blocks", () => {
  it.each([
    "0.1.2.3",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "192.0.0.9",
    "192.0.2.1",
    "192.88.99.2",
    "192.168.0.1",
    "198.18.0.1",
    "198.19.0.1",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
  ])("IPv4 %s is special", (text) => expect(specialIPv4(v4(text))).toBeDefined());

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "100.128.0.1",
    "172.32.0.1",
    "192.0.1.1",
    "192.169.0.1",
    "198.20.0.1",
    "223.255.255.255",
  ])("IPv4 %s is public", (text) => expect(specialIPv4(v4(text))).toBeUndefined());

  it.each([
    "::",
    "::1",
    "::ffff:8.8.8.8",
    "::ffff:0:8.8.8.8",
    "::8.8.8.8",
    "64:ff9b::8.8.8.8",
    "64:ff9b:1::1",
    "100::1",
    "2001::1",
    "2001:1ff::1",
    "2001:db8::1",
    "2002:7f00:1::",
    "2002:0a00:1::",
    "3fff::1",
    "fc00::1",
    "fdff::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "5f00::1",
    "4000::1",
  ])("IPv6 %s is special", (text) => expect(specialIPv6(v6(text))).toBeDefined());

  it.each(["2606:4700::1111", "2001:4860:4860::8888", "2001:200::1", "2a00:1450::1", "2002:808:808::1", "3ffe::1"])(
    "IPv6 %s is public",
    (text) => expect(specialIPv6(v6(text))).toBeUndefined(),
  );
});
