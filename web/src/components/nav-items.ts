import { PendingBadge } from "./sessions/pending-badge";

/** The pages in the navigation, in order. A new page adds its entry here and its route in app.tsx. */
export const NAV_ITEMS = [
  { href: "/machines", label: "Machines" },
  { href: "/containers", label: "Containers" },
  { href: "/workspaces", label: "Workspaces" },
  { href: "/sessions", label: "Sessions" },
  { href: "/approvals", label: "Approvals", Badge: PendingBadge },
  { href: "/webhooks", label: "Webhooks" },
  { href: "/audit", label: "Audit" },
  { href: "/account", label: "Account" },
] as const;
