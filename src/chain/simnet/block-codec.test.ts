import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  concatBytes,
  fromHex,
  merkleRoot,
  serializeBlock,
  serializeTx,
  toReversedHex,
  toHex,
} from '../../bitcoin';
import { findWitnessCommitment, parseBlock, parseTx } from './model';
import { blockSubsidy, difficulty, regtestGenesis, REGTEST } from './consensus';

/**
 * Consensus serialization checked against real blocks (test/vectors/bitcoin/blocks, facts from
 * its README) and Bitcoin Core's regtest chain parameters.
 */

const blocksDir = path.resolve(import.meta.dirname, '../../../test/vectors/bitcoin/blocks');

interface Fixture {
  description: string;
  id: string;
  hex: string;
  merkleRoot: string;
  witnessCommit?: string;
  size?: number;
  strippedSize?: number;
  weight?: number;
}

describe('regtest genesis (Bitcoin Core chainparams.cpp)', () => {
  test('hashes to 0f9188f1…2206 with merkle root 4a5e1e4b…a33b', () => {
    const genesis = regtestGenesis();
    expect(genesis.hash).toBe('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206');
    expect(toReversedHex(genesis.header.merkleRoot)).toBe(
      '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    );
    expect(genesis.size).toBe(285);
  });

  test('subsidy halves every 150 blocks; difficulty of bits 0x207fffff is 4.656542373906925e-10', () => {
    expect(blockSubsidy(149)).toBe(5_000_000_000n);
    expect(blockSubsidy(150)).toBe(2_500_000_000n);
    expect(blockSubsidy(300)).toBe(1_250_000_000n);
    expect(blockSubsidy(150 * 64)).toBe(0n);
    // Bitcoin Core prints doubles with 16 significant digits (UniValue).
    expect(Number(difficulty(REGTEST.bits).toPrecision(16))).toBe(4.656542373906925e-10);
  });
});

describe('mainnet block 413,567 (Bitcoin Core bench data)', () => {
  const raw = new Uint8Array(readFileSync(path.join(blocksDir, 'mainnet-413567.raw')));
  const block = parseBlock(raw);

  test('hash, transaction count and merkle root', () => {
    expect(block.hash).toBe('0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069');
    expect(block.txs.length).toBe(1557);
    expect(block.txs.reduce((sum, tx) => sum + tx.inputs.length, 0)).toBe(4887);
    expect(block.txs.reduce((sum, tx) => sum + tx.outputs.length, 0)).toBe(3581);
    expect(toHex(merkleRoot(block.txs.map((tx) => tx.txidBytes)))).toBe(
      toHex(block.header.merkleRoot),
    );
  });

  test('re-serializes to the same bytes', () => {
    expect(toHex(serializeBlock(block.header, block.txs))).toBe(toHex(raw));
  });
});

describe('bitcoinjs-lib block fixtures', () => {
  const fixtures = (
    JSON.parse(readFileSync(path.join(blocksDir, 'bitcoinjs-block-fixtures.json'), 'utf8')) as {
      valid: Fixture[];
    }
  ).valid.filter((fixture) => fixture.hex.length > 160);

  test.each(fixtures.map((fixture) => [fixture.description, fixture] as const))(
    '%s: id, merkle root, sizes and witness commitment',
    (_description, fixture) => {
      const block = parseBlock(fromHex(fixture.hex));
      expect(block.hash).toBe(fixture.id);
      expect(toHex(merkleRoot(block.txs.map((tx) => tx.txidBytes)))).toBe(fixture.merkleRoot);
      if (fixture.weight !== undefined) {
        expect([block.size, block.strippedSize, block.weight]).toEqual([
          fixture.size,
          fixture.strippedSize,
          fixture.weight,
        ]);
      }
      if (fixture.witnessCommit) {
        expect(toHex(findWitnessCommitment(block.txs[0]!)!)).toBe(fixture.witnessCommit);
      }
      expect(toHex(serializeBlock(block.header, block.txs))).toBe(fixture.hex);
    },
  );
});

describe("simnet's transactions, parsed by src/bitcoin's codec", () => {
  const raw = new Uint8Array(readFileSync(path.join(blocksDir, 'mainnet-413567.raw')));
  const block = parseBlock(raw);

  test('each transaction parses alone to the same object, and serializes back to its bytes', () => {
    for (const tx of block.txs.slice(0, 50)) {
      const alone = parseTx(tx.raw);
      expect(alone).toEqual(tx);
      expect(toHex(serializeTx(alone))).toBe(toHex(tx.raw));
      expect(alone.vsize).toBe(Math.ceil(alone.weight / 4));
    }
  });

  test('refuses what Bitcoin Core refuses to deserialize, naming the byte', () => {
    // Version, then "00 00": Core reads an empty input vector and an unknown flag 0.
    expect(() => parseTx(fromHex('02000000' + '0000' + '00000000'))).toThrow(
      /unknown transaction optional data/,
    );
    expect(() => parseTx(block.txs[1]!.raw.subarray(0, 40))).toThrow(
      /truncated at byte 5 while reading transaction 0 input 0 outpoint/,
    );
    const first = block.txs[1]!.raw;
    const wide = concatBytes(first.subarray(0, 4), fromHex('fd0100'), first.subarray(5));
    expect(() => parseTx(wide)).toThrow(/non-canonical CompactSize/);
  });
});
