import { useState } from "preact/hooks";
import { ErrorView } from "../error-view";
import { useSubmit } from "../submit";
import { upload } from "./files-api";

/** Uploads one or more files into the folder being shown. */
export function UploadForm(props: { workspaceId: string; directory: string; onUploaded: () => void }) {
  const [done, setDone] = useState<string>();
  const send = useSubmit(async (form) => {
    const files = form.getAll("files").filter((item): item is File => item instanceof File && item.name !== "");
    if (files.length === 0) return;
    await upload(props.workspaceId, props.directory, files);
    setDone(`Uploaded ${files.map((each) => each.name).join(", ")}`);
    props.onUploaded();
  });
  return (
    <form onSubmit={send.run} aria-label="Upload">
      <label>
        Upload files here
        <input name="files" type="file" multiple required />
      </label>
      <button type="submit" disabled={send.busy}>
        Upload
      </button>
      {done && <p role="status">{done}</p>}
      <ErrorView error={send.error} />
    </form>
  );
}
