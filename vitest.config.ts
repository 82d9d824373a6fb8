import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel workers; each creates its own databases and picks its own ports.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'server', include: ['server/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'deploy', include: ['deploy/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['e2e/**/*.test.ts'] } },
    ],
  },
});
