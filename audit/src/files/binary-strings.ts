/**
 * Text inside binary files (a committed SQLite database, a pickle, a .pyc, a compiled binary): the runs of printable
 * ASCII of 16 characters or more, as `strings -n 16` finds them. Credentials stored in a database row or compiled
 * into a program are plain ASCII there; the rest of the file is noise that only the key-format rules could read
 * sensibly, so the caller runs those alone on the runs.
 */

export const MIN_RUN = 16;

export interface PrintableRuns {
  /** The runs joined by newlines. */
  text: string;
  /** The offset in the original content of an offset in `text`. */
  origin(index: number): number;
}

function printable(code: number): boolean {
  return (code >= 0x20 && code <= 0x7e) || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** A NUL in the first 8 KiB, as git decides that a file is binary. */
export function isBinaryText(content: string): boolean {
  return content.slice(0, 8192).includes('\0');
}

export function printableRuns(content: string, minLength = MIN_RUN): PrintableRuns {
  const parts: string[] = [];
  const textStarts: number[] = [];
  const originStarts: number[] = [];
  let length = 0;
  let start = -1;
  const close = (end: number) => {
    if (start !== -1 && end - start >= minLength) {
      textStarts.push(length);
      originStarts.push(start);
      parts.push(content.slice(start, end));
      length += end - start + 1;
    }
    start = -1;
  };
  for (let i = 0; i < content.length; i += 1) {
    if (printable(content.charCodeAt(i))) {
      if (start === -1) start = i;
    } else close(i);
  }
  close(content.length);
  return {
    text: parts.join('\n'),
    origin(index) {
      let low = 0;
      let high = textStarts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if ((textStarts[middle] as number) <= index) low = middle;
        else high = middle - 1;
      }
      return (originStarts[low] ?? 0) + index - (textStarts[low] ?? 0);
    },
  };
}
