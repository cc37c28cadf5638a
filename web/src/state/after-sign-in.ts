/**
 * Where to go once signed in: `next` (the page a signed-out visitor was sent away from) when it
 * is a page of this dashboard, else Machines. Parsed as the browser would follow it, not tested
 * by prefix: `//evil.example`, `/\evil.example` and `/\t/evil.example` (tabs are dropped) all
 * leave this origin, and a prefix test let the last one through.
 */
export function afterSignIn(next: string | undefined, origin: string): string {
  if (!next) return "/machines";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/machines";
  }
  return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : "/machines";
}
