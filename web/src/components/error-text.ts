import type { ErrorCode } from "../../../shared/errors";

/** What each Kai error code means to a person, and what they can do about it. */
const ERROR_TEXT: Record<ErrorCode, { sentence: string; todo: string }> = {
  CONTAINER_NOT_FOUND: { sentence: "That container no longer exists.", todo: "Reload the list and pick another." },
  DOCKER_ERROR: {
    sentence: "The machine's Docker engine refused the request.",
    todo: "Check that Docker runs on that machine (`docker info`), then try again.",
  },
  PERMISSION_DENIED: {
    sentence: "You are not allowed to do that.",
    todo: "Check that you are signed in as the right user; a machine's own policy may refuse it too.",
  },
  VALIDATION_ERROR: { sentence: "Some of what was entered is not valid.", todo: "Correct the fields and try again." },
  NETWORK_ERROR: {
    sentence: "Kai could not be reached, or could not reach what it needed.",
    todo: "Check your connection and try again.",
  },
  INTERNAL_ERROR: {
    sentence: "Something went wrong inside Kai.",
    todo: "Try again; if it keeps happening, report it with the request id.",
  },
  BAD_REQUEST: { sentence: "Kai could not do that as asked.", todo: "Read the message below, adjust, and try again." },
  UNAUTHORIZED: { sentence: "You are not signed in, or your session ended.", todo: "Sign in again." },
  NOT_FOUND: { sentence: "That does not exist (any more).", todo: "Reload the page; it may have been removed." },
  METHOD_NOT_ALLOWED: {
    sentence: "Kai does not offer that action here.",
    todo: "Reload the page: the dashboard may be older than the server.",
  },
  CONFLICT: {
    sentence: "That clashes with the current state (a name in use, or already done elsewhere).",
    todo: "Reload to see the current state, then try again.",
  },
  PAYLOAD_TOO_LARGE: { sentence: "That is too large for Kai to accept.", todo: "Send something smaller." },
  UNSUPPORTED_MEDIA_TYPE: {
    sentence: "Kai cannot read that kind of content.",
    todo: "Reload the page: the dashboard may be older than the server.",
  },
  RATE_LIMITED: { sentence: "Too many requests in a short time.", todo: "Wait a minute, then try again." },
  SERVICE_UNAVAILABLE: { sentence: "Kai is unavailable right now.", todo: "Try again in a moment." },
  AGENT_OFFLINE: {
    sentence: "That machine's kai-agent is not connected.",
    todo: "Start kai-agent on the machine (see Machines), then try again.",
  },
  AGENT_TIMEOUT: {
    sentence: "That machine's kai-agent did not answer in time.",
    todo: "Check that the machine is awake and not overloaded, then try again.",
  },
  CANCELLED: { sentence: "The request was cancelled before it finished.", todo: "Try again if you still need it." },
  AGENT_PROCESS_FAILED: {
    sentence: "The coding agent's process failed on the machine.",
    todo: "Check that the agent is installed and signed in there, then start a new session.",
  },
};

/** The text for a code; a code this dashboard does not know yet reads as an internal error. */
export const errorText = (code: string) => ERROR_TEXT[code as ErrorCode] ?? ERROR_TEXT.INTERNAL_ERROR;
