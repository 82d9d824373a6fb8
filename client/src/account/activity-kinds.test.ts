import { describe, expect, it } from 'vitest';
import { activityLabel, isWarning } from './activity-kinds';

describe('activity kinds in words', () => {
  it('names every kind the API records', () => {
    const kinds = [
      'signup',
      'login',
      'login-failed',
      'password-check-failed',
      'logout',
      'password-changed',
      'password-reset-requested',
      'password-reset-completed',
      'session-ended',
      'logout-all',
      'export',
    ];
    const labels = kinds.map(activityLabel);
    expect(labels).toEqual([
      'Account created',
      'Logged in',
      'Failed login attempt',
      'Wrong password entered while signed in',
      'Logged out',
      'Password changed',
      'Password reset link asked for',
      'Password reset with an emailed link',
      'Session ended',
      'Logged out everywhere',
      'Data downloaded',
    ]);
    expect(new Set(labels).size).toBe(kinds.length);
  });

  it('still reads a kind it does not know as words', () => {
    expect(activityLabel('email-changed')).toBe('Email changed');
    expect(activityLabel('two_factor_enabled')).toBe('Two factor enabled');
    expect(activityLabel('')).toBe('Unknown event');
    expect(activityLabel('constructor')).toBe('Constructor');
  });

  it('marks failed logins for a second look', () => {
    expect(isWarning('login-failed')).toBe(true);
    expect(isWarning('password-check-failed')).toBe(true);
    expect(isWarning('login')).toBe(false);
  });
});
