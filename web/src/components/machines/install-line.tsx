import { CopyButton } from "../copy-button";

/**
 * The primary way to add a machine: one line, run there, that installs kai-agent from this
 * Kai (`/install.sh`) and logs the machine in by device login (it prints a code and the page
 * to approve it on). The dashboard is served by the Worker it talks to, so this page's origin
 * is the server's.
 */
export function InstallLine() {
  const line = `curl -fsSL ${location.origin}/install.sh | sh`;
  return (
    <div class="card secret">
      <strong>Run this on the machine</strong>
      <pre data-install-line>{line}</pre>
      <div class="row">
        <CopyButton text={line} />
        <span class="muted">
          It installs kai-agent in your home directory (no root; Node 20.19 or newer), then shows a code: approve it in
          Kai on the page it names, and the machine appears here. Add <code>-s -- --name laptop</code> after{" "}
          <code>sh</code> to name it.
        </span>
      </div>
    </div>
  );
}
