/**
 * What is wrong with a task's title or details, in a sentence a person understands. The server names one rule per
 * field ("1 to 255 characters, not only spaces, no control characters"); the client knows what it sent, so it can
 * say which part of the rule that text broke. Mirrors server/src/rules/text.ts and the lengths in api/limits.ts.
 */
import { TASK_DESCRIPTION_MAX, TASK_TITLE_MAX } from '../api/limits';
import { charCount } from './title-limit';

/**
 * A C0 or C1 control character or DEL, as server/src/rules/text.ts forbids them; newline and tab are allowed in
 * details (`multiline`).
 */
function hasControlCharacter(text: string, multiline: boolean): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (multiline && (code === 0x0a || code === 0x09)) continue;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
/** Half of an emoji or other symbol without its other half (cannot be stored as UTF-8). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export type TaskField = 'title' | 'description';

const formatter = new Intl.NumberFormat('en');

/** The problem with `value` as `field`, or undefined when it breaks none of the rules the client knows. */
export function taskFieldProblem(field: TaskField, value: string): string | undefined {
  const name = field === 'title' ? 'The title' : 'The details';
  if (field === 'title' && value.trim() === '') return 'Give the task a title.';
  const max = field === 'title' ? TASK_TITLE_MAX : TASK_DESCRIPTION_MAX;
  const count = charCount(value);
  if (count > max) {
    return `${name} can be at most ${formatter.format(max)} characters; this one has ${formatter.format(count)}.`;
  }
  const verb = field === 'title' ? 'contains' : 'contain';
  if (hasControlCharacter(value, field === 'description')) {
    return `${name} ${verb} a character that can’t be saved (an invisible control character). Delete it and try again.`;
  }
  if (LONE_SURROGATE.test(value)) {
    return `${name} ${verb} a broken character (half of an emoji or symbol) that can’t be saved. Delete it and try again.`;
  }
  return undefined;
}

/**
 * The message to show under a task field the server refused: the specific problem with what was sent when the client
 * can name it, else the server's own message.
 */
export function taskFieldError(
  field: TaskField,
  sent: string | undefined,
  server: string | undefined,
): string | undefined {
  if (server === undefined) return undefined;
  return (sent !== undefined && taskFieldProblem(field, sent)) || server;
}
