import { describe, expect, it } from "vitest";
import { checkTarget, isPrivateHost } from "../../../edge/webhooks/targets";

/**
 * Every spelling of a non-public address the probe tried (and the ones next to them), as a
 * full webhook URL: the guard judges what the URL parser makes of the host, as the edge does.
 * With WEBHOOKS_ALLOW_PRIVATE=false each must be refused; the public ones must stay allowed.
 */
const REFUSED = [
  // IPv4 in every spelling the URL parser accepts
  "127.0.0.1",
  "0x7f.1",
  "2130706433",
  "127.1",
  "0177.0.0.1",
  "127.0.0.1.",
  "127.0.0.1..",
  "0x7f.1..",
  "１２７.０.０.１",
  "0",
  "0.0.0.0",
  // the IANA IPv4 special-purpose blocks
  "10.1.2.3",
  "100.64.0.1",
  "100.127.255.255",
  "169.254.169.254",
  "172.16.0.1",
  "172.31.255.255",
  "192.0.0.1",
  "192.0.0.170",
  "192.0.2.1",
  "192.88.99.1",
  "192.168.0.1",
  "198.18.0.1",
  "198.19.255.255",
  "198.51.100.7",
  "203.0.113.9",
  "224.0.0.1",
  "239.255.255.250",
  "240.0.0.1",
  "255.255.255.255",
  // IPv4 inside IPv6: mapped (serialised as hex by the parser), compatible, SIIT, NAT64, 6to4, Teredo
  "[::ffff:127.0.0.1]",
  "[::ffff:7f00:1]",
  "[0:0:0:0:0:ffff:127.0.0.1]",
  "[::FFFF:7F00:0001]",
  "[::ffff:169.254.169.254]",
  "[::ffff:10.0.0.1]",
  "[::ffff:192.168.1.1]",
  "[::ffff:8.8.8.8]",
  "[::127.0.0.1]",
  "[::7f00:1]",
  "[::ffff:0:127.0.0.1]",
  "[64:ff9b::127.0.0.1]",
  "[64:ff9b::a9fe:a9fe]",
  "[64:ff9b::8.8.8.8]",
  "[64:ff9b:1::a00:1]",
  "[2002:7f00:1::1]",
  "[2002:a9fe:a9fe::]",
  "[2002:c0a8:101::1]",
  "[2001::1]",
  "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
  // the IANA IPv6 special-purpose blocks, and what lies outside global unicast
  "[::]",
  "[::1]",
  "[0:0:0:0:0:0:0:1]",
  "[100::1]",
  "[2001:2::1]",
  "[2001:db8::1]",
  "[3fff::1]",
  "[fc00::1]",
  "[fd12:3456::1]",
  "[fe80::1]",
  "[febf::1]",
  "[fec0::1]",
  "[feff::1]",
  "[ff02::1]",
  "[5f00::1]",
  "[4000::1]",
  // internal names, with and without the trailing dot
  "localhost",
  "localhost.",
  "localhost..",
  "LOCALHOST",
  "ⓛocalhost",
  "api.localhost",
  "api.localhost.",
  "metadata",
  "metadata.google.internal",
  "metadata.google.internal.",
  "printer.local",
  "printer.local.",
  "router.home.arpa",
  "box.localdomain",
  "kai.test",
  "hooks.invalid",
  "kubernetes.default.svc",
  "api.cluster.local",
  "nas.lan",
  "1.0.0.127.in-addr.arpa",
];

const ALLOWED = [
  "example.com",
  "example.com.",
  "hooks.example.com",
  "8.8.8.8",
  "8.8.8.8.",
  "1.1.1.1",
  "172.32.0.1",
  "192.169.0.1",
  "100.128.0.1",
  "198.20.0.1",
  "[2606:4700::1111]",
  "[2606:4700:4700::1111]",
  "[2001:4860:4860::8888]",
  "[2a00:1450:4001::1]",
  "[2002:808:808::1]",
];

describe("webhook targets refuse every non-public spelling", () => {
  it.each(REFUSED)("refuses http://%s:8080/hook", (host) => {
    expect(() => checkTarget(`http://${host}:8080/hook`, false)).toThrow(/must be public/);
    expect(() => checkTarget(`http://${host}:8080/hook`, true)).not.toThrow();
  });

  it.each(ALLOWED)("allows https://%s/hook", (host) => {
    expect(() => checkTarget(`https://${host}/hook`, false)).not.toThrow();
  });

  it.each([
    "::ffff:7f00:1",
    "[::ffff:127.0.0.1]",
    "::127.0.0.1",
    "64:ff9b::127.0.0.1",
    "localhost.",
    "metadata.google.internal.",
    "198.18.0.1",
    "192.0.0.8",
    "fec0::1",
  ])("judges the bare host %s as the URL parser would", (host) => expect(isPrivateHost(host)).toBe(true));
});
