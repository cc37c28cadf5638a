import type { D1Migration } from "cloudflare:test";
import type { Settings } from "../../edge/config";

// Cloudflare.Env's bindings come from edge/worker-configuration.d.ts; tests add their settings and migrations.
declare global {
  namespace Cloudflare {
    interface Env extends Settings {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
