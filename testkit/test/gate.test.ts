/** The one gate: a missing need skips (and says why) on a laptop, and fails where its REQUIRE_* variable is set. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gateFor } from '../src/gate.js';

describe('gateFor', () => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
    // git lives in /usr/bin, which the gate only finds through PATH: an empty PATH makes it missing.
    process.env.PATH = '';
    delete process.env.REQUIRE_NGINX;
  });
  afterEach(() => {
    process.env = saved;
    vi.restoreAllMocks();
  });

  it('skips a suite whose tool is missing, and says which package brings it and how to require it', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const gate = await gateFor('a suite that needs git', ['git']);
    expect(gate.skip).toBe(true);
    expect(gate.missing).toBe('git is not installed (apt-get install git)');
    expect(write).not.toHaveBeenCalled();
    // Using the closed gate (here its .each, as a declaration would; suites cannot be declared inside a test)
    // announces the skip, once.
    expect(typeof gate.describe.each).toBe('function');
    expect(typeof gate.it.each).toBe('function');
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0]?.[0])).toContain(
      'SKIPPED a suite that needs git: git is not installed (apt-get install git); set REQUIRE_NGINX=1 to make this a failure',
    );
  });

  it('fails instead when the need is required (CI)', async () => {
    process.env.REQUIRE_NGINX = '1';
    await expect(gateFor('a suite that needs git', ['git'])).rejects.toThrow(
      'a suite that needs git: REQUIRE_NGINX=1 but git is not installed',
    );
  });

  it('is open, and silent, when everything is there', async () => {
    process.env.PATH = saved.PATH ?? '';
    const gate = await gateFor('a suite that needs git', ['git']);
    expect(gate.skip).toBe(false);
    expect(gate.paths.git).toMatch(/\/git$/);
  });
});
