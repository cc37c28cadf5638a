import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { installInfo } from "../../shared/schemas/hosts";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { installCommand, installScript } from "../install/install-script";
import { publicOrigin } from "../install/public-origin";

/**
 * `/install.sh`: the installer a machine pipes to sh to join this Kai (edge/install/install-script.ts),
 * and `/api/install`: the line that runs it, for the dashboard (its own address may not be the one
 * machines reach: PUBLIC_ORIGIN).
 */
export const installRoutes = declareRoutes("public");

installRoutes.openapi(
  createRoute({
    method: "get",
    path: "/install.sh",
    tags: ["hosts"],
    summary: "The installer: installs kai-agent in the user's home, logs the machine in and starts it",
    description:
      "Run on the machine: `curl -fsSL ORIGIN/install.sh | sh`, or with options " +
      "`… | sh -s -- [--name NAME] [--with-token] [--no-start]`. Needs Node (the release manifest's range).",
    responses: {
      200: {
        description: "A POSIX sh script for this server's origin",
        content: { "text/x-shellscript": { schema: z.string() } },
      },
      ...envelopeErrors(400),
    },
  }),
  (c) =>
    c.body(installScript(publicOrigin(c.var.config, c.req.url)), 200, {
      "Content-Type": "text/x-shellscript; charset=utf-8",
      // A deploy changes what it installs: never run a stale copy.
      "Cache-Control": "no-cache",
    }),
);

installRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/install",
    tags: ["hosts"],
    summary: "How a machine joins this Kai: the address agents reach and the one line to run there",
    responses: {
      200: { description: "The install line", content: { "application/json": { schema: envelopeOf(installInfo) } } },
      ...envelopeErrors(400),
    },
  }),
  (c) => {
    const server = publicOrigin(c.var.config, c.req.url);
    return ok(c, { server, install: installCommand(server) }, "Run the install line on the machine");
  },
);
