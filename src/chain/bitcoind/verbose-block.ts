import { z } from 'zod';
import { AppError, type NetworkName } from '../../kernel';
import { fromHex, fromReversedHex, sha256d, toReversedHex } from '../../bitcoin';
import { assembleChainBlock, outpointKey, type ChainBlock, type KnownPrevout } from '../block';
import { merkleRoot, parseTransaction } from '../blockfile/block';

/**
 * Bitcoin Core's `getblock <hash> 3` (Core ≥ 23): the block as JSON, each transaction with its
 * raw hex, and each input with `prevout` (the spent output, from the block's undo data). Only the
 * fields read here are checked; Core sends more (asm, desc, size, weight, fee, …).
 */
const hash = z.string().regex(/^[0-9a-f]{64}$/);
const prevoutSchema = z.object({
  value: z.number().nonnegative(),
  scriptPubKey: z.object({ hex: z.string().regex(/^(?:[0-9a-f]{2})*$/) }),
});
export const verboseBlockSchema = z.object({
  hash,
  height: z.number().int().nonnegative(),
  version: z.number().int(),
  merkleroot: hash,
  time: z.number().int().nonnegative(),
  nonce: z.number().int().nonnegative(),
  bits: z.string().regex(/^[0-9a-f]{8}$/),
  previousblockhash: hash.optional(),
  tx: z
    .array(
      z.object({
        txid: hash,
        hex: z.string(),
        vin: z.array(
          z.object({
            coinbase: z.string().optional(),
            txid: hash.optional(),
            vout: z.number().int().nonnegative().optional(),
            prevout: prevoutSchema.optional(),
          }),
        ),
      }),
    )
    .min(1),
});
export type VerboseBlock = z.infer<typeof verboseBlockSchema>;

/** Core prints amounts with 8 decimals; JSON.parse gives the nearest double, read back exactly. */
function sats(btc: number): bigint {
  const [whole = '0', fraction = ''] = btc.toFixed(8).split('.');
  return BigInt(whole) * 100_000_000n + BigInt(fraction.padEnd(8, '0'));
}

function headerHash(block: VerboseBlock): string {
  const header = new Uint8Array(80);
  const view = new DataView(header.buffer);
  view.setInt32(0, block.version, true);
  if (block.previousblockhash) header.set(fromReversedHex(block.previousblockhash), 4);
  header.set(fromReversedHex(block.merkleroot), 36);
  view.setUint32(68, block.time, true);
  view.setUint32(72, parseInt(block.bits, 16), true);
  view.setUint32(76, block.nonce, true);
  return toReversedHex(sha256d(header));
}

/**
 * The ChainBlock of a verbosity-3 answer for `expectedHash`, checked like a raw block: the header
 * fields hash to the block asked for, every transaction's hex to its txid, and the txids to the
 * merkle root. An input without `prevout` (Core omits it when the block's undo data is gone, as
 * on a pruned node) refuses the block with CHAIN_UNSUPPORTED.
 */
export function chainBlockFromVerbose(
  block: VerboseBlock,
  expectedHash: string,
  network: NetworkName,
): ChainBlock {
  const invalid = (why: string) =>
    new AppError('INVALID_BLOCK', `Bitcoin Core's getblock ${expectedHash} 3: ${why}`);
  if (block.hash !== expectedHash) throw invalid(`it describes block ${block.hash}`);
  if (headerHash(block) !== expectedHash) throw invalid('its header fields hash to another block');
  const prevouts = new Map<string, KnownPrevout>();
  const transactions = block.tx.map((entry) => {
    const tx = parseTransaction(fromHex(entry.hex, 'transaction'));
    if (tx.txid !== entry.txid) throw invalid(`transaction ${entry.txid} hashes to ${tx.txid}`);
    for (const input of entry.vin) {
      if (input.coinbase !== undefined || input.txid === undefined || input.vout === undefined)
        continue;
      if (!input.prevout) {
        throw new AppError(
          'CHAIN_UNSUPPORTED',
          `Bitcoin Core sent block ${expectedHash} without the previous output of ${input.txid}:${input.vout} (getblock verbosity 3 omits prevout when the block's undo data is not available, as on a pruned node); the watcher needs a node that keeps undo data for the blocks it follows`,
          { details: { block: expectedHash, outpoint: outpointKey(input.txid, input.vout) } },
        );
      }
      prevouts.set(outpointKey(input.txid, input.vout), {
        valueSats: sats(input.prevout.value),
        script: fromHex(input.prevout.scriptPubKey.hex, 'scriptPubKey'),
      });
    }
    return tx;
  });
  if (merkleRoot(transactions.map((tx) => tx.txid)) !== block.merkleroot) {
    throw invalid('its transactions do not hash to its merkle root');
  }
  return assembleChainBlock(
    {
      hash: block.hash,
      height: block.height,
      previousHash: block.previousblockhash ?? null,
      time: block.time,
    },
    transactions,
    network,
    (txid, vout) => prevouts.get(outpointKey(txid, vout)),
    'Bitcoin Core',
  );
}
