/**
 * The auditor reads what an audited server answers and what an audited repository holds, so its scans must stay
 * linear on hostile text. These replaced regexes that were quadratic (a 64 KiB line of repeats took seconds); each is
 * checked for what it finds and for its time on the input that made the regex slow. The patterns that remain are
 * checked by server/test/regex-everywhere.test.ts.
 */
import { patternToRegExp, reloadMode } from '@ironclad/audit/file-checks';
import { namesServer } from '@ironclad/audit/live-checks';
import { htmlTags } from '@ironclad/audit/observatory/html';
import { createScanner } from '@ironclad/audit/secrets-scan';
import { describe, expect, it } from 'vitest';

const N = 64 * 1024;
/**
 * A linear scan of 64 KiB takes a few ms; the quadratic regexes these replaced took seconds. 250 ms tells the two apart
 * with room for a loaded 2-core CI machine (50 ms failed there once at 59 ms, with nothing quadratic about it).
 */
const LINEAR_MS = 250;
const timed = (run: () => unknown) => {
  const started = performance.now();
  run();
  return performance.now() - started;
};

describe('namesServer: an error page that names its server', () => {
  it('finds the words, and "nginx" followed on its line by a closing tag', () => {
    expect(namesServer('<hr><center>nginx</center>')).toBe(true);
    expect(namesServer('<p>powered by nginx</p>')).toBe(true);
    expect(namesServer('Cannot GET /x')).toBe(true);
    expect(namesServer('<p>NGINX rocks</p>')).toBe(true);
    expect(namesServer('nginx\n</p>')).toBe(false);
    expect(namesServer('nginxfoo </p>')).toBe(false);
    expect(namesServer('{"error":"not found"}')).toBe(false);
  });

  it('reads a 64 KiB line of "nginx" once (the regex took seconds)', () => {
    expect(timed(() => namesServer('nginx '.repeat(N / 6)))).toBeLessThan(LINEAR_MS);
  });
});

describe('htmlTags: the script, meta and base tags of a page', () => {
  const names = (html: string) => htmlTags(html).map((tag) => `${tag.name} ${[...tag.attributes.keys()].join(',')}`);

  it('finds them as an HTML parser does: not in comments, not in the text of a script or textarea', () => {
    const html =
      '<SCRIPT src="a.js">x = "<script src=no.js>"</script><scripts><script\nintegrity="sha384-x" src=b.js>' +
      '</script><!-- <script src=c.js> --><textarea><meta name=x></textarea><meta http-equiv=a content=b><script async>';
    expect(names(html)).toEqual(['script src', 'script integrity,src', 'meta http-equiv,content', 'script async']);
    expect(htmlTags('<script src="a&amp;b.js">')[0]?.attributes.get('src')).toBe('a&b.js');
    expect(names('<script src=a.js')).toEqual(['script src']);
  });

  it('reads 64 KiB of unclosed "<script", "<!--", quotes and "&" once', () => {
    // Best of three: a quadratic scan takes seconds here, a linear one a few milliseconds even on a busy machine.
    const best = (html: string) => Math.min(...[1, 2, 3].map(() => timed(() => htmlTags(html))));
    for (const html of [
      '<script'.repeat(N / 7),
      '<script src="'.repeat(N / 13),
      '<!--<a'.repeat(N / 6),
      '<textarea></textare'.repeat(N / 19),
      '<a b=&#'.repeat(N / 7),
      `<a b="${'&'.repeat(N)}">`,
      '<'.repeat(N),
    ]) {
      expect(best(html), html.slice(0, 20)).toBeLessThan(LINEAR_MS);
    }
  });
});

describe('reloadMode: a command that runs a development server', () => {
  it('finds the flags and tools, and flask run with --debug on the same line', () => {
    expect(reloadMode('uvicorn app:app --reload')).toBe('--reload');
    expect(reloadMode('npx vite')).toBe('vite');
    expect(reloadMode('npx vite build')).toBeUndefined();
    expect(reloadMode('flask run --host 0.0.0.0 --debug')).toBe('flask run --host 0.0.0.0 --debug');
    expect(reloadMode('flask run --host 0.0.0.0\n--debug')).toBeUndefined();
    expect(reloadMode('node dist/main.js')).toBeUndefined();
  });

  it('reads a 64 KiB line of "flask run " once', () => {
    expect(timed(() => reloadMode('flask run '.repeat(N / 10)))).toBeLessThan(LINEAR_MS);
  });
});

describe('patternToRegExp: ignore-file patterns', () => {
  it('a name may hold a newline, and that does not make the match slow', () => {
    expect(patternToRegExp('**/.env').test('a/.env')).toBe(true);
    expect(patternToRegExp('**/.env').test('a\nb/.env')).toBe(true);
    expect(timed(() => patternToRegExp('**/.env').test(`${'/.env'.repeat(N / 5)}\n`))).toBeLessThan(LINEAR_MS);
  });
});

describe('the secret scanner: the cost of a file does not grow with the files scanned before it', () => {
  it('scans 4,000 small files with the fourth thousand no slower than the second', async () => {
    const scanner = await createScanner();
    const marksBefore = performance.getEntriesByType('mark').length;
    const text = Array.from(
      { length: 60 },
      (_, i) => `const value${i} = compute(${i}); // a line of ordinary code`,
    ).join('\n');
    const perThousand: number[] = [];
    for (let thousand = 0; thousand < 4; thousand += 1) {
      const started = performance.now();
      for (let i = 0; i < 1000; i += 1) {
        await scanner.scan(text, `src/module_${thousand}_${i}.ts`);
        // Let timers and observers run between files, as the audit's git and file reads do.
        await new Promise((resolve) => setImmediate(resolve));
      }
      perThousand.push(performance.now() - started);
    }
    console.log(`scanner: ms per thousand files ${perThousand.map((ms) => ms.toFixed(0)).join(', ')}`);
    // secretlint's profiler kept every mark and searched them all for each new one (quadratic): none are made now.
    expect(performance.getEntriesByType('mark').length).toBe(marksBefore);
    expect(perThousand[3] as number).toBeLessThan(2 * (perThousand[1] as number) + 100);
  }, 60_000);
});

describe('the secret scanner on one file of many hits', () => {
  it('numbers 20,000 hits correctly in linear time (counting lines from the top per hit took 8 s)', async () => {
    const scanner = await createScanner();
    const text = Array.from({ length: 20_000 }, (_, i) => `API_TOKEN = "value${i}abc"`).join('\n');
    const started = performance.now();
    const hits = await scanner.scan(text, 'src/settings.py');
    const took = performance.now() - started;
    expect(hits.filter((hit) => hit.kind === 'hardcoded').map((hit) => hit.line)).toEqual(
      Array.from({ length: 20_000 }, (_, i) => i + 1),
    );
    expect(took).toBeLessThan(2000);
  });
});
