import { containerHandlers } from "./containers";
import { directoryHandlers } from "./directories";
import { serviceLogHandlers } from "./service-logs";
import { serviceHandlers } from "./services";
import { systemHandlers } from "./system";
import { systemStats } from "./system-stats";
import type { Handlers } from "./types";

/** The agent's answer to every op of `shared/commands.ts`; a missing one does not compile. */
export const handlers: Handlers = {
  ...systemHandlers,
  ...containerHandlers,
  ...directoryHandlers,
  ...serviceHandlers,
  ...serviceLogHandlers,
  "system.stats": systemStats,
};
