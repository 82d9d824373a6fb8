import { describe, expect, it } from 'vitest';
import { daysBetween, dueLabel, formatDueDate, localDate, msToLocalMidnight } from './due';

describe('due dates', () => {
  it('says Today, Tomorrow, or how many days overdue, in words', () => {
    const today = '2026-03-14';
    expect(dueLabel('2026-03-14', today)).toEqual({ text: 'Today', tone: 'today' });
    expect(dueLabel('2026-03-15', today)).toEqual({ text: 'Tomorrow', tone: 'soon' });
    expect(dueLabel('2026-03-13', today)).toEqual({ text: 'Overdue · 1 day', tone: 'overdue' });
    expect(dueLabel('2026-03-11', today)).toEqual({ text: 'Overdue · 3 days', tone: 'overdue' });
    // Across a month and a year end, and over a daylight-saving change (days are calendar days, never 23 or 25 h).
    expect(dueLabel('2025-12-31', '2026-01-01').text).toBe('Overdue · 1 day');
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
    expect(daysBetween('2026-10-24', '2026-10-26')).toBe(2);
  });

  it('a done task is never overdue: it was simply due then', () => {
    expect(dueLabel('2026-03-11', '2026-03-14', true).tone).toBe('later');
    expect(dueLabel('2026-03-11', '2026-03-14', true).text).not.toContain('Overdue');
  });

  it('shows other dates in the reader’s locale, with the year only when it is not this year’s', () => {
    const sameYear = formatDueDate('2026-07-04', '2026-03-14');
    expect(sameYear).toMatch(/Jul/);
    expect(sameYear).toMatch(/4/);
    expect(sameYear).not.toMatch(/2026/);
    expect(formatDueDate('2027-07-04', '2026-03-14')).toMatch(/2027/);
    // The calendar date never slides by a day in a time zone west or east of UTC.
    expect(formatDueDate('2026-01-01', '2026-03-14')).toMatch(/1/);
    expect(formatDueDate('2026-01-01', '2026-03-14')).toMatch(/Jan/);
    expect(dueLabel('2026-03-20', '2026-03-14').tone).toBe('soon');
    expect(dueLabel('2026-04-20', '2026-03-14').tone).toBe('later');
  });

  it('today is the LOCAL calendar date, not the UTC one, around midnight', () => {
    // Built from local parts: 23:30 on 14 March here, whatever the zone, is already the 15th in UTC east of it.
    expect(localDate(new Date(2026, 2, 14, 23, 30))).toBe('2026-03-14');
    expect(localDate(new Date(2026, 2, 15, 0, 0, 1))).toBe('2026-03-15');
    expect(localDate(new Date(2026, 0, 1, 0, 0))).toBe('2026-01-01');
    expect(msToLocalMidnight(new Date(2026, 2, 14, 23, 59, 0))).toBe(60_000);
  });

  it('one instant is a different day in New York, London and Kiritimati, and each reader sees their own', () => {
    const before = process.env.TZ;
    const instant = new Date('2026-03-15T03:30:00Z');
    try {
      process.env.TZ = 'America/New_York';
      expect(localDate(instant)).toBe('2026-03-14');
      expect(dueLabel('2026-03-15', localDate(instant)).text).toBe('Tomorrow');
      process.env.TZ = 'Europe/London';
      expect(localDate(instant)).toBe('2026-03-15');
      expect(dueLabel('2026-03-15', localDate(instant)).text).toBe('Today');
      process.env.TZ = 'Pacific/Kiritimati';
      expect(localDate(new Date('2026-03-14T12:00:00Z'))).toBe('2026-03-15');
      expect(dueLabel('2026-03-14', localDate(new Date('2026-03-14T12:00:00Z'))).text).toBe('Overdue · 1 day');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });
});
