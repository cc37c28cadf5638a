import { createRoute } from "@hono/zod-openapi";
import { publicUser, updateUserBody, usernameParam } from "../../shared/schemas/identity";
import { jsonBody, problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { toPublicUser, updateProfile, userById, userByUsername } from "../identity/users";

/** `/api/v1/users`: the caller's profile and public profiles by username. */
export const usersRoutes = declareRoutes("signedIn");

const userResponse = { description: "The user", content: { "application/json": { schema: publicUser } } };

usersRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    tags: ["users"],
    summary: "The signed-in user",
    responses: { 200: userResponse, ...problems(401) },
  }),
  async (c) => c.json(toPublicUser(await userById(c.var.db, c.var.principal.userId)), 200),
);

usersRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/me",
    tags: ["users"],
    summary: "Update the signed-in user's profile",
    request: { body: jsonBody(updateUserBody) },
    responses: { 200: userResponse, ...problems(401, 409, 422) },
  }),
  async (c) => {
    const row = await updateProfile(c.var.db, c.var.principal.userId, c.req.valid("json"));
    return c.json(toPublicUser(row), 200);
  },
);

usersRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{username}",
    tags: ["users"],
    summary: "A user's public profile",
    request: { params: usernameParam },
    responses: { 200: userResponse, ...problems(401, 404, 422) },
  }),
  async (c) => c.json(toPublicUser(await userByUsername(c.var.db, c.req.valid("param").username)), 200),
);
