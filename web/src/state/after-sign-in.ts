/**
 * Where to go once signed in: `next` (the page a signed-out visitor was sent away from) when it
 * is a path of this dashboard, never another site (`//evil.example`, `/\evil.example`); else Machines.
 */
export function afterSignIn(next: string | undefined): string {
  return next?.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/machines";
}
