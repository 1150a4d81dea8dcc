import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainSource } from '../../src/chain';
import { parseBlock, parseHeader, parseTransaction } from '../../src/chain/blockfile/block';
import { isAppError } from '../../src/kernel';

/**
 * The one suite every ChainSource adapter passes (simnet, bitcoind over JSON-RPC, esplora over
 * REST, the block file source), so that the watcher and every consumer can rely on the same behaviour:
 * consistent tip/hash/header/block answers, raw blocks whose header hashes to the asked hash,
 * the not-found codes, mempool acceptance and broadcast.
 *
 * `mine(n)` adds n blocks on the tip and returns their hashes; tests mine at most 3 blocks.
 * `fundedTx()`, when the adapter can make one, returns a valid signed transaction spending a
 * mature coin of the chain, for the broadcast → mempool → mined test.
 */
export interface ContractFixture {
  readonly source: ChainSource;
  mine(n: number): Promise<string[]>;
  fundedTx?(): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * A well-formed transaction spending an output that does not exist (txid 0x11…11:0), so every
 * node refuses it: version 2, one input with an empty scriptSig, one P2WPKH output of 10000
 * sats, lock time 0 (Bitcoin Core primitives/transaction.h serialization, no witness).
 */
export const UNFUNDED_TX = Uint8Array.from([
  ...[2, 0, 0, 0],
  1,
  ...new Array<number>(32).fill(0x11),
  ...[0, 0, 0, 0],
  0,
  ...[0xfd, 0xff, 0xff, 0xff],
  1,
  ...[0x10, 0x27, 0, 0, 0, 0, 0, 0],
  22,
  0x00,
  0x14,
  ...new Array<number>(20).fill(0x22),
  ...[0, 0, 0, 0],
]);

const UNKNOWN_HASH = '00000000000000000000000000000000000000000000000000000000deadbeef';

function codeOf(error: unknown): string | undefined {
  return isAppError(error) ? error.code : undefined;
}

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => codeOf(error) ?? `non-AppError: ${String(error)}`,
  );
}

export function chainSourceContract(name: string, factory: () => Promise<ContractFixture>): void {
  describe(`ChainSource contract: ${name}`, () => {
    let fixture: ContractFixture;
    let source: ChainSource;

    beforeEach(async () => {
      fixture = await factory();
      source = fixture.source;
    });
    afterEach(async () => {
      await fixture.close();
    });

    it('the tip agrees with getBlockHash and getBlockHeader', async () => {
      const tip = await source.getTip();
      expect(Number.isInteger(tip.height) && tip.height >= 0).toBe(true);
      expect(await source.getBlockHash(tip.height)).toBe(tip.hash);
      const header = await source.getBlockHeader(tip.hash);
      expect(header).toMatchObject({ hash: tip.hash, height: tip.height, confirmations: 1 });
      expect(Number.isInteger(header.time)).toBe(true);
    });

    it('mining moves the tip; mined blocks link to their parents and count confirmations', async () => {
      const before = await source.getTip();
      const mined = await fixture.mine(2);
      expect(mined).toHaveLength(2);
      expect(await source.getTip()).toEqual({ height: before.height + 2, hash: mined[1] });
      expect(await source.getBlockHash(before.height + 1)).toBe(mined[0]);
      const first = await source.getBlockHeader(mined[0] as string);
      const second = await source.getBlockHeader(mined[1] as string);
      expect(first).toMatchObject({
        height: before.height + 1,
        previousHash: before.hash,
        confirmations: 2,
      });
      expect(second).toMatchObject({
        height: before.height + 2,
        previousHash: mined[0],
        confirmations: 1,
      });
      expect((await source.getBlockHeader(before.hash)).confirmations).toBe(3);
    });

    it('a raw block hashes to the asked hash, links to its parent, and its merkle root verifies', async () => {
      const [hash] = await fixture.mine(1);
      const raw = await source.getBlock(hash as string);
      const header = parseHeader(raw);
      expect(header.hash).toBe(hash);
      expect(header.previousHash).toBe((await source.getBlockHeader(hash as string)).previousHash);
      expect(header.time).toBe((await source.getBlockHeader(hash as string)).time);
      const block = parseBlock(raw); // throws when the merkle root does not match the txids
      expect(block.transactions[0]?.coinbase).toBe(true);
    });

    it('serves a confirmed transaction by txid', async () => {
      const [hash] = await fixture.mine(1);
      const coinbase = parseBlock(await source.getBlock(hash as string)).transactions[0];
      const raw = await source.getRawTransaction(coinbase?.txid ?? '');
      expect(parseTransaction(raw).txid).toBe(coinbase?.txid);
    });

    it('answers BLOCK_NOT_FOUND and TX_NOT_FOUND', async () => {
      const tip = await source.getTip();
      expect(await rejection(source.getBlockHeader(UNKNOWN_HASH))).toBe('BLOCK_NOT_FOUND');
      expect(await rejection(source.getBlock(UNKNOWN_HASH))).toBe('BLOCK_NOT_FOUND');
      expect(await rejection(source.getBlockHash(tip.height + 1000))).toBe('BLOCK_NOT_FOUND');
      expect(await rejection(source.getRawTransaction('11'.repeat(32)))).toBe('TX_NOT_FOUND');
    });

    it('refuses an unfunded transaction with a reason, in testMempoolAccept and broadcast', async () => {
      const result = await source.testMempoolAccept(UNFUNDED_TX);
      expect(result.allowed).toBe(false);
      expect(result.txid).toBe(parseTransaction(UNFUNDED_TX).txid);
      expect(typeof result.rejectReason).toBe('string');
      expect(result.rejectReason?.length).toBeGreaterThan(0);
      expect(await rejection(source.broadcast(UNFUNDED_TX))).toBe('TX_REJECTED');
      expect(await source.getMempoolTxids()).not.toContain(result.txid);
    });

    it('a fee estimate is null or a positive bigint of sat/kvB', async () => {
      const estimate = await source.estimateFeeRateSatPerKvB(6);
      expect(estimate === null || (typeof estimate === 'bigint' && estimate > 0n)).toBe(true);
    });

    it('broadcast → mempool → mined', async (context) => {
      if (!fixture.fundedTx) {
        context.skip();
        return;
      }
      const raw = await fixture.fundedTx();
      const txid = parseTransaction(raw).txid;
      expect(await source.testMempoolAccept(raw)).toMatchObject({ txid, allowed: true });
      expect(await source.broadcast(raw)).toBe(txid);
      expect(await source.getMempoolTxids()).toContain(txid);
      expect(Buffer.from(await source.getRawTransaction(txid)).equals(raw)).toBe(true);
      const [hash] = await fixture.mine(1);
      const block = parseBlock(await source.getBlock(hash as string));
      expect(block.transactions.map((tx) => tx.txid)).toContain(txid);
      expect(await source.getMempoolTxids()).not.toContain(txid);
    });
  });
}
