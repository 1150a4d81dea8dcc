import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as bitcoinjs from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isAppError } from '../../kernel';
import { merkleRoot, parseBlock, splitBlockFile, targetFromBits, workFromBits } from './block';
import { BlockFileChainSource } from './source';
import { BTCD_REORG, readBtcdReorgFile } from '../../../test/support/btcd-reorg';

const MAINNET_MAGIC = 0xf9beb4d9;
const mainnet413567 = new Uint8Array(
  readFileSync(
    path.resolve(import.meta.dirname, '../../../test/vectors/bitcoin/blocks/mainnet-413567.raw'),
  ),
);

describe('block codec (Bitcoin Core serialization)', () => {
  it('parses mainnet block 413567 with the facts recorded in test/vectors/README.md', () => {
    const block = parseBlock(mainnet413567);
    expect(block.header.hash).toBe(
      '0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069',
    );
    expect(block.transactions).toHaveLength(1557);
    expect(block.transactions.reduce((n, tx) => n + tx.inputs.length, 0)).toBe(4887);
    expect(block.transactions.reduce((n, tx) => n + tx.outputs.length, 0)).toBe(3581);
    expect(block.transactions[0]?.coinbase).toBe(true);
    expect(block.transactions.slice(1).every((tx) => !tx.coinbase)).toBe(true);
  });

  it('gives the same txids and values as bitcoinjs-lib on a segwit block (mainnet 542213)', () => {
    const fixtures = JSON.parse(
      readFileSync(
        path.resolve(
          import.meta.dirname,
          '../../../test/vectors/bitcoin/blocks/bitcoinjs-block-fixtures.json',
        ),
        'utf8',
      ),
    ) as { valid: { description: string; id: string; hex: string; height?: number }[] };
    const segwit = fixtures.valid.filter((f) => f.hex.length > 160);
    expect(segwit.length).toBeGreaterThan(0);
    for (const fixture of segwit) {
      const bytes = Uint8Array.from(Buffer.from(fixture.hex, 'hex'));
      const ours = parseBlock(bytes);
      const theirs = bitcoinjs.Block.fromHex(fixture.hex);
      expect(ours.header.hash, fixture.description).toBe(fixture.id);
      expect(ours.transactions.map((tx) => tx.txid)).toEqual(
        (theirs.transactions ?? []).map((tx) => tx.getId()),
      );
      expect(ours.transactions.map((tx) => tx.outputs.map((o) => o.valueSats))).toEqual(
        (theirs.transactions ?? []).map((tx) => tx.outs.map((o) => o.value)),
      );
    }
  });

  it('refuses a block whose merkle root does not match its transactions', () => {
    const tampered = mainnet413567.slice();
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 1; // inside the last tx
    expect(() => parseBlock(tampered)).toThrow(/merkle root/);
  });

  it('refuses truncated data naming the byte where it ended', () => {
    expect(() => parseBlock(mainnet413567.subarray(0, 5000))).toThrow(/truncated at byte/);
  });

  it('work is 2^256 / (target + 1): difficulty-1 bits 1d00ffff give 0x100010001 (Core GetBlockProof)', () => {
    expect(targetFromBits(0x1d00ffff)).toBe(0xffffn << 208n);
    expect(workFromBits(0x1d00ffff)).toBe(0x100010001n);
  });

  it('a harder target always means more work (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 0x1d }),
        fc.integer({ min: 0x8000, max: 0x7fffff }),
        (exponent, mantissa) => {
          const easier = (exponent << 24) | mantissa;
          const harder = (exponent << 24) | (mantissa >> 1);
          expect(workFromBits(harder)).toBeGreaterThanOrEqual(workFromBits(easier));
        },
      ),
    );
  });

  it('the merkle root of a single transaction is its txid', () => {
    expect(merkleRoot([BTCD_REORG.genesisCoinbaseTxid])).toBe(BTCD_REORG.genesisCoinbaseTxid);
  });

  it('splits blk*.dat framing into the five btcd blocks', () => {
    const blocks = splitBlockFile(readBtcdReorgFile('blk_0_to_4.dat'), MAINNET_MAGIC);
    expect(blocks.map((b) => parseBlock(b).header.hash)).toEqual(BTCD_REORG.main);
    expect(blocks.map((b) => parseBlock(b).transactions.length)).toEqual(BTCD_REORG.txCounts.main);
    expect(() => splitBlockFile(readBtcdReorgFile('blk_3A.dat'), 0x0b110907)).toThrow(/magic/);
  });
});

