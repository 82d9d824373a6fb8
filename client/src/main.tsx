import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { watchResetLinks } from './session/reset-link';
import { SessionProvider } from './session/session';
import { ErrorBoundary } from './ui/ErrorBoundary';
import './styles.css';

const queries = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 30_000, refetchOnWindowFocus: true },
    mutations: { retry: false },
  },
});

// Before anything renders or logs: a reset token leaves the address bar at once (session/reset-link.ts).
watchResetLinks(window);

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <QueryClientProvider client={queries}>
        <SessionProvider>
          <App />
        </SessionProvider>
      </QueryClientProvider>
    </ErrorBoundary>
  </StrictMode>,
);
