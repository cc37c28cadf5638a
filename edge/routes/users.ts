import { createRoute } from "@hono/zod-openapi";
import { publicUser, updateUserBody, usernameParam } from "../../shared/schemas/identity";
import { database } from "../db/client";
import { jsonBody, problems, routeGroup, signedIn } from "../http/openapi";
import { toPublicUser, updateProfile, userById, userByUsername } from "../identity/users";
import { authenticate } from "../middleware/authenticate";

/** `/api/v1/users`: the caller's profile and public profiles by username. */
export const usersRoutes = routeGroup();
usersRoutes.use("*", authenticate);

const userResponse = { description: "The user", content: { "application/json": { schema: publicUser } } };

usersRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    tags: ["users"],
    summary: "The signed-in user",
    security: signedIn,
    responses: { 200: userResponse, ...problems(401) },
  }),
  async (c) => c.json(toPublicUser(await userById(database(c.env.DB), c.get("principal").userId)), 200),
);

usersRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/me",
    tags: ["users"],
    summary: "Update the signed-in user's profile",
    security: signedIn,
    request: { body: jsonBody(updateUserBody) },
    responses: { 200: userResponse, ...problems(401, 409, 422) },
  }),
  async (c) => {
    const row = await updateProfile(database(c.env.DB), c.get("principal").userId, c.req.valid("json"));
    return c.json(toPublicUser(row), 200);
  },
);

usersRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{username}",
    tags: ["users"],
    summary: "A user's public profile",
    security: signedIn,
    request: { params: usernameParam },
    responses: { 200: userResponse, ...problems(401, 404, 422) },
  }),
  async (c) => c.json(toPublicUser(await userByUsername(database(c.env.DB), c.req.valid("param").username)), 200),
);
