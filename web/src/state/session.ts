import { signal } from "@preact/signals";
import { ApiError } from "../api/api-error";
import { api, call } from "../api/client";
import type { components } from "../api/schema";

type User = components["schemas"]["User"];

/** The signed-in user: undefined while the first check runs, null when signed out. */
export const currentUser = signal<User | null | undefined>(undefined);

/** Asks the Worker who the session cookie belongs to (after a reload, or after signing in). */
export async function refreshUser(): Promise<void> {
  try {
    currentUser.value = await call(api.GET("/api/v1/users/me"));
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHORIZED") currentUser.value = null;
    else throw error;
  }
}

/** Ends the cookie's session on the Worker (no refresh token needed), then forgets the user. */
export async function signOut(): Promise<void> {
  await call(api.DELETE("/api/v1/auth/sessions", {}));
  currentUser.value = null;
}
