import { defineConfig } from 'vitest/config';

// Tests import sibling workspaces (`@ironclad/config/load`, `@ironclad/testkit/gate`, ...) through the "source"
// export condition, so they always run the TypeScript being edited, never a dist/ left by an older build. Suites that
// run a build as a process check it is fresh first (testkit/src/build.ts).
const sourceFirst = { resolve: { conditions: ['source'] }, ssr: { resolve: { conditions: ['source'] } } };

export default defineConfig({
  ...sourceFirst,
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel workers; each creates its own databases and picks its own ports.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'config', include: ['config/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'testkit', include: ['testkit/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'scripts', include: ['scripts/**/*.test.ts'] } },
      { extends: true, test: { name: 'server', include: ['server/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'audit', include: ['audit/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'deploy', include: ['deploy/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['e2e/**/*.test.ts'] } },
      {
        // The web client's own logic and components, in jsdom with the client's Vite config (React's JSX).
        extends: './client/vite.config.ts',
        test: {
          name: 'client',
          root: './client',
          environment: 'jsdom',
          include: ['src/**/*.test.{ts,tsx}', 'build/**/*.test.ts'],
        },
      },
    ],
  },
});
