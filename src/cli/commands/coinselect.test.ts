import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../kernel';
import { registerCoinselectCommands } from './coinselect';

const scratch = mkdtempSync(path.join(tmpdir(), 'tradeclear-coinselect-'));

function scenarioFile(name: string, text: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, text);
  return file;
}

async function run(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerCoinselectCommands(program, { stdout: (text) => lines.push(text) });
  await program.parseAsync(['node', 'tradeclear', 'coinselect', 'simulate', ...args]);
  return lines.join('\n');
}

async function failure(...args: string[]): Promise<string> {
  try {
    await run(...args);
  } catch (error) {
    if (isAppError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('expected the command to fail');
}

// Two deposits, then a payment at 10 sat/vB (0.0001 BTC/kvB) and one the pool cannot pay.
const small = [
  '0.01000000,0.00010000',
  '0.02000000,0.00010000',
  '-0.01500000,0.00010000',
  '-1.00000000,0.00010000',
].join('\n');

describe('coinselect simulate', () => {
  it('prints the report as JSON, reproducibly with --seed', async () => {
    const file = scenarioFile('small.csv', small);
    const first = JSON.parse(await run(file, '--json', '--seed', '42')) as Record<string, unknown>;
    expect(first).toMatchObject({
      deposits: 2,
      paymentsMade: 1,
      paymentsFailed: 1,
      totalPaidSats: '1500000',
    });
    // Money is conserved: 3,000,000 in = 1,500,000 paid + fees + what is left.
    expect(BigInt(first.totalFeesSats as string) + BigInt(first.finalBalanceSats as string)).toBe(
      1_500_000n,
    );
    expect(await run(file, '--json', '--seed', '42')).toBe(JSON.stringify(first, null, 2));
  });

  it('prints aligned key/value lines by default', async () => {
    const output = await run(scenarioFile('plain.csv', small), '--seed', '1');
    expect(output).toMatch(/^totalFeesBtc\s+0\.\d{8}$/m);
    expect(output).toMatch(/^paymentsFailed\s+1$/m);
  });

  it('refuses a malformed line with its number', async () => {
    const file = scenarioFile('bad.csv', '0.01,0.0001\n-0.005;0.0001\n');
    expect(await failure(file)).toBe(
      'VALIDATION_FAILED: line 2: expected "amount_BTC,feerate_BTC_per_kvB", got "-0.005;0.0001"',
    );
    expect(await failure(scenarioFile('precise.csv', '0.000000001,0.0001\n'))).toMatch(
      /^VALIDATION_FAILED: line 1: amount/,
    );
  });

  it('refuses a missing file and a bad seed', async () => {
    expect(await failure(path.join(scratch, 'missing.csv'))).toMatch(
      /VALIDATION_FAILED: scenario: cannot read .*ENOENT/,
    );
    expect(await failure(scenarioFile('ok.csv', small), '--seed', '-3')).toMatch(
      /--seed must be an integer/,
    );
  });
});
