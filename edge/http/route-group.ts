import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AgentTokenEnv, AppEnv, HostEnv, SignedInEnv, WorkspaceEnv } from "../env";
import { authenticate } from "../middleware/authenticate";
import { authenticateAgent } from "../middleware/authenticate-agent";
import { HOST_HEADER, HOST_QUERY, hostInPath, selectHost } from "../middleware/select-host";
import { resolveWorkspace, WORKSPACE_HEADER, WORKSPACE_PARAM, WORKSPACE_QUERY } from "../workspaces/resolve";
import { validationHook } from "./errors";

/**
 * How every route of a group is reached, stated once. The declaration installs the
 * middleware on each route and writes the same facts into the OpenAPI document, so what
 * `/api/openapi.json` says and what the Worker enforces cannot drift apart.
 *
 * - `public`: anyone.
 * - `signedIn`: `authenticate` (bearer token or session cookie).
 * - `host`: signed in, then the host from `X-Kai-Host` or `?host` (or the only one).
 * - `hostInPath`: signed in, then the host whose id is the route's `{id}`.
 * - `workspace`: signed in, then the workspace (and so its host) from `X-Kai-Workspace`
 *   or `?workspace_id`, or the `{workspaceId}` of the path the group is mounted at.
 * - `workspaceInPath`: the same, documented as the `{workspaceId}` path parameter.
 * - `agent`: kai-agent itself, by its host's agent token (`Bearer kai_agent_…`); the host is
 *   the token's, never chosen.
 *
 * The host-bound ones give their routes `c.var.agent`, the only way to relay to a host.
 */
export type Access = "public" | "signedIn" | "host" | "hostInPath" | "workspace" | "workspaceInPath" | "agent";

type EnvOf<A extends Access> = A extends "public"
  ? AppEnv
  : A extends "agent"
    ? AgentTokenEnv
    : A extends "signedIn"
      ? SignedInEnv
      : A extends "host" | "hostInPath"
        ? HostEnv
        : WorkspaceEnv;

/** OpenAPI security requirement of every signed-in route: a bearer token or the session cookie. */
const SIGNED_IN = [{ bearer: [] }, { cookie: [] }];
/** OpenAPI security requirement of kai-agent's own routes: its host's agent token. */
const AGENT_TOKEN = [{ agentToken: [] }];

type Parameter = NonNullable<RouteConfig["parameters"]>[number];

const text = { type: "string" } as const;
const uuid = { type: "string", format: "uuid" } as const;
const optional = (where: "header" | "query", name: string, schema: object, description: string): Parameter => ({
  in: where,
  name,
  required: false,
  schema,
  description,
});

const WORKSPACE_SELECTORS: Parameter[] = [
  optional("header", WORKSPACE_HEADER, uuid, "The workspace (a catalog item's id)"),
  optional("query", WORKSPACE_QUERY, uuid, `The workspace, when ${WORKSPACE_HEADER} is not sent`),
];

/**
 * Documents the workspace selectors on a signed-in route that resolves its workspace itself,
 * because it also takes one in its body or may not need one (starting an agent session).
 */
export function selectingWorkspace<R extends RouteConfig>(route: R): R {
  return { ...route, parameters: [...(route.parameters ?? []), ...WORKSPACE_SELECTORS] } as R;
}

const HOST_SELECTORS: Parameter[] = [
  optional("header", HOST_HEADER, text, "The host: its id or name (needed when you have several)"),
  optional("query", HOST_QUERY, text, `The host, when ${HOST_HEADER} is not sent`),
];

/** Documents the host selectors on a route that reads them without requiring a host (the health report). */
export function selectingHost<R extends RouteConfig>(route: R): R {
  return { ...route, parameters: [...(route.parameters ?? []), ...HOST_SELECTORS] } as R;
}

/** The selector parameters each access documents, besides those the route's own schemas produce. */
const SELECTORS: Record<Access, Parameter[]> = {
  public: [],
  signedIn: [],
  host: HOST_SELECTORS,
  // `{id}` is already documented by the route's own params schema.
  hostInPath: [],
  workspace: WORKSPACE_SELECTORS,
  agent: [],
  workspaceInPath: [
    {
      in: "path",
      name: WORKSPACE_PARAM,
      required: true,
      schema: uuid,
      description: "The workspace (a catalog item's id)",
    },
  ],
};

const GUARDS: Record<Access, MiddlewareHandler[]> = {
  public: [],
  signedIn: [authenticate],
  host: [authenticate, selectHost],
  hostInPath: [authenticate, hostInPath],
  workspace: [authenticate, resolveWorkspace],
  workspaceInPath: [authenticate, resolveWorkspace],
  agent: [authenticateAgent],
};

/**
 * A group of routes with one access declaration. `openapi()` routes get the guards and
 * documentation automatically; routes OpenAPI cannot template (a path spanning slashes, a
 * WebSocket that shares a path with a POST) use `plain()` and `document()`, which apply the
 * same declaration. Guards run per route, never as `use("*")`, so a group mounted at a
 * shared prefix (`/api/v1`) guards only its own routes.
 */
export class RouteGroup<E extends AppEnv> extends OpenAPIHono<E> {
  readonly access: Access;
  readonly #guards: MiddlewareHandler[];

  constructor(access: Access) {
    super({ defaultHook: validationHook });
    this.access = access;
    this.#guards = GUARDS[access];
    const register = this.openapi;
    // `openapi` is an instance property of OpenAPIHono, so it is wrapped rather than overridden.
    this.openapi = ((route: RouteConfig, handler: never, hook: never) =>
      register(
        { ...this.#declared(route), middleware: [...this.#guards, ...[route.middleware ?? []].flat()] } as never,
        handler,
        hook,
      )) as typeof register;
  }

  /** A route registered without OpenAPI validation, behind the group's guards; describe it with `document`. */
  plain(method: "GET" | "POST" | "PUT" | "DELETE", path: string, handler: MiddlewareHandler<E>): this {
    // Hono's overloads type each handler's env from the one before; the guards set what E promises.
    const on = this.on as (method: string, path: string, ...handlers: MiddlewareHandler<E>[]) => unknown;
    on.call(this, method, path, ...(this.#guards as MiddlewareHandler<E>[]), handler);
    return this;
  }

  /** Documents a `plain` route, with the group's security and selector parameters. */
  document(route: RouteConfig): void {
    this.openAPIRegistry.registerPath(this.#declared(route));
  }

  #declared(route: RouteConfig): RouteConfig {
    const { security: _ignored, ...rest } = route;
    const parameters = [...(route.parameters ?? []), ...SELECTORS[this.access]];
    return {
      ...rest,
      ...(this.access === "public" ? {} : { security: this.access === "agent" ? AGENT_TOKEN : SIGNED_IN }),
      ...(parameters.length ? { parameters } : {}),
    } as RouteConfig;
  }
}

/** Starts a route group: see `Access` for what each declaration installs and documents. */
export function declareRoutes<A extends Access>(access: A): RouteGroup<EnvOf<A>> {
  return new RouteGroup<EnvOf<A>>(access);
}
