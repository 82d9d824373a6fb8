import { describe, expect, it } from 'vitest';
import { downloadName } from './client';

describe('the name the export is saved under', () => {
  const now = new Date('2026-03-14T09:26:53Z');

  it('is the server’s, from Content-Disposition', () => {
    expect(downloadName('attachment; filename="ironclad-export-2026-03-14.json"', now)).toBe(
      'ironclad-export-2026-03-14.json',
    );
    expect(downloadName('attachment; FILENAME=data.json', now)).toBe('data.json');
  });

  it('is a dated default when the server names none, or names a path', () => {
    for (const header of [null, '', 'attachment', 'attachment; filename=""', 'attachment; filename="../../x.json"']) {
      expect(downloadName(header, now), String(header)).toBe('ironclad-tasks-2026-03-14.json');
    }
    expect(downloadName('attachment; filename="a\\\\b.json"', now)).toBe('ironclad-tasks-2026-03-14.json');
  });
});
