// Reading one API resource into a page: its data, its ETag, loading and error states, and a
// reload.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";

export function useResource(path, query) {
  const [state, setState] = useState({ loading: true, data: null, etag: null, error: null });
  const key = path ? `${path}?${JSON.stringify(query || {})}` : null;
  const latest = useRef(key);
  latest.current = key;

  const load = useCallback(async () => {
    if (!key) return;
    setState((s) => ({ ...s, loading: true }));
    try {
      const { data, etag } = await api(path, { query });
      if (latest.current === key) setState({ loading: false, data, etag, error: null });
      return data;
    } catch (error) {
      if (latest.current === key) setState({ loading: false, data: null, etag: null, error });
      return null;
    }
    // `key` covers path and query.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  useEffect(() => {
    load();
  }, [load]);

  return { ...state, reload: load, set: (data, etag) => setState({ loading: false, data, etag: etag ?? null, error: null }) };
}
