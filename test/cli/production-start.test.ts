import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../support/http';
import { cliSandbox } from '../support/cli';

/** Issue 11: production on the public development keys started without a word. */
describe('starting on public development secrets', () => {
  const production = cliSandbox({ NODE_ENV: 'production' });
  afterAll(() => production.cleanup());

  it('refuses `serve` with NODE_ENV=production on simnet, in one line naming the setting', async () => {
    const run = await production.run('serve', '--port', '0');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: invalid configuration: SECRETS_KEY is unset/);
    expect(lines[0]).toMatch(/refused with NODE_ENV=production/);
  });

  it('warns at start, naming each public development secret in use', async () => {
    const t = await startTestApp();
    try {
      const warnings = t.logs
        .map((line) => JSON.parse(line) as { level: number; msg: string; setting?: string })
        .filter((entry) => entry.level === 40 && entry.msg.startsWith('public development secret'));
      expect(warnings.map((w) => w.setting)).toEqual(['SECRETS_KEY', 'CHAIN']);
    } finally {
      await t.close();
    }
  });
});
