/**
 * The title's length limit, as the person typing sees and hears it: a counter that appears as the limit nears, and
 * a polite announcement only when the count crosses a threshold (a screen reader reading every keystroke's count
 * would drown the typing). Lengths count characters (code points), as the server does, not UTF-16 units: an emoji
 * is one character.
 */
import { TASK_TITLE_MAX } from '../api/limits';

/** The counter shows from here on. */
export const TITLE_COUNTER_FROM = TASK_TITLE_MAX - 55;

/** Counts at which the screen reader hears how many characters are left. */
const THRESHOLDS = [TITLE_COUNTER_FROM, TASK_TITLE_MAX - 20, TASK_TITLE_MAX - 5, TASK_TITLE_MAX];

export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The text cut to `max` characters (never inside a surrogate pair); the same string when it fits. */
export function clampChars(text: string, max: number = TASK_TITLE_MAX): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join('');
}

/** How many thresholds `count` has reached. */
export function limitLevel(count: number): number {
  return THRESHOLDS.filter((threshold) => count >= threshold).length;
}

/** What a screen reader hears on reaching `count`'s threshold. */
export function limitMessage(count: number, max: number = TASK_TITLE_MAX): string {
  const left = max - count;
  if (left <= 0) return `Limit reached: a title can be at most ${max} characters.`;
  return `${left} ${left === 1 ? 'character' : 'characters'} left in the title.`;
}

/** The announcement after the count went from `before` to `after`; undefined when no threshold was crossed upward. */
export function crossedLimit(before: number, after: number): string | undefined {
  return limitLevel(after) > limitLevel(before) ? limitMessage(after) : undefined;
}
