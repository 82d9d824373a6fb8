/**
 * Offsets to line numbers in one pass: a scan that reports many hits in a big file looks each line up by binary
 * search instead of counting newlines from the start every time (quadratic on a long file full of candidates).
 */
export class LineIndex {
  private starts: number[] | undefined;

  constructor(private readonly text: string) {}

  /** The 1-based line holding offset `index`. */
  lineOf(index: number): number {
    if (!this.starts) {
      this.starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) this.starts.push(i + 1);
    }
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.starts[middle] as number) <= index) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }
}
