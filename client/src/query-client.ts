/**
 * The app's query cache. Every mutation in this app changes tasks (the account screen calls the API directly), so
 * every successful one tells the other tabs to refetch their task lists: new task mutations are covered without
 * remembering to notify.
 */
import { MutationCache, QueryClient } from '@tanstack/react-query';
import type { TabSync } from './session/tab-sync';

export function createQueryClient(tabs: TabSync): QueryClient {
  return new QueryClient({
    mutationCache: new MutationCache({ onSuccess: () => tabs.post({ type: 'tasks-changed' }) }),
    defaultOptions: {
      queries: { staleTime: 30_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}
