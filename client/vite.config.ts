import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './build/precompress.js';

// `npm run dev` serves the client with hot reload and forwards /api/ to the API server (scripts/dev.mjs starts both).
const API = process.env.API_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react(), precompress()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: { '/api': { target: API } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Nothing inlined as data: URIs and no inline polyfill script: the page CSP (config/src/page-csp.ts)
    // allows scripts and styles from 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
