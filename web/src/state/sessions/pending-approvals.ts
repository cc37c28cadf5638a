import { computed, effect, signal } from "@preact/signals";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { PendingApproval } from "./api-types";
import { followApprovals } from "./approval-feed";
import { approvalOutcomes } from "./approval-outcomes";

/** The list as the API last answered it. */
const listed = signal<PendingApproval[] | undefined>(undefined);

/**
 * Every approval waiting for the user across sessions and hosts; undefined until first loaded.
 * One this page already knows settled (a stream or the feed said so) is left out even if the
 * list, read a moment before the settlement was written, still has it.
 */
export const pendingApprovals = computed(() =>
  listed.value?.filter((approval) => (approvalOutcomes.value[approval.id]?.state ?? "pending") === "pending"),
);
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
        listed.value = answer.approvals;
        pendingApprovalsError.value = undefined;
      } catch (failure) {
        pendingApprovalsError.value = asApiError(failure);
      }
    } while (stale);
    running = undefined;
  })();
  return running;
}

/** Retries for an approval the feed announced before its row was readable (the edge writes it just after). */
const EXPECT_TRIES = 5;
const EXPECT_PAUSE_MS = 400;

/** Reloads until the list has `approvalId` (or it settled, or a few tries passed). */
async function expectApproval(approvalId: string): Promise<void> {
  for (let attempt = 0; attempt < EXPECT_TRIES; attempt += 1) {
    if (attempt > 0) await new Promise((done) => setTimeout(done, EXPECT_PAUSE_MS));
    await refreshApprovals();
    if (approvalOutcomes.value[approvalId] || listed.value?.some((approval) => approval.id === approvalId)) return;
  }
}

const baseTitle = document.title;

/**
 * Keeps the count live while the app is open and shows it in the tab title: the user's event
 * feed reloads it on every approval asked for or settled anywhere, and a tab coming back into
 * view reloads it too. Returns the cleanup.
 */
export function watchPendingApprovals(): () => void {
  // Loaded now too: the feed may already be open (its `live` frame gone by) when this mounts.
  void refreshApprovals();
  const unfollow = followApprovals({
    refresh: () => void refreshApprovals(),
    expect: (approvalId) => void expectApproval(approvalId),
  });
  const onVisible = () => {
    if (document.visibilityState === "visible") void refreshApprovals();
  };
  document.addEventListener("visibilitychange", onVisible);
  const stopTitle = effect(() => {
    const count = pendingCount.value;
    document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
  });
  return () => {
    unfollow();
    document.removeEventListener("visibilitychange", onVisible);
    stopTitle();
    document.title = baseTitle;
  };
}
