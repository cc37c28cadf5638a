/**
 * kai-agent's exit codes, for service managers (the systemd unit's RestartPreventExitStatus=)
 * and scripts: restarting after EXIT_CONFIG or EXIT_FINAL cannot help, only a person can.
 */
export const EXIT_FAILURE = 1;
/** The command line or the configuration is wrong (the message says what to fix). */
export const EXIT_CONFIG = 2;
/** The edge ended this agent for good: its token was revoked, or it no longer speaks its protocol. */
export const EXIT_FINAL = 3;
