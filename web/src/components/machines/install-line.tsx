import { api, call } from "../../api/client";
import { useResource } from "../../state/use-resource";
import { CopyButton } from "../copy-button";
import { ErrorView } from "../error-view";

/**
 * The primary way to add a machine: one line, run there, that installs kai-agent from this
 * Kai (`/install.sh`) and logs the machine in by device login (it prints a code and the page
 * to approve it on). The Worker gives the line (`GET /api/install`): the address machines reach
 * may not be this page's (PUBLIC_ORIGIN behind a proxy).
 */
export function InstallLine() {
  const info = useResource(async () => (await call(api.GET("/api/install"))).data);
  const line = info.data?.install;
  return (
    <div class="card secret">
      <strong>Run this on the machine</strong>
      <ErrorView error={info.error} />
      {/* Shown once loaded: what is on screen is always the line to run. */}
      {line ? <pre data-install-line>{line}</pre> : <pre aria-busy="true">…</pre>}
      <div class="row">
        {line && <CopyButton text={line} />}
        <span class="muted">
          It installs kai-agent in your home directory (no root; Node 20.19 or newer), then shows a code: approve it in
          Kai on the page it names, and the machine appears here. Add <code>-s -- --name laptop</code> after{" "}
          <code>sh</code> to name it.
        </span>
      </div>
    </div>
  );
}
