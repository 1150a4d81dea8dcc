import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as bitcoinjs from 'bitcoinjs-lib';
import { sha256 } from '@noble/hashes/sha2.js';
import { isAppError } from '../kernel';
import {
  blockHash,
  computeMerkleRoot,
  computeMerkleRootBytes,
  parseBlock,
  parseBlockHeader,
  parseTransaction,
} from './codec';
import { serializeBlockHeader, serializeTx } from './serialize';
import { decodeBlockInput, readBlockFile } from './blockfile';
import { concatBytes, fromHex, toHex } from './bytes';
import { SCRIPT_TYPES } from './script';

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
      expect(blockHash(bytes)).toBe(fixture.id);
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

  it("refuses what Bitcoin Core's deserializer refuses: a non-canonical CompactSize, a superfluous witness record", () => {
    const input = {
      prevTxidBytes: new Uint8Array(32).fill(1),
      vout: 0,
      scriptSig: new Uint8Array(0),
      sequence: 0xffffffff,
      witness: [] as Uint8Array[],
    };
    const output = { value: 1_000n, script: fromHex('0014' + '11'.repeat(20)) };
    const legacy = serializeTx({ version: 2, inputs: [input], outputs: [output], lockTime: 0 });
    expect(parseTransaction(legacy).inputCount).toBe(1);
    // The input count 1 written as fd 01 00: the same value, three bytes.
    const wide = concatBytes(legacy.subarray(0, 4), fromHex('fd0100'), legacy.subarray(5));
    expect(invalidBlockMessage(() => parseTransaction(wide))).toBe(
      'transaction 0 input count at byte 4 is a non-canonical CompactSize',
    );
    const wider = concatBytes(legacy.subarray(0, 4), fromHex('fe01000000'), legacy.subarray(5));
    expect(invalidBlockMessage(() => parseTransaction(wider))).toMatch(/non-canonical/);
    const widest = concatBytes(
      legacy.subarray(0, 4),
      fromHex('ff0100000000000000'),
      legacy.subarray(5),
    );
    expect(invalidBlockMessage(() => parseTransaction(widest))).toMatch(/non-canonical/);
    // Marker and flag, then every witness empty.
    const superfluous = concatBytes(
      legacy.subarray(0, 4),
      fromHex('0001'),
      legacy.subarray(4, legacy.length - 4),
      fromHex('00'),
      legacy.subarray(legacy.length - 4),
    );
    expect(invalidBlockMessage(() => parseTransaction(superfluous))).toBe(
      `transaction 0 has a superfluous witness record (every witness empty) at byte ${legacy.length - 2}`,
    );
    const withWitness = serializeTx({
      version: 2,
      inputs: [{ ...input, witness: [new Uint8Array(0)] }],
      outputs: [output],
      lockTime: 0,
    });
    expect(parseTransaction(withWitness).witnesses).toEqual([[new Uint8Array(0)]]);
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

/** A transaction built by bitcoinjs-lib, an independent serializer, with its own ids and sizes. */
interface TxShape {
  version: number;
  locktime: number;
  inputs: { txid: Uint8Array; vout: number; sequence: number; scriptSig: Uint8Array }[];
  outputs: { script: Uint8Array; value: bigint }[];
  /** One stack per input; a transaction has witness data when any item exists. */
  witness: Uint8Array[][];
}

function bitcoinjsTransaction(shape: TxShape): bitcoinjs.Transaction {
  const tx = new bitcoinjs.Transaction();
  tx.version = shape.version;
  tx.locktime = shape.locktime;
  for (const input of shape.inputs) {
    tx.addInput(input.txid, input.vout, input.sequence, input.scriptSig);
  }
  for (const output of shape.outputs) tx.addOutput(output.script, output.value);
  shape.witness.forEach((stack, i) => tx.setWitness(i, stack));
  return tx;
}

const bytesOf = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
// Scripts of 0 to 300 bytes: lengths on both sides of 0xfd, where CompactSize takes 3 bytes.
const script = fc.oneof(bytesOf(40), fc.uint8Array({ minLength: 240, maxLength: 300 }));
const txShape: fc.Arbitrary<TxShape> = fc
  .record({
    // bitcoinjs-lib writes the version as uint32; ours reads it as Bitcoin Core's int32 nVersion.
    version: fc.nat({ max: 0xffffffff }),
    locktime: fc.nat({ max: 0xffffffff }),
    inputs: fc.array(
      fc.record({
        txid: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        vout: fc.nat({ max: 0xffffffff }),
        sequence: fc.nat({ max: 0xffffffff }),
        scriptSig: script,
      }),
      { minLength: 1, maxLength: 6 },
    ),
    // Values up to the largest bitcoinjs-lib accepts (int64), so all eight bytes are read.
    outputs: fc.array(fc.record({ script, value: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }) }), {
      maxLength: 20,
    }),
    segwit: fc.boolean(),
    witnessItems: fc.array(fc.array(bytesOf(80), { maxLength: 3 }), { maxLength: 6 }),
  })
  .map(({ segwit, witnessItems, ...rest }) => ({
    ...rest,
    witness: rest.inputs.map((_, i) => (segwit ? (witnessItems[i] ?? [new Uint8Array(1)]) : [])),
  }));

