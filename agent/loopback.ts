/**
 * Whether `hostname` (a URL's hostname: IPv6 in brackets) names this machine: `localhost` and
 * its subdomains (RFC 6761), 127.0.0.0/8, ::1. Plain http to such a host never leaves the
 * machine, so the doctor and `kai-agent upgrade` do not warn about it.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(?:\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]" ||
    host === "::1"
  );
}
