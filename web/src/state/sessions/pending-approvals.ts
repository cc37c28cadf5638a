import { computed, effect, signal } from "@preact/signals";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { PendingApproval } from "./api-types";

/** Every approval waiting for the user across sessions and hosts; undefined until first loaded. */
export const pendingApprovals = signal<PendingApproval[] | undefined>(undefined);
export const pendingApprovalsError = signal<ApiError | undefined>(undefined);
export const pendingCount = computed(() => pendingApprovals.value?.length ?? 0);

/** The API's largest page: the badge says "100+" beyond it. */
export const APPROVALS_PAGE = 100;

let running: Promise<void> | undefined;
let stale = false;

/**
 * Reloads the pending list. Calls that come while one runs are folded into one more run after
 * it, so the last answer always reflects a request sent after the newest reason to refresh.
 */
export function refreshApprovals(): Promise<void> {
  if (running) {
    stale = true;
    return running;
  }
  running = (async () => {
    do {
      stale = false;
      try {
        const answer = await call(api.GET("/api/v1/approvals", { params: { query: { limit: APPROVALS_PAGE } } }));
        pendingApprovals.value = answer.approvals;
        pendingApprovalsError.value = undefined;
      } catch (failure) {
        pendingApprovalsError.value = asApiError(failure);
      }
    } while (stale);
    running = undefined;
  })();
  return running;
}

const baseTitle = document.title;

/**
 * Keeps the count fresh while the app is open and shows it in the tab title: refreshes now,
 * whenever the tab regains focus or becomes visible, and on the page's own approval news.
 * Returns the cleanup.
 */
export function watchPendingApprovals(): () => void {
  const onVisible = () => {
    if (document.visibilityState === "visible") void refreshApprovals();
  };
  addEventListener("focus", onVisible);
  document.addEventListener("visibilitychange", onVisible);
  const stopTitle = effect(() => {
    const count = pendingCount.value;
    document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
  });
  void refreshApprovals();
  return () => {
    removeEventListener("focus", onVisible);
    document.removeEventListener("visibilitychange", onVisible);
    stopTitle();
    document.title = baseTitle;
  };
}
