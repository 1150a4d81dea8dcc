import { and, eq, inArray, or } from 'drizzle-orm';
import type { Orm } from '../db';
import type { ChainBlock } from './chain';
import { lockContracts } from './contracts';
import type { InvoiceService } from './invoices';
import type { PayoutService } from './payouts';
import type { CompanyWallets } from './ports';
import {
  tradeBatches,
  tradeInvoicePayments,
  tradeInvoices,
  tradePayouts,
  tradeWalletUtxos,
} from './schema';

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
  const owners = await wallets.walletAddressOwners([...new Set(outputs.map((o) => o.address))]);
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
 * Locks, in id order, every contract a block may settle against or reverse: the contracts of the
 * invoices it pays or whose payments it confirms, and of the payouts it confirms or completes.
 * Taken before anything in the block's transaction is audited, this keeps the lock order of every
 * writer (contract, then wallet, then audit head): an invoice or payout request holds its
 * contract while it waits for the audit head, so a block transaction that held the audit head
 * and then asked for that contract (to count a settlement) deadlocked with it.
 */
export async function lockBlockContracts(
  tx: Orm,
  block: ChainBlock,
  change: 'connect' | 'disconnect',
): Promise<void> {
  const ids = new Set<string>();
  const add = (rows: readonly { contractId: string }[]) => {
    for (const row of rows) ids.add(row.contractId);
  };
  if (change === 'connect') {
    const addresses = [
      ...new Set(
        block.transactions.flatMap((t) => t.outputs.flatMap((o) => (o.address ? [o.address] : []))),
      ),
    ];
    if (addresses.length > 0)
      add(
        await tx
          .select({ contractId: tradeInvoices.contractId })
          .from(tradeInvoices)
          .where(inArray(tradeInvoices.address, addresses)),
      );
    add(
      await tx
        .selectDistinct({ contractId: tradeInvoices.contractId })
        .from(tradeInvoices)
        .innerJoin(tradeInvoicePayments, eq(tradeInvoicePayments.invoiceId, tradeInvoices.id))
        .where(inArray(tradeInvoices.status, ['new', 'processing', 'expired'])),
    );
    add(
      await tx
        .selectDistinct({ contractId: tradePayouts.contractId })
        .from(tradePayouts)
        .where(eq(tradePayouts.status, 'inProgress')),
    );
  } else {
    add(
      await tx
        .selectDistinct({ contractId: tradeInvoices.contractId })
        .from(tradeInvoices)
        .innerJoin(tradeInvoicePayments, eq(tradeInvoicePayments.invoiceId, tradeInvoices.id))
        .where(eq(tradeInvoicePayments.blockHash, block.hash)),
    );
    add(
      await tx
        .selectDistinct({ contractId: tradePayouts.contractId })
        .from(tradePayouts)
        .innerJoin(tradeBatches, eq(tradeBatches.id, tradePayouts.batchId))
        .where(eq(tradeBatches.confirmedBlockHash, block.hash)),
    );
  }
  await lockContracts(tx, ids);
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
      await lockBlockContracts(tx, block, 'connect');
      await trackWalletCoins(tx, parts.wallets, block);
      await parts.invoices.blockConnected(tx, block);
      await parts.payouts.blockConnected(tx, block);
    },
    async blockDisconnected(block, tx) {
      await lockBlockContracts(tx, block, 'disconnect');
      await parts.payouts.blockDisconnected(tx, block);
      await parts.invoices.blockDisconnected(tx, block);
      await untrackWalletCoins(tx, block);
    },
  };
}
