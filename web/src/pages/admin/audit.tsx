import { useRef, useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { listHosts } from "../../api/lists";
import type { components } from "../../api/schema";
import { type AuditFilter, AuditFilters } from "../../components/admin/audit-filters";
import { AuditRow } from "../../components/admin/audit-row";
import { ErrorView } from "../../components/error-view";
import { useResource } from "../../state/use-resource";
import "./admin.css";

type Entry = components["schemas"]["AuditEntry"];
const PAGE_SIZE = 50;

/** Every command relayed to your machines, newest first: filters, and pages read on demand. */
export function Audit() {
  const hosts = useResource(listHosts);
  // A ref, not state: `apply` reads the first page again at once, before the next render.
  const filter = useRef<AuditFilter>({});
  const [more, setMore] = useState<Entry[]>([]);
  const [moreError, setMoreError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const page = (offset: number) =>
    call(api.GET("/api/audit", { params: { query: { ...filter.current, limit: PAGE_SIZE, offset } } }));
  // The first page reloads with the filter; later pages are appended below it.
  const first = useResource(async () => (await page(0)).data);
  const apply = (next: AuditFilter) => {
    filter.current = next;
    setMore([]);
    setMoreError(undefined);
    void first.reload();
  };
  const entries = [...(first.data?.entries ?? []), ...more];
  const total = first.data?.total ?? 0;
  // Past 10,000 matches the API stops counting and paging (edge/routes/audit.ts): dates narrow it.
  const capped = first.data?.totalCapped ?? false;
  const loadMore = async () => {
    setBusy(true);
    setMoreError(undefined);
    try {
      const answer = await page(entries.length);
      setMore([...more, ...answer.data.entries]);
    } catch (failure) {
      setMoreError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  const nameOf = (hostId: string) => hosts.data?.find((host) => host.id === hostId)?.name ?? "removed machine";
  return (
    <>
      <h1>Audit log</h1>
      <p class="muted">Every command Kai relayed to your machines, newest first.</p>
      <AuditFilters hosts={hosts.data ?? []} onApply={apply} />
      <ErrorView error={hosts.error} />
      <ErrorView error={first.error} />
      {first.loading && <p class="muted">Loading…</p>}
      {first.data && (
        <p class="muted" aria-live="polite" data-total={total}>
          {total === 0 ? "No entries match." : `Showing ${entries.length} of ${total}${capped ? "+" : ""}.`}
        </p>
      )}
      <ul class="list" aria-label="Audit entries">
        {entries.map((entry) => (
          <AuditRow key={entry.id} entry={entry} hostName={nameOf(entry.hostId)} />
        ))}
      </ul>
      <ErrorView error={moreError} />
      {capped && entries.length >= total && <p class="muted">Older entries: set an earlier “Until” in the filters.</p>}
      {entries.length < total && (
        <button type="button" onClick={loadMore} disabled={busy}>
          {busy ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}
