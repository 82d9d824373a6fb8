/**
 * Build step: a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) sibling beside every compressible hashed asset,
 * so that the built-in server (@fastify/static `preCompressed`) and nginx (`gzip_static`, and `brotli_static` where
 * the module is loaded) send compressed bytes without compressing on each request.
 *
 * Written on node:zlib rather than taken from a plugin: it is one Rollup `generateBundle` hook, and the maintained
 * plugin (vite-plugin-compression2) works by patching Vite's own plugins and process.stdout, which is a risk at each
 * Vite major for ~30 lines of work. Zopfli was measured (@gfx/zopfli: 3% smaller .gz, 80x slower) and left out: every
 * current browser takes brotli, so the .gz is a fallback.
 *
 * index.html is left alone: under 1 KB (one packet either way), read into memory by the built-in server, and nginx
 * gzips text/html on the fly.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Text formats that compress; images and fonts in other formats are compressed already. */
export const COMPRESSIBLE = /^assets\/.+\.(?:js|mjs|css|svg|json|txt|xml|webmanifest)$/;

export interface Compressed {
  br?: Uint8Array;
  gz?: Uint8Array;
}

/** Both encodings of `source`, each only when it is smaller than the original (a tiny file can grow). */
export async function compressAsset(source: Uint8Array): Promise<Compressed> {
  const [br, gz] = await Promise.all([
    brotli(source, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: source.byteLength,
      },
    }),
    gzipAsync(source, { level: constants.Z_BEST_COMPRESSION }),
  ]);
  return {
    ...(br.byteLength < source.byteLength ? { br } : {}),
    ...(gz.byteLength < source.byteLength ? { gz } : {}),
  };
}

export function precompress(): Plugin {
  return {
    name: 'ironclad:precompress',
    apply: 'build',
    enforce: 'post',
    async generateBundle(_options, bundle) {
      const work = Object.values(bundle)
        .filter((output) => COMPRESSIBLE.test(output.fileName))
        .map(async (output) => {
          const source = output.type === 'asset' ? output.source : output.code;
          const bytes = typeof source === 'string' ? new TextEncoder().encode(source) : source;
          const { br, gz } = await compressAsset(bytes);
          if (br) this.emitFile({ type: 'asset', fileName: `${output.fileName}.br`, source: br });
          if (gz) this.emitFile({ type: 'asset', fileName: `${output.fileName}.gz`, source: gz });
        });
      await Promise.all(work);
    },
  };
}
