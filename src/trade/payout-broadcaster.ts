import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { Transaction } from '@scure/btc-signer';
import { addressFromScript, extractTransaction, finalizePsbt } from '../bitcoin';
import { broadcastRejection, chainHasTransaction, type ChainSource } from '../chain';
import { scopeTo, type Orm } from '../db';
import { AppError, systemCaller, type Caller } from '../kernel';
import { assertTransition, BATCH_TRANSITIONS, transitionPayout, type GateCheck } from './lifecycle';
import { heldError, type PayoutContext } from './payout-context';
import { getBatch, type BatchRow, type BatchView } from './payout-views';
import { tradeBatches, tradePayouts } from './schema';
import { loadSettings } from './settings';

/**
 * A signed PSBT for a batch from an external signer (through the API): every payout of the batch
 * is decided again first (one that fails abandons the batch: never broadcast, the others queued
 * again, and the signer is told with a reference); then finalized, checked to be the batch's
 * transaction, committed with the payouts' move to inProgress and the ledger's in-transit
 * postings, THEN broadcast.
 */
export async function submitSignedPsbt(
  ctx: PayoutContext,
  caller: Caller,
  batchId: string,
  signedPsbt: Uint8Array,
): Promise<BatchView> {
  return acceptSignedPsbt(ctx, caller, batchId, signedPsbt, null);
}

/** As submitSignedPsbt; `checked` are the signing step's checks already made (local signer). */
export async function acceptSignedPsbt(
  ctx: PayoutContext,
  caller: Caller,
  batchId: string,
  signedPsbt: Uint8Array,
  checked: ReadonlyMap<string, GateCheck> | null,
): Promise<BatchView> {
  const { db, clock, ledger, rates } = ctx.ports;
  const extracted = extractTransaction(finalizePsbt(signedPsbt));
  const held = await db.transaction(async (tx) => {
    const [batch] = await tx
      .select()
      .from(tradeBatches)
      .where(
        and(eq(tradeBatches.id, batchId), scopeTo(caller, { platform: tradeBatches.platformId })),
      )
      .for('update');
    if (!batch) throw new AppError('NOT_FOUND', `no payout batch ${batchId} visible to you`);
    if (batch.status !== 'awaitingSignature') {
      if (batch.txid === extracted.txid) return null; // the same signature again: idempotent
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `batch ${batchId} is ${batch.status}, not awaitingSignature`,
      );
    }
    // A segwit txid does not cover witnesses: equal txids mean the same inputs and outputs.
    const expected = Transaction.fromPSBT(new Uint8Array(Buffer.from(batch.psbt, 'base64'))).id;
    if (expected !== extracted.txid) {
      throw new AppError(
        'INVALID_PSBT',
        `the signed PSBT is for transaction ${extracted.txid}, but batch ${batchId} is ${expected}`,
      );
    }
    const payouts = await tx
      .select()
      .from(tradePayouts)
      .where(eq(tradePayouts.batchId, batchId))
      .for('update');
    let passed = checked;
    if (!passed) {
      const result = await ctx.checkBatch(caller, payouts, 'signing');
      if (result.failed.size > 0) {
        await ctx.abandonBatch(tx, caller, batch, result.failed);
        return [...result.failed][0] ?? null;
      }
      passed = result.passed;
    }
    assertTransition(`batch ${batchId}`, BATCH_TRANSITIONS.signed, 'signed', batch.status);
    const now = clock.now();
    await tx
      .update(tradeBatches)
      .set({
        status: 'signed',
        rawTx: Buffer.from(extracted.raw).toString('hex'),
        txid: extracted.txid,
        feeSats: extracted.fee,
        vsize: extracted.vsize,
        updatedAt: now,
      })
      .where(eq(tradeBatches.id, batchId));
    for (const p of payouts) {
      const check = passed.get(p.id);
      if (!check)
        throw new AppError('INTERNAL', `payout ${p.id} joined batch ${batchId} unchecked`);
      const rate = await rates.get(p.rateId);
      const outgoing = p.amountSats + p.feeShareSats;
      await ledger.post(caller, {
        kind: 'payout.signed',
        reference: p.id,
        platformId: p.platformId,
        rate: { id: rate.id, rate: rate.rate },
        memo: `payout ${p.id} in batch ${batchId} (${extracted.txid})`,
        postings: [
          {
            account: { participantId: p.companyId, purpose: 'inTransit', platformId: p.platformId },
            amountSats: outgoing,
          },
          {
            account: {
              participantId: p.companyId,
              purpose: 'clientFunds',
              platformId: p.platformId,
            },
            amountSats: -outgoing,
          },
        ],
      });
      await transitionPayout(ctx.transitions, tx, caller, p, 'inProgress', {
        checked: check,
        audit: { txid: extracted.txid },
      });
    }
    await ctx.audit.record(caller, {
      action: 'batch.signed',
      entityType: 'batch',
      entityId: batchId,
      after: { txid: extracted.txid },
    });
    return null;
  });
  if (held && !checked) throw heldError(held[0], held[1]);
  await broadcast(ctx, batchId);
  return getBatch(db.orm, systemCaller('trade'), batchId);
}

