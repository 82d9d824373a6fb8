import { describe, expect, it } from 'vitest';
import { taskFieldError, taskFieldProblem } from './task-problems';

const SERVER = 'A title needs 1 to 255 characters, not only spaces, and cannot contain invisible control characters.';

describe('what is wrong with a task field, in plain words', () => {
  it('names the part of the rule the text broke', () => {
    expect(taskFieldProblem('title', '   ')).toBe('Give the task a title.');
    expect(taskFieldProblem('title', '\u00a0')).toBe('Give the task a title.');
    expect(taskFieldProblem('title', 'x'.repeat(300))).toBe(
      'The title can be at most 255 characters; this one has 300.',
    );
    expect(taskFieldProblem('title', 'bell\u0007')).toBe(
      'The title contains a character that can’t be saved (an invisible control character). Delete it and try again.',
    );
    expect(taskFieldProblem('title', 'half \uD83D emoji')).toMatch(/^The title contains a broken character/);
    expect(taskFieldProblem('description', 'x'.repeat(10_001))).toBe(
      'The details can be at most 10,000 characters; this one has 10,001.',
    );
    expect(taskFieldProblem('description', 'line one\n\tline two')).toBeUndefined();
    expect(taskFieldProblem('description', 'escape \u001b[31m')).toMatch(/^The details contain a character/);
    expect(taskFieldProblem('title', 'Café 👍')).toBeUndefined();
  });

  it("falls back to the server's sentence when the text breaks no rule the client knows", () => {
    expect(taskFieldError('title', '   ', SERVER)).toBe('Give the task a title.');
    expect(taskFieldError('title', 'fine', SERVER)).toBe(SERVER);
    expect(taskFieldError('title', undefined, SERVER)).toBe(SERVER);
    expect(taskFieldError('title', '   ', undefined)).toBeUndefined();
  });
});
