import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as bitcoinjs from 'bitcoinjs-lib';
import { isAppError } from '../kernel';
import {
  computeMerkleRoot,
  parseBlock,
  parseBlockHeader,
  parseTransaction,
  serializeBlockHeader,
} from './codec';
import { decodeBlockInput, readBlockFile } from './blockfile';
import { fromHex, toHex } from './bytes';

const vectorsDir = new URL('../../test/vectors/bitcoin/blocks/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, vectorsDir)));

interface Fixture {
  description: string;
  id: string;
  hash: string;
  hex: string;
  version: string;
  prevHash: string;
  merkleRoot: string;
  timestamp: string;
  bits: string;
  nonce: string;
  witnessCommit?: string;
  size?: string;
  strippedSize?: string;
  weight?: string;
}
const fixtures = JSON.parse(
  readFileSync(new URL('bitcoinjs-block-fixtures.json', vectorsDir), 'utf8'),
) as {
  valid: Fixture[];
  invalid: { exception: string; hex: string }[];
};
const coreBlocks = JSON.parse(
  readFileSync(new URL('bitcoinjs-core-blocks.json', vectorsDir), 'utf8'),
) as {
  id: string;
  transactions: number;
  hex: string;
}[];

const reverseHex = (hex: string) => toHex(fromHex(hex).reverse());

function invalidBlockMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isAppError(error) && error.code === 'INVALID_BLOCK') return error.message;
    throw error;
  }
  throw new Error('expected INVALID_BLOCK');
}

/** bitcoinjs-lib, an independent implementation, as the reference for txids and wtxids. */
function bitcoinjsIds(bytes: Uint8Array): { txids: string[]; wtxids: string[] } {
  const block = bitcoinjs.Block.fromBuffer(bytes);
  const txs = block.transactions ?? [];
  return {
    txids: txs.map((tx) => tx.getId()),
    wtxids: txs.map((tx) => reverseHex(toHex(tx.getHash(true)))),
  };
}

