import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../kernel';
import { registerBlockCommands } from './block';

const blocks = path.resolve(import.meta.dirname, '../../../test/vectors/bitcoin/blocks');
const scratch = mkdtempSync(path.join(tmpdir(), 'tradeclear-block-'));

async function run(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerBlockCommands(program, { stdout: (text) => lines.push(text) });
  await program.parseAsync(['node', 'tradeclear', 'block', 'inspect', ...args]);
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

describe('block inspect', () => {
  it('reports mainnet block 413,567 (facts from test/vectors/README.md)', async () => {
    const report = JSON.parse(
      await run(path.join(blocks, 'mainnet-413567.raw'), '--json'),
    ) as Record<string, unknown>;
    expect(report).toMatchObject({
      hash: '0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069',
      transactions: 1557,
      inputs: 4887,
      outputs: 3581,
      outputsByType: { p2pkh: 2841, p2sh: 737, op_return: 3 },
      size: 999_887,
      merkleRoot: 'valid',
      witnessCommitment: 'n/a',
    });
    expect(report.totalOutputBtc).toMatch(/^\d+\.\d{8}$/);
    expect(report.time).toMatch(/^2016-05-/);
  });

  it('verifies the witness commitment of segwit block 542,213 given as hex, and lists txids', async () => {
    const fixtures = JSON.parse(
      readFileSync(path.join(blocks, 'bitcoinjs-block-fixtures.json'), 'utf8'),
    ) as {
      valid: { witnessCommit?: string; hex: string; id: string; weight?: string }[];
    };
    const segwit = fixtures.valid.find((f) => f.witnessCommit !== undefined);
    const file = path.join(scratch, 'segwit.hex');
    writeFileSync(file, `${segwit?.hex ?? ''}\n`);
    const report = JSON.parse(await run(file, '--json', '--txids')) as Record<string, unknown>;
    expect(report.hash).toBe(segwit?.id);
    expect(report.weight).toBe(Number(segwit?.weight));
    expect(report.witnessCommitment).toBe('valid');
    expect(report.txids).toHaveLength(4);
    const text = await run(file, '--txids');
    expect(text).toMatch(/^witnessCommitment\s+valid$/m);
    expect(
      text
        .split('\n')
        .slice(-4)
        .every((line) => /^[0-9a-f]{64}$/.test(line)),
    ).toBe(true);
  });

  it('reads every block of a blk*.dat file', async () => {
    const report = JSON.parse(
      await run(path.join(blocks, 'btcd-reorg', 'blk_0_to_4.dat'), '--json'),
    ) as {
      blocks: { hash: string; merkleRoot: string }[];
    };
    expect(report.blocks).toHaveLength(5);
    expect(report.blocks[0]?.hash).toBe(
      '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
    );
    expect(report.blocks.every((b) => b.merkleRoot === 'valid')).toBe(true);
  });

  it('fails with one line saying where a truncated or garbage block stops parsing', async () => {
    const raw = readFileSync(path.join(blocks, 'mainnet-413567.raw'));
    const truncated = path.join(scratch, 'truncated.raw');
    writeFileSync(truncated, raw.subarray(0, 1000));
    expect(await failure(truncated)).toMatch(
      /^INVALID_BLOCK: truncated at byte \d+ while reading transaction \d+ [a-z0-9 ]+$/,
    );
    const garbage = path.join(scratch, 'garbage.bin');
    writeFileSync(
      garbage,
      Buffer.from(
        'this is not a block at all, just some text that goes on and on for a while longer than 80 bytes',
      ),
    );
    expect(await failure(garbage)).toMatch(/^INVALID_BLOCK: /);
    const framed = readFileSync(path.join(blocks, 'btcd-reorg', 'blk_3A.dat'));
    const badFrame = path.join(scratch, 'blk_bad.dat');
    writeFileSync(badFrame, framed.subarray(0, 200));
    expect(await failure(badFrame)).toBe(
      'INVALID_BLOCK: truncated at byte 200 while reading block of 662 bytes starting at byte 8',
    );
    expect(await failure(path.join(scratch, 'missing.raw'))).toMatch(
      /^VALIDATION_FAILED: file: cannot read ".*missing\.raw" \(ENOENT\)$/,
    );
  });
});
