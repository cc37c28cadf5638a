import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../env";
import { SESSION_DAYS } from "./sessions";

/** Sent as `__Host-kai_session`: the `__Host-` prefix makes browsers insist on Secure, Path=/ and no Domain: the cookie cannot be planted by a subdomain. */
export const SESSION_COOKIE = "kai_session";

export function setSessionCookie(c: Context<AppEnv>, secret: string): void {
  setCookie(c, SESSION_COOKIE, secret, {
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: SESSION_DAYS * 86_400,
    prefix: "host",
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, prefix: "host" });
}
