import { useEffect, useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { ErrorView } from "../error-view";

type Listing = components["schemas"]["DirectoryListing"];

/** The folder above `path` ("/" stays "/"). */
const parentOf = (path: string) => path.replace(/\/[^/]+\/?$/, "") || "/";

/**
 * Folders of one host, browsed through its agent. The agent confines every listing to the
 * host's allowed roots (its policy file), so going up past a root, or typing a path outside
 * them, is refused there: the refusal is shown as is, and the last good listing stays.
 */
export function DirectoryBrowser({ hostId, onChoose }: { hostId: string; onChoose: (path: string) => void }) {
  const [listing, setListing] = useState<Listing>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const open = async (currentPath?: string) => {
    setBusy(true);
    try {
      const body = currentPath ? { currentPath } : {};
      setListing((await call(api.POST("/api/host/directories", { params: { query: { host: hostId } }, body }))).data);
      setError(undefined);
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void open();
  }, [hostId]);
  const jump = (event: Event) => {
    event.preventDefault();
    const path = String(new FormData(event.currentTarget as HTMLFormElement).get("path") ?? "").trim();
    if (path) void open(path);
  };
  return (
    <div class="card directory-browser" aria-busy={busy}>
      <form onSubmit={jump} class="row">
        <label class="grow">
          Folder
          <input name="path" key={listing?.path} value={listing?.path ?? ""} required />
        </label>
        <button type="submit" disabled={busy}>
          Go
        </button>
      </form>
      <ErrorView error={error} />
      {listing && (
        <>
          <div class="row">
            <button type="button" disabled={busy || listing.path === "/"} onClick={() => open(parentOf(listing.path))}>
              ↑ Up
            </button>
            <button type="button" class="primary" onClick={() => onChoose(listing.path)} data-choose-folder>
              Use this folder
            </button>
          </div>
          <ul class="list browser-list" aria-label="Folders">
            {listing.directories.map((directory) => (
              <li key={directory.path}>
                <button type="button" disabled={busy} onClick={() => open(directory.path)}>
                  📁 {directory.name}
                </button>
              </li>
            ))}
          </ul>
          {listing.directories.length === 0 && <p class="muted">No folder inside.</p>}
          {listing.truncated && (
            <p class="muted">More entries than the host lists at once; type a path to go deeper.</p>
          )}
        </>
      )}
    </div>
  );
}
