import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createContext, runCli } from '../../src/cli/program';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throwaway data directory and a CLI bound to it, run in-process. */
export function cliSandbox(extraEnv: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-cli-'));
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...extraEnv };
  return {
    dataDir,
    env,
    async run(...argv: string[]): Promise<CliRun> {
      let stdout = '';
      let stderr = '';
      const code = await runCli(
        argv,
        createContext(env, {
          stdout: (text) => void (stdout += text.endsWith('\n') ? text : `${text}\n`),
          stderr: (text) => void (stderr += text.endsWith('\n') ? text : `${text}\n`),
        }),
      );
      return { code, stdout, stderr };
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}
