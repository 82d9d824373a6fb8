/**
 * The list's next page: the API answers a page that may have more after it with an RFC 8288
 * `Link: <…?after=CURSOR…>; rel="next"` header. The cursor is opaque; it is passed back as it came.
 */

/** The `after` cursor of the `rel="next"` link in a Link header, or undefined when there is no next page. */
export function nextCursor(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  for (const match of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const [, target = '', params = ''] = match;
    const rels = params
      .split(';')
      .map((param) => param.trim())
      .filter((param) => /^rel\s*=/i.test(param))
      .flatMap((param) =>
        param
          .replace(/^rel\s*=\s*/i, '')
          .replace(/^"|"$/g, '')
          .toLowerCase()
          .split(/\s+/),
      );
    if (!rels.includes('next')) continue;
    const after = new URL(target, 'http://link.invalid/').searchParams.get('after');
    if (after) return after;
  }
  return undefined;
}
