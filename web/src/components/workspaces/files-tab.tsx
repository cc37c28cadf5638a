import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { Breadcrumbs } from "./breadcrumbs";
import { FileView } from "./file-view";
import { deletePath, listDirectory } from "./files-api";
import { NewFileForm } from "./new-file-form";
import type { TabProps } from "./tab-props";
import { UploadForm } from "./upload-form";

const sizeText = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** Browse the workspace's folders (`?path=`), open a file (`?file=`), create, upload and delete. */
export function FilesTab({ workspaceId, query }: TabProps) {
  const base = `/workspaces/${workspaceId}/files`;
  const hrefOf = (path: string) => (path ? `${base}?path=${encodeURIComponent(path)}` : base);
  const opened = query.file;
  if (opened) {
    const parent = opened.split("/").slice(0, -1).join("/");
    return <FileView key={opened} workspaceId={workspaceId} path={opened} back={hrefOf(parent)} />;
  }
  // Keyed by the folder: a new folder is a new listing, loaded afresh.
  const directory = query.path ?? "";
  return <Folder key={directory} workspaceId={workspaceId} directory={directory} base={base} hrefOf={hrefOf} />;
}

function Folder(props: { workspaceId: string; directory: string; base: string; hrefOf: (path: string) => string }) {
  const { workspaceId, directory, base, hrefOf } = props;
  const listing = useResource(() => listDirectory(workspaceId, directory));
  const [error, setError] = useState<ApiError>();
  const remove = async (path: string, isDirectory: boolean) => {
    const what = isDirectory ? `the folder "${path}" and everything in it` : `"${path}"`;
    if (!window.confirm(`Delete ${what}? This cannot be undone.`)) return;
    try {
      setError(undefined);
      await deletePath(workspaceId, path, isDirectory);
      await listing.reload();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <section class="ws-files" aria-label="Files">
      <Breadcrumbs path={directory} hrefOf={hrefOf} />
      <ErrorView error={listing.error ?? error} />
      {listing.loading && !listing.data && <p class="muted">Loading…</p>}
      <ul class="ws-entries" aria-label="Folder contents">
        {listing.data?.entries.map((entry) => (
          <li key={entry.path} data-entry={entry.name}>
            <a
              href={entry.type === "directory" ? hrefOf(entry.path) : `${base}?file=${encodeURIComponent(entry.path)}`}
            >
              {entry.type === "directory" ? `${entry.name}/` : entry.name}
            </a>
            <span class="muted">{entry.type === "directory" ? "folder" : sizeText(entry.size)}</span>
            <button type="button" class="danger" onClick={() => remove(entry.path, entry.type === "directory")}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      {listing.data?.entries.length === 0 && <p class="muted">This folder is empty.</p>}
      {listing.data?.truncated && <p class="muted">Only the first entries are shown: this folder holds more.</p>}
      <details class="ws-more">
        <summary>New file or upload</summary>
        <NewFileForm
          workspaceId={workspaceId}
          directory={directory}
          fileHref={(path) => `${base}?file=${encodeURIComponent(path)}`}
        />
        <UploadForm workspaceId={workspaceId} directory={directory} onUploaded={listing.reload} />
      </details>
    </section>
  );
}