/**
 * Broadcasts a batch's stored signed transaction; idempotent (the same bytes every time). Before
 * its first broadcast every payout in it is decided again: one that fails abandons the batch
 * (never broadcast, funds back from in transit, the others queued again). A replacement (RBF) of
 * a batch already on the network is not checked again: its original cannot be called back.
 */
export async function broadcast(ctx: PayoutContext, batchId: string): Promise<void> {
  const { db, clock } = ctx.ports;
  const chain = ctx.requireChain();
  const [batch] = await db.orm.select().from(tradeBatches).where(eq(tradeBatches.id, batchId));
  if (!batch?.rawTx || !batch.txid || (batch.status !== 'signed' && batch.status !== 'broadcast'))
    return;
  const caller = systemCaller('trade.broadcaster');
  const txid = batch.txid;
  const replaced = Array.isArray(batch.replacedTxids) ? batch.replacedTxids.length : 0;
  // The attempt is recorded (committed) BEFORE the send: a process killed after sending and
  // before recording the outcome leaves a count above 0, so the next try asks the chain first
  // and never abandons a transaction that is already out.
  const countAttempt = (tx: Orm) =>
    tx
      .update(tradeBatches)
      .set({ broadcastAttempts: sql`${tradeBatches.broadcastAttempts} + 1` })
      .where(eq(tradeBatches.id, batchId));
  if (batch.status === 'signed' && batch.broadcastHeight === null && replaced === 0) {
    // Known to the chain, it is past stopping. Asked outside the transaction (the chain may
    // share the db).
    const out = batch.broadcastAttempts > 0 && (await chainHasTransaction(chain, txid));
    const stopped = await db.transaction(async (tx) => {
      const [locked] = await tx
        .select()
        .from(tradeBatches)
        .where(eq(tradeBatches.id, batchId))
        .for('update');
      if (locked?.status !== 'signed' || locked.txid !== txid) return true; // moved on meanwhile
      const payouts = await tx
        .select()
        .from(tradePayouts)
        .where(eq(tradePayouts.batchId, batchId))
        .for('update');
      const { failed } = await ctx.checkBatch(caller, payouts, 'broadcast');
      if (failed.size > 0 && !out) {
        await ctx.abandonBatch(tx, caller, locked, failed);
        return true;
      }
      if (failed.size > 0) {
        await ctx.audit.record(caller, {
          action: 'batch.checkFailedAfterBroadcast',
          entityType: 'batch',
          entityId: batchId,
          after: { txid, failed: [...failed.keys()] },
        });
      }
      await countAttempt(tx);
      return false;
    });
    if (stopped) return;
  } else {
    await db.transaction(countAttempt);
  }
  const error = await send(chain, batch.rawTx);
  const tip = await chain.getTip();
  await db.transaction(async (tx) => {
    // Read again under the lock: the watcher may have seen the transaction in a block (and
    // recorded its announcement) or a fee bump replaced it while the send was under way.
    const [locked] = await tx
      .select()
      .from(tradeBatches)
      .where(eq(tradeBatches.id, batchId))
      .for('update');
    if (!locked || locked.txid !== txid) return;
    const announced = error === null && locked.status === 'signed';
    await tx
      .update(tradeBatches)
      .set({
        status: announced ? 'broadcast' : locked.status,
        broadcastHeight: locked.broadcastHeight ?? (error === null ? tip.height : null),
        lastBroadcastError: error,
        updatedAt: clock.now(),
      })
      .where(eq(tradeBatches.id, batchId));
    if (announced) {
      await ctx.audit.record(caller, {
        action: 'batch.broadcast',
        entityType: 'batch',
        entityId: batchId,
        after: { txid, height: tip.height },
      });
    }
  });
}