describe('mainnet block 413,567 (Bitcoin Core bench block)', () => {
  const bytes = read('mainnet-413567.raw');
  const block = parseBlock(bytes);

  it('has the facts recorded in test/vectors/README.md', () => {
    expect(block.hash).toBe('0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069');
    expect(block.txCount).toBe(1557);
    expect(block.totals.inputs).toBe(4887);
    expect(block.totals.outputs).toBe(3581);
    expect(block.totals.outputsByType.p2pkh).toBe(2841);
    expect(block.totals.outputsByType.p2sh).toBe(737);
    expect(block.totals.outputsByType.op_return).toBe(3);
    expect(block.totals.size).toBe(999_887);
    expect(block.totals.weight).toBe(4 * 999_887);
    expect(block.verifyMerkleRoot()).toBe(true);
    expect(block.verifyWitnessCommitment()).toBe('absent');
  });

  it('computes the same txids as bitcoinjs-lib', () => {
    const reference = bitcoinjsIds(bytes);
    expect(block.txids()).toEqual(reference.txids);
    expect(block.transactions.map((tx) => tx.wtxid)).toEqual(reference.txids);
  });

  it('sums output values and inputs like bitcoinjs-lib', () => {
    const reference = bitcoinjs.Block.fromBuffer(bytes);
    let value = 0n;
    let inputs = 0;
    for (const tx of reference.transactions ?? []) {
      inputs += tx.ins.length;
      for (const out of tx.outs) value += out.value;
    }
    expect(block.totals.outputValue).toBe(value);
    expect(block.totals.inputs).toBe(inputs);
    const coinbase = block.transactions[0];
    expect(coinbase?.isCoinbase).toBe(true);
    expect(coinbase?.inputs[0]?.coinbase).toBe(true);
    const second = block.transactions[1];
    const refSecond = reference.transactions?.[1];
    expect(second?.isCoinbase).toBe(false);
    expect(second?.inputs.map((i) => [i.prevTxid, i.prevVout, i.sequence])).toEqual(
      refSecond?.ins.map((i) => [reverseHex(toHex(i.hash)), i.index, i.sequence]),
    );
    expect(second?.outputs.map((o) => [o.value, toHex(o.scriptPubKey)])).toEqual(
      refSecond?.outs.map((o) => [o.value, toHex(o.script)]),
    );
  });

  it('reports where a truncated block ends', () => {
    expect(invalidBlockMessage(() => parseBlock(bytes.subarray(0, 50)))).toBe(
      'truncated at byte 50 while reading block header (80 bytes)',
    );
    expect(invalidBlockMessage(() => parseBlock(bytes.subarray(0, 500_000)))).toMatch(
      /^truncated at byte \d+ while reading transaction \d+ (input|output) \d+ /,
    );
    expect(invalidBlockMessage(() => parseBlock(bytes.subarray(0, bytes.length - 1)))).toBe(
      `truncated at byte ${bytes.length - 4} while reading transaction 1556 locktime`,
    );
    // A header claiming 2^32-1 transactions: a precise truncation, no huge allocation.
    const lying = new Uint8Array(90);
    lying.set(bytes.subarray(0, 80));
    lying.set([0xfe, 0xff, 0xff, 0xff, 0xff], 80);
    expect(invalidBlockMessage(() => parseBlock(lying))).toBe(
      'truncated at byte 90 while reading transaction 0 output count',
    );
    const extended = new Uint8Array(bytes.length + 3);
    extended.set(bytes);
    expect(invalidBlockMessage(() => parseBlock(extended))).toBe(
      `3 unexpected bytes after the last transaction, at byte ${bytes.length}`,
    );
  });

  it('never throws anything but INVALID_BLOCK on a truncated or corrupted block (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (cut, junk) => {
          const corrupted = bytes.slice(0, cut + 1);
          corrupted[cut] = junk;
          try {
            parseBlock(corrupted);
          } catch (error) {
            expect(isAppError(error) && error.code === 'INVALID_BLOCK').toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bitcoinjs-lib block fixtures', () => {
  for (const fixture of fixtures.valid) {
    it(`${fixture.description} (${fixture.id.slice(-12)})`, () => {
      const bytes = fromHex(fixture.hex);
      const header = parseBlockHeader(bytes);
      expect(header.hash).toBe(fixture.id);
      expect(reverseHex(header.hash)).toBe(fixture.hash);
      expect(header.previousHash).toBe(reverseHex(fixture.prevHash));
      expect(header.merkleRoot).toBe(reverseHex(fixture.merkleRoot));
      expect(header.version).toBe(Number(fixture.version));
      expect(header.time).toBe(Number(fixture.timestamp));
      expect(header.bits).toBe(Number(fixture.bits));
      expect(header.nonce).toBe(Number(fixture.nonce));
      expect(toHex(serializeBlockHeader(header))).toBe(fixture.hex.slice(0, 160));
      if (bytes.length <= 81) return; // headers only
      const block = parseBlock(bytes);
      const reference = bitcoinjsIds(bytes);
      expect(block.txids()).toEqual(reference.txids);
      // bitcoinjs-lib reports the coinbase wtxid as zero (its role in the witness tree).
      expect(block.transactions.slice(1).map((tx) => tx.wtxid)).toEqual(reference.wtxids.slice(1));
      expect(block.verifyMerkleRoot()).toBe(true);
      if (fixture.witnessCommit !== undefined) {
        expect(block.witnessCommitment()).toBe(fixture.witnessCommit);
        expect(block.verifyWitnessCommitment()).toBe('valid');
        expect(block.totals.size).toBe(Number(fixture.size));
        expect(block.totals.strippedSize).toBe(Number(fixture.strippedSize));
        expect(block.totals.weight).toBe(Number(fixture.weight));
      } else {
        expect(block.witnessCommitment()).toBeNull();
        expect(block.verifyWitnessCommitment()).toBe('absent');
      }
    });
  }

  it('detects a tampered witness (segwit block 542,213)', () => {
    const fixture = fixtures.valid.find((f) => f.witnessCommit !== undefined);
    expect(fixture).toBeDefined();
    const bytes = fromHex(fixture?.hex ?? '');
    const block = parseBlock(bytes);
    const segwitTx = block.transactions.find((tx) => tx.hasWitness && !tx.isCoinbase);
    expect(segwitTx).toBeDefined();
    // Flip the last byte before the locktime: the last witness item of that transaction.
    const tx = segwitTx?.bytes ?? new Uint8Array();
    tx[tx.length - 5] = (tx[tx.length - 5] ?? 0) ^ 1;
    const tampered = parseBlock(bytes);
    expect(tampered.verifyMerkleRoot()).toBe(true); // txids exclude witness data
    expect(tampered.verifyWitnessCommitment()).toBe('invalid');
  });

  for (const fixture of fixtures.invalid) {
    it(`refuses: ${fixture.exception}`, () => {
      expect(invalidBlockMessage(() => parseBlock(fromHex(fixture.hex)))).toBe(
        'truncated at byte 40 while reading block header (80 bytes)',
      );
    });
  }
});

describe('bitcoinjs-lib core blocks', () => {
  for (const core of coreBlocks) {
    it(`${core.id}`, () => {
      const bytes = fromHex(core.hex);
      const block = parseBlock(bytes);
      expect(block.hash).toBe(core.id);
      expect(block.txCount).toBe(Number(core.transactions));
      expect(block.verifyMerkleRoot()).toBe(true);
      expect(block.txids()).toEqual(bitcoinjsIds(bytes).txids);
      expect(computeMerkleRoot(block.txids())).toBe(block.header.merkleRoot);
    });
  }
});

describe('blk*.dat framing (btcd reorg test data)', () => {
  const genesisHash = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';

  it('reads blocks 0–4 and the 3A–4A–5A fork, each linking to its parent', () => {
    const main = readBlockFile(read('btcd-reorg/blk_0_to_4.dat')).map((b) => parseBlock(b.bytes));
    expect(main).toHaveLength(5);
    expect(main[0]?.hash).toBe(genesisHash);
    for (let i = 1; i < main.length; i++) {
      expect(main[i]?.header.previousHash).toBe(main[i - 1]?.hash);
    }
    for (const block of main) expect(block.verifyMerkleRoot()).toBe(true);
    const fork = ['blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'].map((name) => {
      const framed = readBlockFile(read(`btcd-reorg/${name}`));
      expect(framed).toHaveLength(1);
      expect(framed[0]?.network).toBe('mainnet');
      return parseBlock(framed[0]?.bytes ?? new Uint8Array());
    });
    expect(fork[0]?.header.previousHash).toBe(main[2]?.hash);
    expect(fork[1]?.header.previousHash).toBe(fork[0]?.hash);
    expect(fork[2]?.header.previousHash).toBe(fork[1]?.hash);
    for (const block of fork) expect(block.verifyMerkleRoot()).toBe(true);
  });

  it('accepts framed, hex and raw input alike', () => {
    const file = read('btcd-reorg/blk_0_to_4.dat');
    const raw = readBlockFile(file)[0]?.bytes ?? new Uint8Array();
    const hexText = new TextEncoder().encode(`${toHex(raw)}\n`);
    expect(parseBlock(decodeBlockInput(hexText)[0] ?? new Uint8Array()).hash).toBe(genesisHash);
    expect(parseBlock(decodeBlockInput(raw)[0] ?? new Uint8Array()).hash).toBe(genesisHash);
    expect(decodeBlockInput(file)).toHaveLength(5);
    expect(invalidBlockMessage(() => readBlockFile(file.subarray(0, 100)))).toMatch(
      /^truncated at byte 100 while reading block of 285 bytes/,
    );
  });
});

describe('parseTransaction', () => {
  it('parses single transactions with the same ids and sizes as bitcoinjs-lib', () => {
    const fixture = fixtures.valid.find((f) => f.witnessCommit !== undefined);
    const block = bitcoinjs.Block.fromBuffer(fromHex(fixture?.hex ?? ''));
    for (const reference of block.transactions ?? []) {
      const tx = parseTransaction(reference.toBuffer());
      expect(tx.txid).toBe(reference.getId());
      expect(tx.size).toBe(reference.byteLength());
      expect(tx.weight).toBe(reference.weight());
      expect(tx.vsize).toBe(reference.virtualSize());
      expect(tx.locktime).toBe(reference.locktime);
      expect(tx.version).toBe(reference.version);
    }
  });

  it('refuses trailing bytes', () => {
    const tx = parseBlock(read('mainnet-413567.raw')).transactions[5]?.bytes ?? new Uint8Array();
    const extended = new Uint8Array(tx.length + 1);
    extended.set(tx);
    expect(invalidBlockMessage(() => parseTransaction(extended))).toBe(
      `1 unexpected bytes after the transaction, at byte ${tx.length}`,
    );
  });
});
