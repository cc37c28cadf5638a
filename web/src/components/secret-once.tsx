import { CopyButton } from "./copy-button";

/** A secret (or a command) shown once, with a copy button and the warning that goes with it. */
export function SecretOnce({ label, value, note }: { label: string; value: string; note: string }) {
  return (
    <div class="secret">
      <strong>{label}</strong>
      <pre data-secret={label}>{value}</pre>
      <div class="row">
        <CopyButton text={value} />
        <span class="muted">{note}</span>
      </div>
    </div>
  );
}
