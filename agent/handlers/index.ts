import { containerHandlers } from "./containers";
import { directoryHandlers } from "./directories";
import { systemHandlers } from "./system";
import type { Handlers } from "./types";

/** The agent's answer to every op of `shared/commands.ts`; a missing one does not compile. */
export const handlers: Handlers = {
  ...systemHandlers,
  ...containerHandlers,
  ...directoryHandlers,
};
