import { useLocation } from "preact-iso";
import { api, call } from "../api/client";
import { ErrorView } from "../components/error-view";
import { field, useSubmit } from "../components/submit";
import { afterSignIn } from "../state/after-sign-in";
import { refreshUser } from "../state/session";

/** Email and password; the Worker answers with the session cookie. */
export function SignIn() {
  const { route, query } = useLocation();
  const { busy, error, run } = useSubmit(async (form) => {
    const body = { email: field(form, "email"), password: field(form, "password") };
    await call(api.POST("/api/v1/auth/sessions", { body }));
    await refreshUser();
    route(afterSignIn(query.next, location.origin));
  });
  return (
    <main>
      <h1>Sign in to Kai</h1>
      <form onSubmit={run}>
        <label>
          Email
          <input name="email" type="email" autocomplete="email" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required minLength={6} />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorView error={error} />
      </form>
      <p>
        New here? <a href="/register">Create an account</a> with a code sent to your email.
      </p>
    </main>
  );
}
