import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type ApiError, asApiError } from "../api/api-error";
import { startLiveFeed, stopLiveFeed } from "../state/live-feed";
import { signOut } from "../state/session";
import { ErrorView } from "./error-view";
import { LiveIndicator } from "./machines/live-indicator";
import { NAV_ITEMS } from "./nav-items";

/** The signed-in frame: the header with the navigation and sign-out, and the page below. */
export function Layout({ children }: { children: ComponentChildren }) {
  const { path, route } = useLocation();
  const [error, setError] = useState<ApiError>();
  // One event feed for every signed-in page (state/live-feed.ts); it lives as long as the layout.
  useEffect(() => {
    startLiveFeed();
    return stopLiveFeed;
  }, []);
  const leave = async () => {
    try {
      await signOut();
      stopLiveFeed();
      route("/sign-in");
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <>
      <header class="shell-header">
        <span class="brand">Kai</span>
        <nav class="nav" aria-label="Main">
          {NAV_ITEMS.map((item) => (
            <a key={item.href} href={item.href} aria-current={path.startsWith(item.href) ? "page" : undefined}>
              {item.label}
              {"Badge" in item && <item.Badge />}
            </a>
          ))}
        </nav>
        <LiveIndicator />
        <button type="button" onClick={leave}>
          Sign out
        </button>
      </header>
      <main>
        <ErrorView error={error} />
        {children}
      </main>
    </>
  );
}
