import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The web app is linted with the Rules of Hooks and the React Compiler's checks of the Rules of
 * React (eslint-plugin-react-hooks' recommended set), each an error so that `eslint .` fails on
 * it; the server's code, which has no React, is not.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const ERROR = 2;

describe('ESLint over the web app', () => {
  it("applies react-hooks' recommended rules to web/src, as errors", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const config = (await eslint.calculateConfigForFile('web/src/App.tsx')) as {
      rules: Record<string, unknown>;
    };
    // A rule's severity, however ESLint normalized it (2 or "error", alone or in an array).
    const severity = (rule: string) => {
      const entry: unknown = config.rules[rule];
      const level: unknown = Array.isArray(entry) ? entry[0] : entry;
      return level === 'error' ? ERROR : level;
    };
    for (const rule of [
      'react-hooks/rules-of-hooks',
      'react-hooks/exhaustive-deps',
      'react-hooks/set-state-in-effect',
      'react-hooks/refs',
      'react-hooks/purity',
      'react-hooks/immutability',
    ])
      expect(severity(rule), rule).toBe(ERROR);
    const server = (await eslint.calculateConfigForFile('src/app.ts')) as {
      rules: Record<string, unknown>;
    };
    expect(Object.keys(server.rules).filter((r) => r.startsWith('react-hooks/'))).toEqual([]);
  });
});
