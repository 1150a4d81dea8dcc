import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Orm } from '../db';
import { newId, systemCaller } from '../kernel';
import type { ChainBlock } from './chain';
import { transitionPayout } from './lifecycle';
import type { PayoutContext } from './payout-context';
import type { BatchRow } from './payout-views';
import { tradeBatches, tradePayouts, tradeSettlements } from './schema';
import { loadSettings } from './settings';

/** Confirmations: a batch seen in a block, completed at the platform's depth, undone by a reorg. */
export async function blockConnected(
  ctx: PayoutContext,
  tx: Orm,
  block: ChainBlock,
): Promise<void> {
  const { clock } = ctx.ports;
  const txids = block.transactions.map((t) => t.txid);
  const open = await tx
    .select()
    .from(tradeBatches)
    .where(
      and(
        inArray(tradeBatches.status, ['signed', 'broadcast']),
        isNull(tradeBatches.confirmedBlockHash),
      ),
    );
  for (const batch of open) {
    const candidates = [
      batch.txid,
      ...(Array.isArray(batch.replacedTxids) ? (batch.replacedTxids as string[]) : []),
    ];
    const found = candidates.find((t) => t !== null && txids.includes(t));
    if (!found) continue;
    if (batch.status === 'signed' && batch.broadcastHeight === null && found === batch.txid) {
      // Sent, but the sender died before recording it: the block is the proof it went out.
      await ctx.audit.record(systemCaller('trade.payouts'), {
        action: 'batch.broadcast',
        entityType: 'batch',
        entityId: batch.id,
        after: { txid: found, height: block.height, seenIn: block.hash },
      });
    }
    await tx
      .update(tradeBatches)
      .set({
        broadcastHeight: batch.broadcastHeight ?? block.height,
        confirmedBlockHash: block.hash,
        confirmedHeight: block.height,
        confirmedTxid: found,
        status: 'confirmed',
        updatedAt: clock.now(),
      })
      .where(eq(tradeBatches.id, batch.id));
    await ctx.audit.record(systemCaller('trade.payouts'), {
      action: 'batch.confirmed',
      entityType: 'batch',
      entityId: batch.id,
      after: { txid: found, block: block.hash, height: block.height },
    });
  }
  const confirmed = await tx
    .select()
    .from(tradeBatches)
    .where(eq(tradeBatches.status, 'confirmed'));
  for (const batch of confirmed) {
    const settings = await loadSettings(tx, batch.platformId);
    const depth = Math.max(1, settings.confirmations);
    if (batch.confirmedHeight !== null && block.height - batch.confirmedHeight + 1 >= depth)
      await complete(ctx, tx, batch);
  }
}

export async function blockDisconnected(
  ctx: PayoutContext,
  tx: Orm,
  block: ChainBlock,
): Promise<void> {
  const { clock, ledger, contracts } = ctx.ports;
  const hit = await tx
    .select()
    .from(tradeBatches)
    .where(eq(tradeBatches.confirmedBlockHash, block.hash));
  const caller = systemCaller('trade.payouts');
  for (const batch of hit) {
    if (batch.status === 'completed') {
      const payouts = await tx
        .select()
        .from(tradePayouts)
        .where(eq(tradePayouts.batchId, batch.id));
      for (const p of payouts) {
        if (p.status !== 'completed') continue;
        const [settlement] = await tx
          .select()
          .from(tradeSettlements)
          .where(and(eq(tradeSettlements.reference, p.id), isNull(tradeSettlements.reversedAt)));
        if (settlement) {
          const reversal = await ledger.reverse(
            caller,
            settlement.ledgerTransactionId,
            `payout ${p.id}: batch transaction left the chain (reorg)`,
          );
          await tx
            .update(tradeSettlements)
            .set({ reversedAt: clock.now(), reversalLedgerTransactionId: reversal })
            .where(eq(tradeSettlements.id, settlement.id));
          await contracts.applySettlement(tx, caller, p.contractId, -p.contractAmount);
        }
        await transitionPayout(ctx.transitions, tx, caller, p, 'reopened', {
          patch: { settlementId: null },
        });
      }
    }
    await tx
      .update(tradeBatches)
      .set({
        status: 'broadcast',
        confirmedBlockHash: null,
        confirmedHeight: null,
        confirmedTxid: null,
        updatedAt: clock.now(),
      })
      .where(eq(tradeBatches.id, batch.id));
    await ctx.audit.record(caller, {
      action: 'batch.unconfirmed',
      entityType: 'batch',
      entityId: batch.id,
      before: { block: block.hash },
    });
  }
}

async function complete(ctx: PayoutContext, tx: Orm, batch: BatchRow): Promise<void> {
  const { clock, random, rates, ledger, contracts } = ctx.ports;
  const caller = systemCaller('trade.payouts');
  const payouts = await tx.select().from(tradePayouts).where(eq(tradePayouts.batchId, batch.id));
  const now = clock.now();
  const txid = batch.confirmedTxid ?? batch.txid ?? '';
  for (const p of payouts) {
    if (p.status !== 'inProgress') continue;
    const rate = await rates.get(p.rateId);
    const ledgerId = await ledger.post(caller, {
      kind: 'payout.completed',
      reference: p.id,
      platformId: p.platformId,
      rate: { id: rate.id, rate: rate.rate },
      memo: `payout ${p.id} confirmed in ${txid}`,
      postings: [
        {
          account: { participantId: p.companyId, purpose: 'inTransit', platformId: p.platformId },
          amountSats: -(p.amountSats + p.feeShareSats),
        },
        {
          account: {
            participantId: p.counterpartyId,
            purpose: 'counterpartySettled',
            platformId: p.platformId,
          },
          amountSats: p.amountSats,
        },
        ...(p.feeShareSats > 0n
          ? [
              {
                account: {
                  participantId: p.companyId,
                  purpose: 'networkFees' as const,
                  platformId: p.platformId,
                },
                amountSats: p.feeShareSats,
              },
            ]
          : []),
      ],
      settles: [{ txid, vout: p.vout ?? 0 }],
    });
    const settlementId = newId('settlement', now, random);
    await tx.insert(tradeSettlements).values({
      id: settlementId,
      kind: 'payout',
      reference: p.id,
      platformId: p.platformId,
      companyId: p.companyId,
      contractId: p.contractId,
      rateId: p.rateId,
      amountSats: p.amountSats,
      fiatMinor: p.fiatMinor,
      currency: p.currency,
      txid,
      blockHash: batch.confirmedBlockHash,
      ledgerTransactionId: ledgerId,
      createdAt: now,
    });
    await transitionPayout(ctx.transitions, tx, caller, p, 'completed', {
      patch: { settlementId },
      audit: { txid, settlementId },
    });
    await contracts.applySettlement(tx, caller, p.contractId, p.contractAmount);
  }
  await tx
    .update(tradeBatches)
    .set({ status: 'completed', updatedAt: now })
    .where(eq(tradeBatches.id, batch.id));
}
