import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, call } from "../api/client";
import { ErrorView } from "../components/error-view";
import { field, useSubmit } from "../components/submit";
import { refreshUser } from "../state/session";

/** Registration in two steps: the details (Kai mails a 6-digit code), then the code, which signs in. */
export function Register() {
  const { route } = useLocation();
  const [email, setEmail] = useState<string>();
  const details = useSubmit(async (form) => {
    const body = { username: field(form, "username"), email: field(form, "email"), password: field(form, "password") };
    const accepted = await call(api.POST("/api/v1/auth/verifications", { body }));
    setEmail(accepted.email);
  });
  const code = useSubmit(async (form) => {
    await call(
      api.POST("/api/v1/auth/verifications/verify", { body: { email: email ?? "", token: field(form, "code") } }),
    );
    await refreshUser();
    route("/machines");
  });
  if (email) {
    return (
      <main>
        <h1>Check your email</h1>
        <p>
          If <strong>{email}</strong> can be registered, a 6-digit code is on its way. It works for 15 minutes.
        </p>
        <form onSubmit={code.run}>
          <label>
            Code
            <input name="code" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required />
          </label>
          <button class="primary" type="submit" disabled={code.busy}>
            Create account
          </button>
          <ErrorView error={code.error} />
        </form>
      </main>
    );
  }
  return (
    <main>
      <h1>Create a Kai account</h1>
      <form onSubmit={details.run}>
        <label>
          Username
          <input name="username" autocomplete="username" required pattern="[A-Za-z0-9_]{3,30}" />
        </label>
        <label>
          Email
          <input name="email" type="email" autocomplete="email" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="new-password" required minLength={6} />
        </label>
        <button class="primary" type="submit" disabled={details.busy}>
          Email me a code
        </button>
        <ErrorView error={details.error} />
      </form>
      <p>
        Already registered? <a href="/sign-in">Sign in</a>.
      </p>
    </main>
  );
}
