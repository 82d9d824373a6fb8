/**
 * What the Observatory reads in an HTML answer: `<script>` elements (for Subresource Integrity), `<meta http-equiv>`
 * Content-Security-Policy and `<meta name="referrer">`, and `<base href>` (script URLs resolve against it). The
 * reference parses with jsdom; this is a single forward scan that sees elements the way an HTML parser does where it
 * matters here: nothing inside comments, and nothing inside raw-text elements (a `<script` written inside a script's
 * own text or a `<textarea>` is text, not an element). No regex over the page: a hostile page stays linear.
 */

export interface HtmlTag {
  name: string;
  /** Attribute names in lower case; the first of a repeated attribute wins, as in HTML. */
  attributes: Map<string, string>;
}

// Elements whose content is text up to their end tag.
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes']);
const WANTED = new Set(['script', 'meta', 'base']);

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
const isLetter = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

/** Index just past the end tag `</name` ... `>` at or after `from`, or the page's end. */
function skipRawText(html: string, from: number, name: string): number {
  let at = html.indexOf('</', from);
  while (at !== -1) {
    const candidate = html.slice(at + 2, at + 2 + name.length).toLowerCase();
    const after = html[at + 2 + name.length];
    if (candidate === name && (after === undefined || after === '>' || after === '/' || isSpace(after))) {
      const close = html.indexOf('>', at);
      return close === -1 ? html.length : close + 1;
    }
    at = html.indexOf('</', at + 2);
  }
  return html.length;
}

/** Reads a start tag's attributes from `at` (just after its name); returns them and the index after the `>`. */
function readAttributes(html: string, start: number): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let at = start;
  const n = html.length;
  while (at < n) {
    while (at < n && (isSpace(html[at]) || html[at] === '/')) at++;
    if (at >= n) break;
    if (html[at] === '>') return { attributes, end: at + 1 };
    const nameStart = at;
    at++; // the first character may be "=" and still be part of the name
    while (at < n && !isSpace(html[at]) && html[at] !== '/' && html[at] !== '>' && html[at] !== '=') at++;
    const name = html.slice(nameStart, at).toLowerCase();
    while (at < n && isSpace(html[at])) at++;
    let value = '';
    if (html[at] === '=') {
      at++;
      while (at < n && isSpace(html[at])) at++;
      const quote = html[at];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, at + 1);
        const stop = close === -1 ? n : close;
        value = html.slice(at + 1, stop);
        at = stop + 1;
      } else {
        const valueStart = at;
        while (at < n && !isSpace(html[at]) && html[at] !== '>') at++;
        value = html.slice(valueStart, at);
      }
    }
    if (!attributes.has(name)) attributes.set(name, decodeEntities(value));
  }
  return { attributes, end: n };
}

const NAMED: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };

/** The character references a URL or policy attribute realistically carries (named basics and numeric ones). */
function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  let out = '';
  let at = 0;
  for (let amp = value.indexOf('&'); amp !== -1; amp = value.indexOf('&', at)) {
    out += value.slice(at, amp);
    // A reference is short: look for its ";" in the next few characters only (a scan to the end from every "&" of a
    // long value without one would be quadratic).
    const near = value.slice(amp + 1, amp + 12).indexOf(';');
    const semi = near === -1 ? -1 : amp + 1 + near;
    const body = semi === -1 ? '' : value.slice(amp + 1, semi);
    let decoded: string | undefined = NAMED[body];
    if (decoded === undefined && body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      if (Number.isInteger(code) && code > 0 && code <= 0x10ffff) decoded = String.fromCodePoint(code);
    }
    if (decoded === undefined) {
      out += '&';
      at = amp + 1;
    } else {
      out += decoded;
      at = semi + 1;
    }
  }
  return out + value.slice(at);
}

/** The script, meta and base start tags of a page, in document order. */
export function htmlTags(html: string): HtmlTag[] {
  const tags: HtmlTag[] = [];
  const n = html.length;
  let at = html.indexOf('<');
  while (at !== -1 && at < n) {
    const next = html[at + 1];
    if (html.startsWith('<!--', at)) {
      const close = html.indexOf('-->', at + 4);
      at = close === -1 ? n : close + 3;
    } else if (next === '!' || next === '?' || (next === '/' && isLetter(html[at + 2]))) {
      const close = html.indexOf('>', at);
      at = close === -1 ? n : close + 1;
    } else if (isLetter(next)) {
      let end = at + 1;
      while (end < n && !isSpace(html[end]) && html[end] !== '/' && html[end] !== '>') end++;
      const name = html.slice(at + 1, end).toLowerCase();
      const { attributes, end: after } = readAttributes(html, end);
      if (WANTED.has(name)) tags.push({ name, attributes });
      if (name === 'plaintext') break;
      at = RAW_TEXT.has(name) ? skipRawText(html, after, name) : after;
    } else {
      at += 1;
    }
    at = html.indexOf('<', at);
  }
  return tags;
}