/**
 * Sends a signed transaction; null when the network has it (sent now, or by an earlier try:
 * the typed `alreadyKnown` rejection), else why it was not taken.
 */
async function send(chain: ChainSource, rawTx: string): Promise<string | null> {
  try {
    await chain.broadcast(new Uint8Array(Buffer.from(rawTx, 'hex')));
    return null;
  } catch (caught) {
    if (broadcastRejection(caught)?.kind === 'alreadyKnown') return null;
    return caught instanceof Error ? caught.message : 'unknown error';
  }
}

/** After a restart: re-broadcast every signed batch that has not confirmed. Builds nothing new. */
export async function resume(ctx: PayoutContext): Promise<string[]> {
  const pending = await ctx.ports.db.orm
    .select({ id: tradeBatches.id })
    .from(tradeBatches)
    .where(
      and(
        inArray(tradeBatches.status, ['signed', 'broadcast']),
        isNull(tradeBatches.confirmedBlockHash),
      ),
    );
  for (const { id } of pending) await broadcast(ctx, id);
  return pending.map((p) => p.id);
}

/**
 * Replace-by-fee (BIP125) for batches unconfirmed `rbfAfterBlocks` after their broadcast: the
 * same inputs and payment outputs, the extra fee taken from the change, re-signed locally.
 */
export async function bumpStuck(ctx: PayoutContext): Promise<string[]> {
  const { db } = ctx.ports;
  const chain = ctx.requireChain();
  const tip = await chain.getTip();
  const stuck = await db.orm
    .select()
    .from(tradeBatches)
    .where(and(eq(tradeBatches.status, 'broadcast'), isNull(tradeBatches.confirmedBlockHash)));
  const bumped: string[] = [];
  for (const batch of stuck) {
    const settings = await loadSettings(db.orm, batch.platformId);
    if (
      batch.broadcastHeight === null ||
      tip.height - batch.broadcastHeight < settings.rbfAfterBlocks
    )
      continue;
    const replaced = await bump(ctx, batch, settings.feeCapSatPerKvB, tip.height);
    if (replaced) bumped.push(batch.id);
  }
  return bumped;
}

