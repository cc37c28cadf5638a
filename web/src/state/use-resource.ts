import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, asApiError } from "../api/api-error";

/** What `useResource` gives a page: the data once loaded, the failure if any, and a reload. */
export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads `load()` when the component mounts (and again on `reload`); failures become an ApiError
 * for `ErrorView`. `load` is read on each call, so it may close over the page's props.
 */
export function useResource<T>(load: () => Promise<T>): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await latest.current());
      setError(undefined);
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}
