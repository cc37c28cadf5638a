import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { listCatalog, listHosts } from "../../api/lists";
import { DirectoryBrowser } from "../../components/containers/directory-browser";
import { ErrorView } from "../../components/error-view";
import { field, useSubmit } from "../../components/submit";
import { useResource } from "../../state/use-resource";
import "./containers.css";

/** The last part of a path, as a workspace's suggested name. */
const baseName = (path: string) => path.split("/").filter(Boolean).at(-1) ?? path;

/**
 * A new Flexy container from a workspace (a catalog item: a folder on one host). The folder is
 * picked from the host's allowed roots with the directory browser, or from the workspaces
 * already in the catalog; the container mounts it at the given path.
 */
export function NewContainerPage() {
  const { route } = useLocation();
  const hosts = useResource(listHosts);
  const [hostId, setHostId] = useState<string>();
  const online = hosts.data?.filter((host) => host.online) ?? [];
  const chosenHost = hostId ?? online[0]?.id;
  const catalog = useResource(async () => {
    if (!chosenHost) return [];
    return await listCatalog(chosenHost);
  });
  // The catalog is per machine: load it again whenever the chosen one changes (or first appears).
  useEffect(() => {
    void catalog.reload();
  }, [chosenHost]);
  const [browsing, setBrowsing] = useState(false);
  const [itemId, setItemId] = useState<string>();
  const [addError, setAddError] = useState<ApiError>();
  const [adding, setAdding] = useState(false);
  const useFolder = async (hostPath: string) => {
    if (!chosenHost) return;
    setAdding(true);
    setAddError(undefined);
    try {
      const params = { query: { host: chosenHost } };
      const body = { name: baseName(hostPath), hostPath };
      const item = (await call(api.POST("/api/catalog/flexy", { params, body }))).data;
      await catalog.reload();
      setItemId(item.id);
      setBrowsing(false);
    } catch (failure) {
      setAddError(asApiError(failure));
    } finally {
      setAdding(false);
    }
  };
  const create = useSubmit(async (form) => {
    if (!chosenHost) return;
    const name = field(form, "name");
    const body = {
      name,
      image: field(form, "image"),
      containerPath: field(form, "containerPath"),
      catalogItemId: field(form, "workspace"),
      env: {},
    };
    await call(api.POST("/api/flexy", { params: { query: { host: chosenHost } }, body }));
    route(`/services/${encodeURIComponent(chosenHost)}/${encodeURIComponent(name)}`);
  });
  const pickHost = (event: Event) => {
    setHostId((event.currentTarget as HTMLSelectElement).value);
    setItemId(undefined);
  };
  return (
    <>
      <p>
        <a href="/containers">← Containers</a>
      </p>
      <h1>New container</h1>
      <ErrorView error={hosts.error} />
      {hosts.data && online.length === 0 && (
        <p class="muted">
          No machine is online: start kai-agent on one (see <a href="/machines">Machines</a>), then come back.
        </p>
      )}
      {chosenHost && (
        <div class="new-container">
          <label>
            Machine
            <select name="host" value={chosenHost} onChange={pickHost}>
              {hosts.data?.map((host) => (
                <option key={host.id} value={host.id} disabled={!host.online}>
                  {host.name}
                  {host.online ? "" : " (offline)"}
                </option>
              ))}
            </select>
          </label>
          <ErrorView error={catalog.error} />
          {browsing ? (
            <>
              <DirectoryBrowser hostId={chosenHost} onChoose={useFolder} />
              {adding && <p class="muted">Adding the folder as a workspace…</p>}
              <ErrorView error={addError} />
              <button type="button" onClick={() => setBrowsing(false)}>
                Close the folder browser
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setBrowsing(true)}>
              Add a folder as a workspace…
            </button>
          )}
          <form onSubmit={create.run}>
            <label>
              Workspace (a folder on that machine)
              <select
                name="workspace"
                required
                value={itemId ?? ""}
                onChange={(event) => setItemId(event.currentTarget.value)}
              >
                <option value="" disabled>
                  {catalog.data?.length ? "Choose a workspace" : "No workspace yet: add a folder first"}
                </option>
                {catalog.data?.map((item) => (
                  <option key={item.id} value={item.id}>
                    {item.name} — {item.hostPath}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Container name
              <input name="name" required maxLength={128} pattern="[a-zA-Z0-9][a-zA-Z0-9_.\-]*" />
            </label>
            <label>
              Image (already on that machine: Kai does not pull when creating)
              <input name="image" required placeholder="flexy-dev-sandbox:latest" />
            </label>
            <label>
              Mounted at, inside the container
              <input name="containerPath" required value="/workspace" />
            </label>
            <button class="primary" type="submit" disabled={create.busy}>
              {create.busy ? "Creating…" : "Create"}
            </button>
            <ErrorView error={create.error} />
          </form>
        </div>
      )}
    </>
  );
}
