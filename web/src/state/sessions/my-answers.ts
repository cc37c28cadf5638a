import { signal } from "@preact/signals";
import type { Decision } from "./api-types";

/**
 * What this tab did with each approval: `sending` while its answer is on the way, `sent` once
 * accepted, `too-late` when Kai said another device or tab (or the expiry) decided first.
 * Kept in sessionStorage, which is per tab and survives a reload, so a reloaded page still
 * tells "you allowed this" from "decided elsewhere".
 */
export interface MyAnswer {
  decision: Decision;
  status: "sending" | "sent" | "too-late";
}

const STORAGE_KEY = "kai.approval-answers";

function load(): Record<string, MyAnswer> {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "{}");
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, MyAnswer>) : {};
  } catch {
    return {};
  }
}

/** This tab's answers by approval id. */
export const myAnswers = signal<Record<string, MyAnswer>>(load());

export function recordMyAnswer(approvalId: string, answer: MyAnswer | undefined): void {
  const next = { ...myAnswers.value };
  if (answer) next[approvalId] = answer;
  else delete next[approvalId];
  myAnswers.value = next;
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  } catch {
    // Storage full or blocked: the answer still counts for this page's life.
  }
}
