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
    expect(await failure(garbage)).toMatch(/^INVALID_BLOCK: .*garbage\.bin is not a block: /);
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

describe('block inspect on files that are not blocks', () => {
  const notBlock = /^INVALID_BLOCK: .* is not a block: [^\n]+$/;

  it('says "not a block" for a text file, an empty file and random bytes', async () => {
    const passwd = path.join(scratch, 'passwd');
    writeFileSync(
      passwd,
      Array.from(
        { length: 40 },
        (_, i) => `user${i}:x:${1000 + i}:${1000 + i}:User ${i},,,:/home/user${i}:/bin/bash\n`,
      ).join(''),
    );
    const empty = path.join(scratch, 'empty');
    writeFileSync(empty, '');
    const random = path.join(scratch, 'random.bin');
    // Fixed bytes from a linear congruential generator: reproducible "random" content.
    let x = 12345;
    writeFileSync(
      random,
      Uint8Array.from({ length: 4096 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24),
    );
    const short = path.join(scratch, 'short.txt');
    writeFileSync(short, 'hello\n');
    for (const file of [passwd, empty, random, short]) {
      const message = await failure(file);
      expect(message, file).toMatch(notBlock);
      expect(message, file).not.toContain('truncated');
    }
    expect(await failure(empty)).toBe(`INVALID_BLOCK: ${empty} is not a block: the file is empty`);
  });

  it('still says "truncated" for a real block cut short, at any length past its header', async () => {
    const raw = readFileSync(path.join(blocks, 'mainnet-413567.raw'));
    for (const length of [81, 90, 100, 120, 140, 500, raw.length - 1]) {
      const file = path.join(scratch, `cut-${length}.raw`);
      writeFileSync(file, raw.subarray(0, length));
      expect(await failure(file), `cut at ${length}`).toMatch(/^INVALID_BLOCK: truncated at byte /);
    }
    // And a segwit block (marker and flag before the coinbase's input count), given as hex.
    const fixtures = JSON.parse(
      readFileSync(path.join(blocks, 'bitcoinjs-block-fixtures.json'), 'utf8'),
    ) as { valid: { witnessCommit?: string; hex: string }[] };
    const hex = fixtures.valid.find((f) => f.witnessCommit !== undefined)?.hex ?? '';
    const file = path.join(scratch, 'segwit-cut.hex');
    writeFileSync(file, hex.slice(0, 2 * 200));
    expect(await failure(file)).toMatch(/^INVALID_BLOCK: truncated at byte /);
  });
});
