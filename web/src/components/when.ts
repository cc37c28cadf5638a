/** A timestamp as a person reads it, in their locale; "never" for none. */
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "never");
