import type { components } from "../../api/schema";
import { field } from "../submit";

type Host = components["schemas"]["Host"];

/** The audit log's filters as the API takes them; an empty one is left out. */
export interface AuditFilter {
  hostId?: string;
  op?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

/** A `datetime-local` value (the reader's own time zone) as the ISO instant the API wants. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The filter form: host, command, outcome and a time range; submitting it reads the log again from the top. */
export function AuditFilters({ hosts, onApply }: { hosts: Host[]; onApply: (filter: AuditFilter) => void }) {
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const filter: AuditFilter = {
      hostId: field(form, "hostId") || undefined,
      op: field(form, "op").trim() || undefined,
      outcome: field(form, "outcome") || undefined,
      from: instant(field(form, "from")),
      to: instant(field(form, "to")),
    };
    onApply(filter);
  };
  const clear = (event: Event) => {
    (event.currentTarget as HTMLButtonElement).form?.reset();
    onApply({});
  };
  return (
    <form class="audit-filters" onSubmit={apply} aria-label="Filter the audit log">
      <label>
        Machine
        <select name="hostId">
          <option value="">All machines</option>
          {hosts.map((host) => (
            <option key={host.id} value={host.id}>
              {host.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Command
        <input name="op" maxLength={64} placeholder="container.list" autocomplete="off" />
      </label>
      <label>
        Outcome
        <select name="outcome">
          <option value="">Any</option>
          <option value="ok">ok</option>
          <option value="error">Any failure</option>
        </select>
      </label>
      <label>
        From
        <input name="from" type="datetime-local" />
      </label>
      <label>
        Until
        <input name="to" type="datetime-local" />
      </label>
      <div class="row">
        <button class="primary" type="submit">
          Apply
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