describe('BlockFileChainSource (most-work chain over btcd reorg blocks)', () => {
  it('connects 0–4, then 3A and 4A (equal work: stays on 4), then 5A reorganizes to the fork', async () => {
    const source = new BlockFileChainSource('mainnet');
    const first = source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    expect(first.added).toEqual(BTCD_REORG.main);
    expect(await source.getTip()).toEqual({ height: 4, hash: BTCD_REORG.main[4] });

    source.addBlocks(readBtcdReorgFile('blk_3A.dat'));
    source.addBlocks(readBtcdReorgFile('blk_4A.dat'));
    // 4A has the same work as 4: the first seen stays active (Core: nSequenceId tie-break).
    expect((await source.getTip()).hash).toBe(BTCD_REORG.main[4]);
    expect((await source.getBlockHeader(BTCD_REORG.fork[1])).confirmations).toBe(-1);

    const last = source.addBlocks(readBtcdReorgFile('blk_5A.dat'));
    expect(last.tip).toEqual({ height: 5, hash: BTCD_REORG.fork[2] });
    const active = await Promise.all([0, 1, 2, 3, 4, 5].map((h) => source.getBlockHash(h)));
    expect(active).toEqual([...BTCD_REORG.main.slice(0, 3), ...BTCD_REORG.fork]);
    const stale = await source.getBlockHeader(BTCD_REORG.main[3]);
    expect(stale).toMatchObject({ height: 3, confirmations: -1 });
    expect(await source.getBlockHeader(BTCD_REORG.fork[0])).toMatchObject({
      height: 3,
      previousHash: BTCD_REORG.main[2],
      confirmations: 3,
    });
  });

  it('refuses a block whose parent is unknown and answers BLOCK_NOT_FOUND / TX_NOT_FOUND', async () => {
    const source = new BlockFileChainSource('mainnet');
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    const orphan = new BlockFileChainSource('mainnet');
    orphan.addBlocks(readBtcdReorgFile('blk_0_to_4.dat').subarray(0, 8 + 0x11d));
    expect(() => orphan.addBlocks(readBtcdReorgFile('blk_4A.dat'))).toThrow(/has not been added/);
    await expect(source.getBlockHash(9)).rejects.toSatisfy(
      (e: unknown) => isAppError(e) && e.code === 'BLOCK_NOT_FOUND',
    );
    await expect(source.getRawTransaction('00'.repeat(32))).rejects.toSatisfy(
      (e: unknown) => isAppError(e) && e.code === 'TX_NOT_FOUND',
    );
    const coinbase = await source.getRawTransaction(BTCD_REORG.genesisCoinbaseTxid);
    expect(coinbase.length).toBe(204);
  });

  it('ends on 5A whatever order the two branches arrive in, parents first (property)', () => {
    const main = splitBlockFile(readBtcdReorgFile('blk_0_to_4.dat'), MAINNET_MAGIC);
    const fork = (['blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'] as const).map(readBtcdReorgFile);
    const reframe = (raw: Uint8Array) => {
      const out = new Uint8Array(8 + raw.length);
      new DataView(out.buffer).setUint32(0, MAINNET_MAGIC, false);
      new DataView(out.buffer).setUint32(4, raw.length, true);
      out.set(raw, 8);
      return out;
    };
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 0, 1, 1, 1], { minLength: 5, maxLength: 5 }), (picks) => {
        const source = new BlockFileChainSource('mainnet');
        for (const raw of main.slice(0, 3)) source.addBlocks(reframe(raw));
        const queues = [main.slice(3).map(reframe), [...fork]];
        let tip = { height: 2, hash: '' };
        for (const pick of picks) tip = source.addBlocks(queues[pick]?.shift() as Uint8Array).tip;
        expect(tip).toEqual({ height: 5, hash: BTCD_REORG.fork[2] });
      }),
    );
  });
});