describe('transactions against bitcoinjs-lib (property)', () => {
  it('same txid, wtxid, sizes, weight, inputs and outputs for any transaction', () => {
    fc.assert(
      fc.property(txShape, (shape) => {
        const reference = bitcoinjsTransaction(shape);
        const raw = reference.toBuffer();
        const tx = parseTransaction(raw);
        expect(tx.txid).toBe(reference.getId());
        expect(tx.wtxid).toBe(wtxidOf(reference));
        expect(tx.hasWitness).toBe(reference.hasWitnesses());
        expect(tx.size).toBe(reference.byteLength());
        expect(tx.strippedSize).toBe(reference.byteLength(false));
        expect(tx.weight).toBe(reference.weight());
        expect(tx.vsize).toBe(reference.virtualSize());
        expect(tx.version >>> 0).toBe(reference.version);
        expect(tx.locktime).toBe(reference.locktime);
        expect(
          tx.inputs.map((i) => [i.prevTxid, toHex(i.prevTxidBytes), i.prevVout, i.sequence]),
        ).toEqual(
          reference.ins.map((i) => [reverseHex(toHex(i.hash)), toHex(i.hash), i.index, i.sequence]),
        );
        expect(tx.inputs.map((i) => toHex(i.scriptSig))).toEqual(
          reference.ins.map((i) => toHex(i.script)),
        );
        expect(tx.witnesses.map((stack) => stack.map(toHex))).toEqual(
          reference.ins.map((i) => (tx.hasWitness ? i.witness.map(toHex) : [])),
        );
        expect(tx.outputs.map((o) => [o.value, toHex(o.scriptPubKey)])).toEqual(
          reference.outs.map((o) => [o.value, toHex(o.script)]),
        );
        for (const output of tx.outputs) expect(SCRIPT_TYPES).toContain(output.type);
        // serialize.ts writes back the same bytes, with and without the witness.
        const fields = {
          version: tx.version,
          inputs: tx.inputs.map((input, i) => ({
            prevTxidBytes: input.prevTxidBytes,
            vout: input.prevVout,
            scriptSig: input.scriptSig,
            sequence: input.sequence,
            witness: tx.witnesses[i] ?? [],
          })),
          outputs: tx.outputs.map((o) => ({ value: o.value, script: o.scriptPubKey })),
          lockTime: tx.locktime,
        };
        expect(toHex(serializeTx(fields))).toBe(toHex(raw));
        const stripped = serializeTx(fields, false);
        expect(stripped.length).toBe(reference.byteLength(false));
        expect(reverseHex(toHex(sha256d(stripped)))).toBe(reference.getId());
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a long non-witness part and a 70,000-byte script (CompactSize 0xfe)', () => {
    const shape: TxShape = {
      version: 2,
      locktime: 840_000,
      inputs: Array.from({ length: 30 }, (_, i) => ({
        txid: new Uint8Array(32).fill(i + 1),
        vout: i,
        sequence: 0xfffffffd,
        scriptSig: new Uint8Array(200).fill(i),
      })),
      outputs: [
        { script: new Uint8Array(70_000).fill(0x51), value: 1n },
        { script: fromHex('0014' + '11'.repeat(20)), value: 21_000_000n * 100_000_000n },
      ],
      witness: Array.from({ length: 30 }, (_, i) => [
        new Uint8Array(72).fill(i),
        new Uint8Array(33),
      ]),
    };
    const reference = bitcoinjsTransaction(shape);
    const tx = parseTransaction(reference.toBuffer());
    expect(tx.txid).toBe(reference.getId());
    expect(tx.wtxid).toBe(wtxidOf(reference));
    expect(tx.weight).toBe(reference.weight());
    expect(tx.output(0).scriptPubKey.length).toBe(70_000);
    expect(tx.output(1).type).toBe('p2wpkh');
  });

  it('parses blocks of random transactions: ids, totals, merkle root and witness commitment', () => {
    fc.assert(
      fc.property(fc.array(txShape, { minLength: 1, maxLength: 12 }), (shapes) => {
        const txs = shapes.map(bitcoinjsTransaction);
        // A coinbase committing to the others' wtxids (BIP141), built with bitcoinjs-lib.
        const coinbase = new bitcoinjs.Transaction();
        coinbase.addInput(new Uint8Array(32), 0xffffffff, 0xffffffff, fromHex('03a08601'));
        coinbase.addOutput(fromHex('0014' + '22'.repeat(20)), 625_000_000n);
        const reserved = new Uint8Array(32).fill(7);
        const wtxids = [new Uint8Array(32), ...txs.map((tx) => sha256d(tx.toBuffer()))];
        const commitment = sha256d(concatBytes(naiveMerkleRoot(wtxids), reserved));
        coinbase.addOutput(concatBytes(fromHex('6a24aa21a9ed'), commitment), 0n);
        coinbase.setWitness(0, [reserved]);
        const all = [coinbase, ...txs];
        const block = new bitcoinjs.Block();
        block.version = 0x20000000;
        block.prevHash = new Uint8Array(32).fill(9);
        block.merkleRoot = naiveMerkleRoot(all.map((tx) => tx.getHash()));
        block.timestamp = 1_700_000_000;
        block.bits = 0x207fffff;
        block.nonce = 0;
        block.transactions = all;
        const bytes = block.toBuffer();

        const parsed = parseBlock(bytes);
        expect(parsed.txids()).toEqual(all.map((tx) => tx.getId()));
        expect(parsed.transactions.map((tx) => tx.wtxid)).toEqual(all.map(wtxidOf));
        expect(parsed.verifyMerkleRoot()).toBe(true);
        expect(parsed.verifyWitnessCommitment()).toBe('valid');
        expect(parsed.witnessCommitment()).toBe(toHex(commitment));
        expect(parsed.totals.inputs).toBe(all.reduce((n, tx) => n + tx.ins.length, 0));
        expect(parsed.totals.outputs).toBe(all.reduce((n, tx) => n + tx.outs.length, 0));
        expect(parsed.totals.outputValue).toBe(
          all.reduce((sum, tx) => sum + tx.outs.reduce((s, o) => s + o.value, 0n), 0n),
        );
        expect(parsed.totals.size).toBe(bytes.length);
        expect(parsed.totals.weight).toBe(block.weight());
        expect(Object.values(parsed.totals.outputsByType).reduce((a, b) => a + b, 0)).toBe(
          parsed.totals.outputs,
        );
      }),
      { numRuns: 60 },
    );
  });
});

function sha256d(bytes: Uint8Array): Uint8Array {
  return sha256(sha256(bytes));
}

/**
 * BIP141: the wtxid is the double SHA-256 of the serialization with witness data. Computed here
 * from bitcoinjs-lib's serialization, since its getHash(true) answers zero for any transaction
 * it takes for a coinbase (one input spending a zero txid), whatever its position.
 */
function wtxidOf(tx: bitcoinjs.Transaction): string {
  return reverseHex(toHex(sha256d(tx.toBuffer())));
}

/** The merkle tree as the Bitcoin wiki describes it, with @noble/hashes, one level at a time. */
function naiveMerkleRoot(leaves: Uint8Array[]): Uint8Array {
  let level = leaves;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] ?? new Uint8Array(32);
      next.push(sha256d(concatBytes(left, level[i + 1] ?? left)));
    }
    level = next;
  }
  return level[0] ?? new Uint8Array(32);
}

describe('computeMerkleRootBytes (property)', () => {
  it('equals the naive merkle root for any number of leaves', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }),
        (leaves) => {
          expect(toHex(computeMerkleRootBytes(concatBytes(...leaves)))).toBe(
            toHex(naiveMerkleRoot(leaves)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
