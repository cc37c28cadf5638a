import { useLocation } from "preact-iso";
import { ErrorView } from "../error-view";
import { field, useSubmit } from "../submit";
import { writeText } from "./files-api";

/** Creates an empty file (folders in its name are made too) and opens it in the editor. */
export function NewFileForm(props: { workspaceId: string; directory: string; fileHref: (path: string) => string }) {
  const { route } = useLocation();
  const create = useSubmit(async (form) => {
    const name = field(form, "name").replace(/^\/+/, "");
    const path = props.directory ? `${props.directory}/${name}` : name;
    await writeText(props.workspaceId, path, "", true);
    route(props.fileHref(path));
  });
  return (
    <form onSubmit={create.run} aria-label="New file">
      <label>
        New file name (may include folders: docs/notes.md)
        <input name="name" required maxLength={1024} autoComplete="off" />
      </label>
      <button type="submit" disabled={create.busy}>
        Create
      </button>
      <ErrorView error={create.error} />
    </form>
  );
}
