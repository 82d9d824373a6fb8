// @vitest-environment node
/** The precompression step, run in a real Vite build of a small app. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESSIBLE, compressAsset, precompress } from './precompress.js';

let root: string;
let assets: string[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ironclad-precompress-'));
  mkdirSync(join(root, 'src'));
  // Enough repeated text to compress well, and a tiny SVG whose compressed forms would be larger than it.
  writeFileSync(join(root, 'src', 'main.js'), `document.title = ${JSON.stringify('Ironclad Tasks '.repeat(400))};\n`);
  const rules = Array.from({ length: 200 }, (_, i) => `.row-${i} { margin: 0 auto; padding: ${i}px; }`);
  writeFileSync(join(root, 'src', 'style.css'), rules.join('\n'));
  writeFileSync(join(root, 'src', 'dot.svg'), '<svg/>');
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><link rel="icon" href="/src/dot.svg"><link rel="stylesheet" href="/src/style.css"><script type="module" src="/src/main.js"></script>',
  );
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [precompress()],
    build: { outDir: 'dist', assetsInlineLimit: 0, modulePreload: { polyfill: false } },
  });
  assets = readdirSync(join(root, 'dist', 'assets')).sort();
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = (name: string) => readFileSync(join(root, 'dist', 'assets', name));

describe('precompress', () => {
  it('writes a .br and a .gz beside the script and the stylesheet, decoding to the same bytes', () => {
    for (const extension of ['.js', '.css']) {
      const original = assets.find((name) => name.endsWith(extension));
      expect(original, extension).toBeDefined();
      const name = original as string;
      expect(assets).toContain(`${name}.br`);
      expect(assets).toContain(`${name}.gz`);
      expect(brotliDecompressSync(read(`${name}.br`)).equals(read(name))).toBe(true);
      expect(gunzipSync(read(`${name}.gz`)).equals(read(name))).toBe(true);
      expect(read(`${name}.br`).length).toBeLessThan(read(`${name}.gz`).length);
    }
  });

  it('writes no compressed file that would be larger than the original', () => {
    const svg = assets.find((name) => name.endsWith('.svg'));
    expect(svg).toBeDefined();
    expect(assets.filter((name) => name.startsWith(`${svg}.`))).toEqual([]);
  });

  it('leaves index.html uncompressed (served from memory by the server, gzipped on the fly by nginx)', () => {
    const top = readdirSync(join(root, 'dist'));
    expect(top).toContain('index.html');
    expect(top.filter((name) => name.startsWith('index.html.'))).toEqual([]);
  });

  it('uses brotli at its best quality and gzip at level 9', async () => {
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; '.repeat(300));
    const { br, gz } = await compressAsset(text);
    // Quality 11 beats the default quality on repeated text; level 9's header says "maximum compression" (XFL = 2).
    expect(br?.byteLength).toBeLessThan(80);
    expect(gz?.[8]).toBe(2);
  });

  it('matches only hashed text assets', () => {
    expect(COMPRESSIBLE.test('assets/index-Ab12.js')).toBe(true);
    expect(COMPRESSIBLE.test('assets/index-Ab12.css')).toBe(true);
    expect(COMPRESSIBLE.test('assets/logo-Ab12.svg')).toBe(true);
    expect(COMPRESSIBLE.test('index.html')).toBe(false);
    expect(COMPRESSIBLE.test('assets/photo-Ab12.png')).toBe(false);
    expect(COMPRESSIBLE.test('assets/font-Ab12.woff2')).toBe(false);
  });
});
