import { describe, expect, it } from 'vitest';
import { charCount, clampChars, crossedLimit, limitLevel } from './title-limit';

describe('the title limit', () => {
  it('counts characters as the server does: an emoji is one', () => {
    expect(charCount('héllo')).toBe(5);
    expect(charCount('👍🏽 ok')).toBe(5);
    expect(clampChars('👍'.repeat(300))).toBe('👍'.repeat(255));
    expect(clampChars('short')).toBe('short');
  });

  it('speaks only when a threshold is crossed upward, not on every keystroke', () => {
    const spoken: string[] = [];
    for (let count = 0; count <= 255; count++) {
      const message = crossedLimit(count - 1, count);
      if (message) spoken.push(`${count}: ${message}`);
    }
    expect(spoken).toEqual([
      '200: 55 characters left in the title.',
      '235: 20 characters left in the title.',
      '250: 5 characters left in the title.',
      '255: Limit reached: a title can be at most 255 characters.',
    ]);
    // Deleting below a threshold says nothing; crossing it again speaks again.
    expect(crossedLimit(236, 234)).toBeUndefined();
    expect(crossedLimit(234, 236)).toBe('19 characters left in the title.');
    // A paste that jumps over several thresholds speaks once, with the count reached.
    expect(crossedLimit(0, 252)).toBe('3 characters left in the title.');
    expect(limitLevel(199)).toBe(0);
  });
});
