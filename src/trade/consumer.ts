import { and, eq, inArray, or } from 'drizzle-orm';
import type { Orm } from '../db';
import type { ChainBlock } from './chain';
import type { InvoiceService } from './invoices';
import type { PayoutService } from './payouts';
import type { CompanyWallets } from './ports';
import { tradeWalletUtxos } from './schema';

/**
 * Keeps the confirmed coins of company wallets: outputs to wallet addresses are added with their
 * block, spends are marked with theirs; a disconnected block undoes exactly what it did.
 */
export async function trackWalletCoins(
  tx: Orm,
  wallets: CompanyWallets,
  block: ChainBlock,
): Promise<void> {
  const outputs = block.transactions.flatMap((t) =>
    t.outputs.flatMap((o) =>
      o.address ? [{ txid: t.txid, vout: o.vout, value: o.valueSats, address: o.address }] : [],
    ),
  );
  const owners = await wallets.walletAddressOwners([...new Set(outputs.map((o) => o.address))], tx);
  for (const output of outputs) {
    const owner = owners.get(output.address);
    if (!owner || output.value <= 0n) continue;
    await tx
      .insert(tradeWalletUtxos)
      .values({
        txid: output.txid,
        vout: output.vout,
        companyId: owner.companyId,
        platformId: owner.platformId,
        address: output.address,
        valueSats: output.value,
        blockHash: block.hash,
        blockHeight: block.height,
      })
      .onConflictDoUpdate({
        target: [tradeWalletUtxos.txid, tradeWalletUtxos.vout],
        set: { blockHash: block.hash, blockHeight: block.height },
      });
  }
  for (const t of block.transactions) {
    if (t.coinbase || t.inputs.length === 0) continue;
    await tx
      .update(tradeWalletUtxos)
      .set({ spentByTxid: t.txid, spentInBlock: block.hash })
      .where(
        or(
          ...t.inputs.map((i) =>
            and(eq(tradeWalletUtxos.txid, i.txid), eq(tradeWalletUtxos.vout, i.vout)),
          ),
        ),
      );
  }
}

export async function untrackWalletCoins(tx: Orm, block: ChainBlock): Promise<void> {
  await tx.delete(tradeWalletUtxos).where(eq(tradeWalletUtxos.blockHash, block.hash));
  await tx
    .update(tradeWalletUtxos)
    .set({ spentByTxid: null, spentInBlock: null })
    .where(inArray(tradeWalletUtxos.spentInBlock, [block.hash]));
}

/**
 * Trade's chain-watcher consumer: wallet coins, invoice payments and payout confirmations, all
 * inside the watcher's transaction (exactly once per block, undone on disconnect).
 */
export function tradeChainConsumer(parts: {
  wallets: CompanyWallets;
  invoices: InvoiceService;
  payouts: PayoutService;
}): {
  readonly name: string;
  blockConnected(block: ChainBlock, tx: Orm): Promise<void>;
  blockDisconnected(block: ChainBlock, tx: Orm): Promise<void>;
} {
  return {
    name: 'trade',
    async blockConnected(block, tx) {
      await trackWalletCoins(tx, parts.wallets, block);
      await parts.invoices.blockConnected(tx, block);
      await parts.payouts.blockConnected(tx, block);
    },
    async blockDisconnected(block, tx) {
      await parts.payouts.blockDisconnected(tx, block);
      await parts.invoices.blockDisconnected(tx, block);
      await untrackWalletCoins(tx, block);
    },
  };
}