async function bump(
  ctx: PayoutContext,
  batch: BatchRow,
  capSatPerKvB: bigint,
  tipHeight: number,
): Promise<boolean> {
  const { db, clock, signers, rates, ledger } = ctx.ports;
  // BIP125 rules 3 and 4: pay at least the old fee plus the incremental relay fee (1 sat/vB) on the new size.
  const newRate =
    batch.feeRateSatPerKvB * 2n > capSatPerKvB ? capSatPerKvB : batch.feeRateSatPerKvB * 2n;
  const extra = (BigInt(batch.vsize) * newRate + 999n) / 1000n - batch.feeSats;
  const minExtra = BigInt(batch.vsize);
  const add = extra > minExtra ? extra : minExtra;
  const original = Transaction.fromPSBT(new Uint8Array(Buffer.from(batch.psbt, 'base64')));
  const payouts = await db.orm
    .select()
    .from(tradePayouts)
    .where(eq(tradePayouts.batchId, batch.id));
  const paymentVouts = new Set(payouts.map((p) => p.vout));
  let changeIndex = -1;
  for (let o = 0; o < original.outputsLength; o++) {
    if (!paymentVouts.has(o) && (original.getOutput(o).amount ?? 0n) - add >= 294n) {
      changeIndex = o;
      break;
    }
  }
  if (changeIndex < 0) return false; // no change to take the fee from: left for an operator
  const companyOfChange = await changeOwner(ctx, original, changeIndex);
  const bumpedPsbt = original.clone();
  bumpedPsbt.updateOutput(changeIndex, {
    amount: (original.getOutput(changeIndex).amount ?? 0n) - add,
  });
  const signer = await signers.signerFor(batch.platformId);
  if (!signer) return false;
  const signed = await signer.signPsbt(bumpedPsbt.toPSBT(0));
  const extracted = extractTransaction(finalizePsbt(signed));
  const replacedTxids = [
    ...(Array.isArray(batch.replacedTxids) ? (batch.replacedTxids as string[]) : []),
    batch.txid ?? '',
  ];
  await db.transaction(async (tx) => {
    const now = clock.now();
    assertTransition(`batch ${batch.id}`, BATCH_TRANSITIONS.feeBumped, 'feeBumped', batch.status);
    await tx
      .update(tradeBatches)
      .set({
        psbt: Buffer.from(bumpedPsbt.toPSBT(0)).toString('base64'),
        rawTx: Buffer.from(extracted.raw).toString('hex'),
        txid: extracted.txid,
        replacedTxids,
        feeSats: extracted.fee,
        feeRateSatPerKvB: newRate,
        status: 'signed',
        broadcastHeight: tipHeight,
        updatedAt: now,
      })
      .where(eq(tradeBatches.id, batch.id));
    // The extra fee leaves the change owner's funds: one more in-transit posting, on its first payout.
    const payer = payouts.find((p) => p.companyId === companyOfChange) ?? payouts[0];
    if (payer) {
      await tx
        .update(tradePayouts)
        .set({ feeShareSats: payer.feeShareSats + add, updatedAt: now })
        .where(eq(tradePayouts.id, payer.id));
      const rate = await rates.get(payer.rateId);
      await ledger.post(systemCaller('trade.rbf'), {
        kind: 'payout.feeBumped',
        reference: payer.id,
        platformId: payer.platformId,
        rate: { id: rate.id, rate: rate.rate },
        memo: `batch ${batch.id} replaced ${batch.txid ?? ''} by ${extracted.txid}`,
        postings: [
          {
            account: {
              participantId: payer.companyId,
              purpose: 'inTransit',
              platformId: payer.platformId,
            },
            amountSats: add,
          },
          {
            account: {
              participantId: payer.companyId,
              purpose: 'clientFunds',
              platformId: payer.platformId,
            },
            amountSats: -add,
          },
        ],
      });
    }
    await ctx.audit.record(systemCaller('trade.rbf'), {
      action: 'batch.feeBumped',
      entityType: 'batch',
      entityId: batch.id,
      before: { txid: batch.txid, fee: batch.feeSats.toString() },
      after: { txid: extracted.txid, fee: extracted.fee.toString() },
    });
  });
  await broadcast(ctx, batch.id);
  return true;
}

async function changeOwner(
  ctx: PayoutContext,
  tx: Transaction,
  index: number,
): Promise<string | null> {
  const script = tx.getOutput(index).script;
  if (!script) return null;
  const owners = await ctx.ports.wallets.walletAddressOwners([
    addressFromScript(script, ctx.ports.network),
  ]);
  return [...owners.values()][0]?.companyId ?? null;
}
