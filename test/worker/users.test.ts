import { describe, expect, it } from "vitest";
import { call, expectProblem, registerUser, unique } from "./helpers";

describe("users", () => {
  it("GET /users/me returns the signed-in user", async () => {
    const user = await registerUser();
    const res = await call("/api/v1/users/me", { token: user.accessToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: user.id, username: user.username, avatar_url: null, bio: null });
  });

  it("PATCH /users/me updates, keeps unnamed fields, and clears with null", async () => {
    const user = await registerUser();
    const newName = unique("New_");
    const patched = await call("/api/v1/users/me", {
      method: "PATCH",
      token: user.accessToken,
      body: { username: newName, avatar_url: "https://img.example/a.png", bio: "I build sandboxes." },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toEqual({
      id: user.id,
      username: newName,
      avatar_url: "https://img.example/a.png",
      bio: "I build sandboxes.",
    });

    const bioOnly = await call("/api/v1/users/me", { method: "PATCH", token: user.accessToken, body: { bio: null } });
    expect(await bioOnly.json()).toEqual({
      id: user.id,
      username: newName,
      avatar_url: "https://img.example/a.png",
      bio: null,
    });
  });

  it.each([
    ["a bio over 200 characters", { bio: "x".repeat(201) }],
    ["a non-URL avatar", { avatar_url: "not a url" }],
    ["a javascript: avatar", { avatar_url: "javascript:alert(1)" }],
    ["a short username", { username: "ab" }],
    ["an unknown field", { email: "take@over.example" }],
  ])("PATCH /users/me refuses %s with 422", async (_label, body) => {
    const user = await registerUser();
    await expectProblem(
      await call("/api/v1/users/me", { method: "PATCH", token: user.accessToken, body }),
      422,
      "VALIDATION_ERROR",
    );
  });

  it("PATCH /users/me refuses a username someone has in another case with 409", async () => {
    const first = await registerUser();
    const second = await registerUser();
    await expectProblem(
      await call("/api/v1/users/me", {
        method: "PATCH",
        token: second.accessToken,
        body: { username: first.username.toUpperCase() },
      }),
      409,
      "CONFLICT",
    );
    // Changing the case of one's own name is fine.
    const own = await call("/api/v1/users/me", {
      method: "PATCH",
      token: second.accessToken,
      body: { username: second.username.toUpperCase() },
    });
    expect(own.status).toBe(200);
  });

  it("GET /users/{username} finds a user ignoring case, and 404s an unknown one", async () => {
    const user = await registerUser();
    const viewer = await registerUser();
    const res = await call(`/api/v1/users/${user.username.toUpperCase()}`, { token: viewer.accessToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, username: user.username });
    await expectProblem(
      await call(`/api/v1/users/${unique("ghost_")}`, { token: viewer.accessToken }),
      404,
      "NOT_FOUND",
    );
  });

  it("GET /users/{username} refuses an invalid name with 422 and strangers with 401", async () => {
    const viewer = await registerUser();
    await expectProblem(await call("/api/v1/users/a-b!", { token: viewer.accessToken }), 422, "VALIDATION_ERROR");
    await expectProblem(await call("/api/v1/users/someone"), 401, "UNAUTHORIZED");
    await expectProblem(await call("/api/v1/users/me", { method: "PATCH", body: { bio: "x" } }), 401, "UNAUTHORIZED");
  });
});

/** The administrator named in the test bindings (ADMIN_EMAILS), registered on first use. */
async function adminUser() {
  const password = "admin-password";
  const login = await call("/api/v1/auth/sessions", { body: { email: "admin@example.com", password } });
  if (login.status === 200) return { accessToken: ((await login.json()) as { access_token: string }).access_token };
  return registerUser({ email: "admin@example.com", password });
}

describe("GET /auth/users (administrators only)", () => {
  it("lets an administrator look a user up by email", async () => {
    const admin = await adminUser();
    const target = await registerUser();
    const res = await call(`/api/v1/auth/users?email=${encodeURIComponent(target.email.toUpperCase())}`, {
      token: admin.accessToken,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ id: target.id, email: target.email });
    expect(Date.parse(body["created_at"] ?? "")).not.toBeNaN();
    expect(Date.parse(body["email_confirmed_at"] ?? "")).not.toBeNaN();
    await expectProblem(
      await call(`/api/v1/auth/users?email=${unique("none")}%40example.com`, { token: admin.accessToken }),
      404,
      "NOT_FOUND",
    );
    await expectProblem(
      await call("/api/v1/auth/users?email=broken", { token: admin.accessToken }),
      422,
      "VALIDATION_ERROR",
    );
  });

  it("answers everyone else 403, whether or not the user exists", async () => {
    const user = await registerUser();
    await expectProblem(
      await call(`/api/v1/auth/users?email=${encodeURIComponent(user.email)}`, { token: user.accessToken }),
      403,
      "PERMISSION_DENIED",
    );
    await expectProblem(
      await call(`/api/v1/auth/users?email=nobody%40example.com`, { token: user.accessToken }),
      403,
      "PERMISSION_DENIED",
    );
    await expectProblem(await call(`/api/v1/auth/users?email=nobody%40example.com`), 401, "UNAUTHORIZED");
  });
});
