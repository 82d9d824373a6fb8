import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createQueryClient } from './query-client';
import { watchResetLinks } from './session/reset-link';
import { SessionProvider } from './session/session';
import { openTabSync } from './session/tab-sync';
import { ErrorBoundary } from './ui/ErrorBoundary';
import './styles.css';

// The app's other tabs in this browser: logins, logouts and task changes reach them at once (session/tab-sync.ts).
const tabs = openTabSync();
const queries = createQueryClient(tabs);

// Before anything renders or logs: a reset token leaves the address bar at once (session/reset-link.ts).
watchResetLinks(window);

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <QueryClientProvider client={queries}>
        <SessionProvider tabs={tabs}>
          <App />
        </SessionProvider>
      </QueryClientProvider>
    </ErrorBoundary>
  </StrictMode>,
);
