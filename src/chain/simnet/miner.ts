import { AppError } from '../../kernel';
import { fromReversedHex } from '../../bitcoin';
import type { ChainState } from './chain-state';
import { assembleBlock, blockSubsidy, REGTEST } from './consensus';
import type { Block, Tx } from './model';
import type { Mempool, MempoolEntry } from './mempool';
import { POLICY } from './mempool-policy';

/** The simnet's miner: block templates, assembling blocks and fee estimates. */

/** The next block's transactions, best ancestor fee rate first, with their fees. */
export function blockTemplate(chain: ChainState, mempool: Mempool): MempoolEntry[] {
  return mempool.selectForBlock(REGTEST.maxBlockWeight - POLICY.coinbaseReservedWeight, (tx) =>
    chain.isFinal(tx, chain.height + 1),
  );
}

/** A block on `parentHash` holding `txs`, its coinbase paying the subsidy and `fees` to `payTo`. */
export function assemble(
  chain: ChainState,
  parentHash: string,
  block: { payTo: Uint8Array; fees: bigint; txs: readonly Tx[]; now: number },
): Block {
  const parent = chain.block(parentHash)!;
  const height = parent.height + 1;
  return assembleBlock({
    prevHash: fromReversedHex(parent.hash),
    height,
    // Strictly increasing times keep every block above its median time past (BIP113).
    time: Math.max(block.now, parent.block.header.time + 1),
    payTo: block.payTo,
    coinbaseValue: blockSubsidy(height) + block.fees,
    txs: block.txs,
    // Distinguishes blocks of competing branches at one height paying one address.
    extraNonce: chain.sequence,
  });
}

/** The fee of a transaction whose inputs are in any known block or the mempool. */
export function feeAnywhere(chain: ChainState, mempool: Mempool, tx: Tx): bigint {
  let valueIn = 0n;
  for (const input of tx.inputs) {
    const source = findTxAnywhere(chain, mempool, input.prevTxid);
    const output = source?.outputs[input.vout];
    if (!output) {
      throw new AppError(
        'VALIDATION_FAILED',
        `txs: input ${input.prevTxid}:${input.vout} of ${tx.txid} is not in any simnet block or the mempool`,
      );
    }
    valueIn += output.value;
  }
  const valueOut = tx.outputs.reduce((sum, output) => sum + output.value, 0n);
  if (valueIn < valueOut)
    throw new AppError(
      'VALIDATION_FAILED',
      `txs: ${tx.txid} spends more than its inputs (bad-txns-in-belowout)`,
    );
  return valueIn - valueOut;
}

/** A transaction from the mempool, the active chain or any other branch. */
export function findTxAnywhere(chain: ChainState, mempool: Mempool, txid: string): Tx | undefined {
  const pooled = mempool.get(txid);
  if (pooled) return pooled.tx;
  const indexed = chain.blockOf(txid);
  if (indexed) return chain.block(indexed)!.block.txs.find((tx) => tx.txid === txid);
  for (const entry of chain.blocks()) {
    const tx = entry.block.txs.find((candidate) => candidate.txid === txid);
    if (tx) return tx;
  }
  return undefined;
}

/**
 * A fee-rate estimate in sat/kvB to confirm within `targetBlocks`: when the mempool holds more
 * than `targetBlocks` blocks' worth of transactions, the rate at that depth; otherwise the
 * median fee rate paid in the last `max(targetBlocks, 6)` blocks, at least the minimum relay
 * fee. Null when there is no data (no mempool and no fee-paying transaction in those blocks).
 */
export function estimateFeeRate(
  chain: ChainState,
  mempool: Mempool,
  targetBlocks: number,
): bigint | null {
  const capacity = (REGTEST.maxBlockWeight - POLICY.coinbaseReservedWeight) * targetBlocks;
  const pending = mempool.selectForBlock(Number.MAX_SAFE_INTEGER, () => true);
  let weight = 0;
  for (const entry of pending) {
    weight += entry.tx.weight;
    if (weight > capacity)
      return maxBig((entry.fee * 1000n) / BigInt(entry.tx.vsize), POLICY.minRelayFeeSatPerKvB);
  }
  const rates: bigint[] = [];
  const depth = Math.max(targetBlocks, 6);
  for (let height = chain.height; height > 0 && height > chain.height - depth; height--) {
    const entry = chain.block(chain.blockHashAt(height)!)!;
    entry.block.txs.forEach((tx, i) => {
      const fee = entry.fees?.[i];
      if (i > 0 && fee !== undefined) rates.push((fee * 1000n) / BigInt(tx.vsize));
    });
  }
  for (const entry of pending) rates.push((entry.fee * 1000n) / BigInt(entry.tx.vsize));
  if (rates.length === 0) return null;
  rates.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return maxBig(rates[Math.floor(rates.length / 2)]!, POLICY.minRelayFeeSatPerKvB);
}

/** A number of blocks to mine: 0 to 10000. */
export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 10_000) {
    throw new AppError(
      'VALIDATION_FAILED',
      `count must be an integer from 0 to 10000, got ${count}`,
      {
        issues: [{ field: 'count', message: 'out of range' }],
      },
    );
  }
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
