/** The pages in the navigation, in order. A new page adds its entry here and its route in app.tsx. */
export const NAV_ITEMS = [
  { href: "/machines", label: "Machines" },
  { href: "/containers", label: "Containers" },
  { href: "/account", label: "Account" },
] as const;
