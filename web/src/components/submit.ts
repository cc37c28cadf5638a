import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../api/api-error";

/**
 * A form's submit handler: runs `action` once at a time, keeps its failure for `ErrorView`.
 *
 *   const { busy, error, run } = useSubmit(async (form) => { … });
 *   <form onSubmit={run}> … <ErrorView error={error} />
 */
export function useSubmit(action: (form: FormData) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await action(new FormData(event.currentTarget as HTMLFormElement));
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** A text field of a submitted form. */
export const field = (form: FormData, name: string) => String(form.get(name) ?? "");
