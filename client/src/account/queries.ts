/** The account screen's reads, cached by TanStack Query; changes that affect them invalidate them. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ConnectionError } from '../api/errors';

export const PROFILE = ['profile'] as const;
export const SESSIONS = ['sessions'] as const;
export const ACTIVITY = ['activity'] as const;

// A lost connection is shown by the banner and retried by the connection probe, not by the query.
const retry = (count: number, error: unknown) => !(error instanceof ConnectionError) && count < 1;

export const useProfile = () => useQuery({ queryKey: PROFILE, queryFn: api.profile, retry });
export const useSessions = () => useQuery({ queryKey: SESSIONS, queryFn: api.sessions, retry });
export const useActivity = () => useQuery({ queryKey: ACTIVITY, queryFn: api.activity, retry });

/** After something that ends sessions or is recorded as activity: read both again. */
export function useRefreshSecurity(): () => void {
  const queries = useQueryClient();
  return () => {
    void queries.invalidateQueries({ queryKey: SESSIONS });
    void queries.invalidateQueries({ queryKey: ACTIVITY });
  };
}
