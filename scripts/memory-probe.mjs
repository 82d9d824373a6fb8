/**
 * Preloaded by `npm run memory -- --breakdown` (node --import): appends process.memoryUsage() to MEMORY_PROBE_FILE
 * every 50 ms, so the script can say what the highest RSS was made of (V8 heap, external, array buffers, the rest
 * native: WebAssembly memory, malloc). Not loaded by the server otherwise.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.MEMORY_PROBE_FILE;
if (file) {
  setInterval(() => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ rss, heapTotal, heapUsed, external, arrayBuffers })}\n`);
  }, 50).unref();
}
