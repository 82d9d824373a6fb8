import { describe, expect, it } from 'vitest';
import { sentence } from '../ui/Field';
import { ApiError, ConnectionError, describeError, fieldErrors } from './errors';

describe('error messages for people', () => {
  it('say what the server said, never JSON or a stack', () => {
    expect(describeError(new ApiError(409, 'An account with this email already exists.'))).toBe(
      'An account with this email already exists.',
    );
    expect(describeError(new TypeError('Failed to fetch at x.js:1:2'))).toBe('Something went wrong. Please try again.');
    expect(describeError(new ConnectionError())).toMatch(/Cannot reach the server/);
  });

  it('turn Retry-After into a wait a person can read', () => {
    expect(describeError(new ApiError(429, 'Too many requests.', {}, 30))).toBe(
      'Too many attempts. Try again in 30 seconds.',
    );
    expect(describeError(new ApiError(429, 'Too many requests.', {}, 1800))).toBe(
      'Too many attempts. Try again in 30 minutes.',
    );
  });

  it('keep field errors for their fields and read them as sentences', () => {
    const error = new ApiError(400, 'Invalid request body.', { title: 'must not be empty' });
    expect(fieldErrors(error)).toEqual({ title: 'must not be empty' });
    expect(fieldErrors(new ConnectionError())).toEqual({});
    expect(sentence('Title', 'must not be empty')).toBe('Title must not be empty');
    expect(sentence('Details (optional)', 'is too long')).toBe('Details is too long');
    expect(sentence('Email', 'Already taken.')).toBe('Already taken.');
  });
});
