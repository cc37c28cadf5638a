import { KaiError } from "../../shared/errors";
import type { Config } from "../config";
import { installOrigin } from "./install-script";

/**
 * The address machines reach this Kai at, for install.sh and the line that runs it:
 * PUBLIC_ORIGIN when set (behind a proxy the request's own URL may be an internal one), else
 * the request's origin. A Host header that is no plain host name is a 400: nothing else may
 * be embedded in a script.
 */
export function publicOrigin(config: Pick<Config, "PUBLIC_ORIGIN">, requestUrl: string): string {
  try {
    return installOrigin(config.PUBLIC_ORIGIN ?? requestUrl);
  } catch {
    throw new KaiError("BAD_REQUEST", "this address is not a plain http(s) origin; reach Kai by its host name");
  }
}
