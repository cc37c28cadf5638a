import { agentSessionHandlers } from "./agent-sessions";
import { containerHandlers } from "./containers";
import { directoryHandlers } from "./directories";
import { doctor } from "./doctor";
import { fileHandlers } from "./files";
import { gitHandlers } from "./git";
import { openspecHandlers } from "./openspec";
import { scriptHandlers } from "./scripts";
import { serviceLogHandlers } from "./service-logs";
import { serviceHandlers } from "./services";
import { settingsHandlers } from "./settings";
import { systemHandlers } from "./system";
import { systemStats } from "./system-stats";
import type { Handlers } from "./types";
import { watchHandlers } from "./workspace-watch";

/** The agent's answer to every op of `shared/commands.ts`; a missing one does not compile. */
export const handlers: Handlers = {
  ...systemHandlers,
  "doctor.run": doctor,
  ...containerHandlers,
  ...directoryHandlers,
  ...serviceHandlers,
  ...serviceLogHandlers,
  "system.stats": systemStats,
  ...fileHandlers,
  ...gitHandlers,
  ...scriptHandlers,
  ...settingsHandlers,
  ...openspecHandlers,
  ...watchHandlers,
  ...agentSessionHandlers,
};
