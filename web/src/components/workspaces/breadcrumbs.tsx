/** The directory `path` as links back to each of its parents, the workspace root first. */
export function Breadcrumbs({ path, hrefOf }: { path: string; hrefOf: (directory: string) => string }) {
  const parts = path.split("/").filter(Boolean);
  return (
    <nav class="ws-crumbs" aria-label="Folder">
      <a href={hrefOf("")}>root</a>
      {parts.map((part, index) => (
        <span key={parts.slice(0, index + 1).join("/")}>
          <span class="muted" aria-hidden="true">
            /
          </span>
          <a href={hrefOf(parts.slice(0, index + 1).join("/"))}>{part}</a>
        </span>
      ))}
    </nav>
  );
}
