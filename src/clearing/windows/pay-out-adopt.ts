import { and, asc, eq, inArray } from 'drizzle-orm';
import { addressFromScript, parseTransaction, toHex, type ParsedTransaction } from '../../bitcoin';
import type { Orm } from '../../db';
import { AppError, type Caller, type NetworkName } from '../../kernel';
import { BTC } from '../netting';
import {
  latestTransaction,
  REPLACED_TRANSACTION_MINED,
  SETTLEMENT_PAY_OUT_EVENTS,
  type PayOutTransactionRow,
} from './pay-out-broadcast';
import { receivedBtcPayIns } from './pay-out-batch';
import { alertPayOutHold } from './pay-out-alerts';
import { feeShares, postFeeEntry } from './pay-out-fees';
import type { PayOutDeps, PayOutRow } from './pay-outs';
import {
  clearingPayOutTransactions,
  clearingPayOuts,
  clearingSettlementAddresses,
  clearingWindows,
  type SignedOutput,
} from './schema';

/**
 * The supervisor's way out of REPLACED_TRANSACTION_MINED (issue 13): a transaction the rebuild
 * replaced was mined after all, so the window's stored one can never be; the mined one is adopted
 * as the window's pay-out when it pays the window's receivers. Checked against the window's
 * stored pay-ins and pay-outs: it spends exactly the window's received pay-ins, and its outputs,
 * in the order of signing, pay each pay-out its amount less its pro-rata share of the fee it paid,
 * at an address the receiving platform had approved as its settlement address (the one of that
 * signing: the clearing pays no other). Otherwise MINED_TRANSACTION_MISMATCH, nothing adopted, the
 * refusal audited (`adoptRefused`, an alert: the clearing's key signed something else).
 *
 * Adopted, in one transaction under the window's lock: the window's row names the mined one (its
 * bytes read from the chain before the transaction opens, to be sent again if need be), `broadcast`
 * in its block and confirmed by the chain consumer at the scheme's depth as usual (or, its block
 * taken away by a reorganization, out of every block: sent again by the job and followed into its
 * next); the stored one joins `replacedTxids` (still followed: mined after a reorganization, it
 * holds the window again); the pay-outs name the mined txid, its outputs and fee shares; the
 * stored one's fee entry is reversed and the mined one's posted; audited `adopted` by the caller
 * with both txids.
 */
export async function adoptMinedPayOut(
  deps: PayOutDeps,
  caller: Caller,
  windowId: string,
): Promise<void> {
  if (caller.role !== 'supervisor')
    throw new AppError('FORBIDDEN', 'only the supervisor adopts a mined pay-out transaction');
  const [window] = await deps.db.orm
    .select({ id: clearingWindows.id })
    .from(clearingWindows)
    .where(eq(clearingWindows.id, windowId));
  if (!window) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${windowId}`);
  const read = await latestTransaction(deps.db.orm, windowId);
  const minedTxid = await heldOrRefused(deps, caller, windowId, read);
  // Asked before the transaction opens: no network call inside one.
  const { chain } = deps;
  if (!chain)
    throw new AppError('CHAIN_UNAVAILABLE', 'no chain is wired: the mined transaction is unread');
  const raw = await chain.getRawTransaction(minedTxid).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'TX_NOT_FOUND')
      throw new AppError(
        'TX_NOT_FOUND',
        `the chain has no transaction ${minedTxid} (mined, then taken away by a reorganization and dropped?): nothing to adopt`,
      );
    throw error;
  });
  const mined = parseTransaction(raw);
  if (mined.txid !== minedTxid)
    throw new AppError('CHAIN_UNAVAILABLE', `the chain answered ${mined.txid} for ${minedTxid}`);
  // A recorded block the node no longer has on its active chain is not counted on.
  const inBlock =
    read!.minedBlockHash !== null && read!.minedBlockHeight !== null
      ? await chain.getBlockHeader(read!.minedBlockHash).then(
          (h) => (h.confirmations > 0 ? { hash: h.hash, height: h.height } : null),
          (error: unknown) => {
            if (error instanceof AppError && error.code === 'BLOCK_NOT_FOUND') return null;
            throw error;
          },
        )
      : null;
  try {
    await deps.db.transaction(async (tx) => {
      await tx
        .select({ id: clearingWindows.id })
        .from(clearingWindows)
        .where(eq(clearingWindows.id, windowId))
        .for('update');
      const stored = await latestTransaction(tx, windowId, true);
      // Its block moved meanwhile (the chain consumer followed a reorganization): asked again.
      if (
        heldForMined(windowId, stored) !== minedTxid ||
        stored!.minedBlockHash !== read!.minedBlockHash
      )
        throw new AppError(
          'PAY_OUT_NOT_HELD_FOR_MINED',
          `the pay-out transaction of settlement window ${windowId} changed while the mined one was adopted: try again`,
        );
      const payOuts = await tx
        .select()
        .from(clearingPayOuts)
        .where(and(eq(clearingPayOuts.windowId, windowId), eq(clearingPayOuts.asset, BTC)))
        .orderBy(asc(clearingPayOuts.platformId), asc(clearingPayOuts.kind));
      const signing = stored!.replacedOutputs[minedTxid];
      const checked = signing
        ? await paysAsSigned(tx, deps.network, stored!, mined, payOuts, signing)
        : await paysReceivers(tx, deps.network, windowId, mined, payOuts);
      if ('problems' in checked) throw new Mismatch(stored!, checked.problems);
      await adopt(deps, tx, caller, stored!, { mined, raw, inBlock, ...checked });
    });
  } catch (error) {
    if (!(error instanceof Mismatch)) throw error;
    await deps.db.transaction(async () => {
      const alert = await alertPayOutHold(deps.ctx, caller, {
        windowId,
        code: 'MINED_TRANSACTION_MISMATCH',
        platformId: null,
        detail:
          `The clearing's key signed ${minedTxid}, which pays elsewhere: ${error.problems.join('; ')}.`.slice(
            0,
            2000,
          ),
      });
      await deps.ctx.audit.record(caller, {
        action: SETTLEMENT_PAY_OUT_EVENTS.adoptRefused,
        entityType: 'settlement_window',
        entityId: windowId,
        before: { status: error.stored.status, txid: error.stored.txid },
        after: {
          code: 'MINED_TRANSACTION_MISMATCH',
          minedTxid,
          problems: error.problems,
          alert: 'supervisor',
          alertId: alert?.alertId ?? null,
        },
      });
    });
    throw new AppError(
      'MINED_TRANSACTION_MISMATCH',
      `the mined transaction ${minedTxid} does not pay the receivers of settlement window ${windowId}: ${error.problems.join('; ')}`,
      { details: { minedTxid, problems: error.problems } },
    );
  }
}

/**
 * The mined replaced transaction of a window held for it; else PAY_OUT_NOT_HELD_FOR_MINED, audited
 * `adoptRefused` with its code by the caller in a transaction of its own, as every other refusal
 * of an adoption (no alert: nothing is held by it).
 */
async function heldOrRefused(
  deps: PayOutDeps,
  caller: Caller,
  windowId: string,
  row: PayOutTransactionRow | undefined,
): Promise<string> {
  try {
    return heldForMined(windowId, row);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    await deps.db.transaction(() =>
      deps.ctx.audit.record(caller, {
        action: SETTLEMENT_PAY_OUT_EVENTS.adoptRefused,
        entityType: 'settlement_window',
        entityId: windowId,
        before: {
          status: row?.status ?? null,
          txid: row?.txid ?? null,
          code: row?.heldCode ?? null,
        },
        after: { code: error.code },
      }),
    );
    throw error;
  }
}

/** The mined replaced transaction of a window held for it, else PAY_OUT_NOT_HELD_FOR_MINED. */
function heldForMined(windowId: string, row: PayOutTransactionRow | undefined): string {
  if (
    row?.status === 'held' &&
    row.heldCode === REPLACED_TRANSACTION_MINED &&
    row.minedTxid &&
    row.minedTxid !== row.txid
  )
    return row.minedTxid;
  throw new AppError(
    'PAY_OUT_NOT_HELD_FOR_MINED',
    `the pay-out transaction of settlement window ${windowId} is ${row?.status ?? 'not built'}${row?.heldCode ? ` (${row.heldCode})` : ''}; only one held because a transaction it replaced was mined has a mined one to adopt`,
    { details: { status: row?.status ?? null, heldCode: row?.heldCode ?? null } },
  );
}

/** A mined transaction that does not pay the window's receivers (audited after the rollback). */
class Mismatch extends Error {
  constructor(
    readonly stored: PayOutTransactionRow,
    readonly problems: string[],
  ) {
    super('the mined transaction does not pay the receivers');
  }
}

interface Output {
  payOut: PayOutRow;
  address: string;
  vout: number;
  share: bigint;
  paid: bigint;
}

/** The change a mined transaction keeps for held receivers, as its signing recorded it. */
interface Kept {
  vout: number;
  sats: bigint;
  index: number;
}

/**
 * Whether the mined transaction is the one the clearing signed, as that signing recorded it
 * (`replacedOutputs`): the inputs that transaction spent (the window's received pay-ins, or the
 * change of the window's transaction before it), and output by output exactly the recorded
 * address and value (each pay-out at the settlement address active at that signing, less the fee
 * share then taken, and the clearing's change). Every problem found is listed.
 */
async function paysAsSigned(
  tx: Orm,
  network: NetworkName,
  stored: PayOutTransactionRow,
  mined: ParsedTransaction,
  payOuts: readonly PayOutRow[],
  signing: readonly SignedOutput[],
): Promise<{ fee: bigint; outputs: Output[]; kept: Kept | null } | { problems: string[] }> {
  const problems: string[] = [];
  const spends = await spentBy(tx, stored);
  const owed = new Set(spends.outpoints);
  const spent = mined.inputs.map((i) => `${i.prevTxid}:${i.prevVout}`);
  if (spent.length !== owed.size || spent.some((o) => !owed.has(o)))
    problems.push(`it spends ${spent.join(', ')}, not ${[...owed].join(', ')}`);
  if (mined.outputs.length !== signing.length)
    problems.push(`it has ${mined.outputs.length} outputs, not the ${signing.length} signed`);
  const outputs: Output[] = [];
  let kept: Kept | null = null;
  for (const s of signing) {
    const out = mined.outputs[s.vout];
    const address = out ? addressOf(out.scriptPubKey, network) : '';
    if (!out || out.value !== BigInt(s.valueSats) || address !== s.address)
      problems.push(
        `output ${s.vout} pays ${out ? `${out.value} sats to ${address || 'a script with no address'}` : 'nothing'}, not the ${s.valueSats} sats to ${s.address} signed`,
      );
    const payOut = payOuts.find((p) => p.id === s.payOutId);
    if (s.payOutId === null)
      kept = { vout: s.vout, sats: BigInt(s.valueSats), index: s.changeIndex ?? -1 };
    else if (!payOut)
      problems.push(`output ${s.vout} names pay-out ${s.payOutId}, not the window's`);
    else
      outputs.push({
        payOut,
        address: s.address,
        vout: s.vout,
        share: BigInt(s.feeSats),
        paid: BigInt(s.valueSats),
      });
  }
  const fee = spends.total - mined.outputs.reduce((sum, o) => sum + o.value, 0n);
  if (fee < 0n) problems.push(`its outputs exceed what it spends by ${-fee} sats`);
  return problems.length > 0 ? { problems } : { fee, outputs, kept };
}

/** The outpoints a window's transaction spends (its pay-ins, or the change before it), and their total. */
async function spentBy(
  tx: Orm,
  stored: PayOutTransactionRow,
): Promise<{ outpoints: string[]; total: bigint }> {
  if (stored.seq === 0) {
    const payIns = await receivedBtcPayIns(tx, stored.windowId);
    return {
      outpoints: payIns.map((p) => `${p.txid}:${p.vout}`),
      total: payIns.reduce((sum, p) => sum + p.amountDue, 0n),
    };
  }
  const [prev] = await tx
    .select()
    .from(clearingPayOutTransactions)
    .where(
      and(
        eq(clearingPayOutTransactions.windowId, stored.windowId),
        eq(clearingPayOutTransactions.seq, stored.seq - 1),
      ),
    );
  return {
    outpoints: prev ? [`${prev.txid}:${prev.changeVout}`] : [],
    total: prev?.changeSats ?? 0n,
  };
}

/**
 * For a transaction replaced before migration 0058 (its signing's outputs not recorded): whether
 * the mined transaction pays the window's receivers: the window's received pay-ins in
 * (no other input), and one output per pay-out in the order of signing, each the pay-out's amount
 * less its share of the fee (pro rata, as signed) at an approved settlement address of its
 * platform. Every problem found is listed.
 */
async function paysReceivers(
  tx: Orm,
  network: NetworkName,
  windowId: string,
  mined: ParsedTransaction,
  payOuts: readonly PayOutRow[],
): Promise<{ fee: bigint; outputs: Output[]; kept: null } | { problems: string[] }> {
  const problems: string[] = [];
  const payIns = await receivedBtcPayIns(tx, windowId);
  const owed = new Set(payIns.map((p) => `${p.txid}:${p.vout}`));
  const spent = mined.inputs.map((i) => `${i.prevTxid}:${i.prevVout}`);
  if (spent.length !== owed.size || spent.some((o) => !owed.has(o)))
    problems.push(
      `it spends ${spent.join(', ')}, not the window's pay-ins ${[...owed].join(', ')}`,
    );
  const outs = mined.outputs;
  if (outs.length !== payOuts.length)
    problems.push(`it has ${outs.length} outputs for the window's ${payOuts.length} pay-outs`);
  const inTotal = payIns.reduce((sum, p) => sum + p.amountDue, 0n);
  const fee = inTotal - outs.reduce((sum, o) => sum + o.value, 0n);
  const shares = feeShares(
    payOuts.map((p) => p.amount),
    fee,
  );
  const approved = await approvedAddresses(
    tx,
    payOuts.map((p) => p.platformId),
  );
  const outputs = payOuts.map((payOut, vout): Output => {
    const out = outs[vout];
    const share = shares[vout] ?? 0n;
    const address = out ? addressOf(out.scriptPubKey, network) : '';
    const paid = payOut.amount - share;
    if (!out || out.value !== paid || !approved.has(`${payOut.platformId} ${address}`))
      problems.push(
        `output ${vout} pays ${out ? `${out.value} sats to ${address || 'a script with no address'}` : 'nothing'}, but pay-out ${payOut.id} owes ${payOut.platformId} ${paid} sats (less its fee share) at one of its settlement addresses`,
      );
    return { payOut, address, vout, share, paid };
  });
  if (fee < 0n) problems.push(`its outputs exceed the window's pay-ins by ${-fee} sats`);
  return problems.length > 0 ? { problems } : { fee, outputs, kept: null };
}

/** The output's address, '' for a script with no address form. */
function addressOf(script: Uint8Array, network: NetworkName): string {
  try {
    return addressFromScript(script, network);
  } catch {
    return '';
  }
}

/** `platformId address` of every settlement address the platforms had approved (never a proposal). */
async function approvedAddresses(tx: Orm, platformIds: readonly string[]): Promise<Set<string>> {
  const rows = await tx
    .select({
      platformId: clearingSettlementAddresses.platformId,
      address: clearingSettlementAddresses.address,
    })
    .from(clearingSettlementAddresses)
    .where(
      and(
        inArray(clearingSettlementAddresses.platformId, [...new Set(platformIds)]),
        eq(clearingSettlementAddresses.status, 'active'),
      ),
    );
  return new Set(rows.map((r) => `${r.platformId} ${r.address}`));
}

async function adopt(
  deps: PayOutDeps,
  tx: Orm,
  caller: Caller,
  stored: PayOutTransactionRow,
  adopted: {
    mined: ParsedTransaction;
    raw: Uint8Array;
    inBlock: { hash: string; height: number } | null;
    fee: bigint;
    outputs: Output[];
    kept: Kept | null;
  },
): Promise<void> {
  const { mined, inBlock, fee, outputs, kept } = adopted;
  const signing = stored.replacedOutputs[mined.txid] ?? null;
  const replacedOutputs = { ...stored.replacedOutputs };
  delete replacedOutputs[mined.txid];
  if (stored.signedOutputs) replacedOutputs[stored.txid] = stored.signedOutputs;
  const now = deps.ctx.clock.now();
  const feeRate = mined.vsize > 0 ? (fee * 1000n) / BigInt(mined.vsize) : 0n;
  await tx
    .update(clearingPayOutTransactions)
    .set({
      txid: mined.txid,
      raw: toHex(adopted.raw),
      feeSats: fee,
      feeRateSatPerKvB: feeRate,
      status: 'broadcast',
      heldCode: null,
      attempts: 0,
      lastError: null,
      nextAttemptAt: null,
      blockHash: inBlock?.hash ?? null,
      blockHeight: inBlock?.height ?? null,
      broadcastAt: now,
      confirmedAt: null,
      replacedTxids: [...stored.replacedTxids.filter((t) => t !== mined.txid), stored.txid],
      minedTxid: null,
      minedBlockHash: null,
      minedBlockHeight: null,
      changeVout: kept?.vout ?? null,
      changeSats: kept?.sats ?? null,
      changeIndex: kept?.index ?? null,
      signedOutputs: signing,
      replacedOutputs,
    })
    .where(
      and(
        eq(clearingPayOutTransactions.windowId, stored.windowId),
        eq(clearingPayOutTransactions.seq, stored.seq),
      ),
    );
  for (const o of outputs)
    await tx
      .update(clearingPayOuts)
      .set({
        status: 'broadcast',
        heldCode: null,
        address: o.address,
        txid: mined.txid,
        vout: o.vout,
        feeSats: o.share,
        paidSats: o.paid,
      })
      .where(eq(clearingPayOuts.id, o.payOut.id));
  // The stored one's fee entry reversed: the books show the fee of the one on the chain.
  const feeReversed = await postFeeEntry(
    tx,
    stored.windowId,
    mined.txid,
    outputs.map((o) => ({ platformId: o.payOut.platformId, share: o.share })),
    now,
    stored.seq,
  );
  await deps.ctx.audit.record(caller, {
    action: SETTLEMENT_PAY_OUT_EVENTS.adopted,
    entityType: 'settlement_window',
    entityId: stored.windowId,
    before: { status: stored.status, code: stored.heldCode, txid: stored.txid },
    after: {
      status: 'broadcast',
      txid: mined.txid,
      replacedTxid: stored.txid,
      blockHash: inBlock?.hash ?? null,
      height: inBlock?.height ?? null,
      feeSats: fee.toString(),
      feeReversed,
      outputs: outputs.map((o) => ({
        payOutId: o.payOut.id,
        platformId: o.payOut.platformId,
        address: o.address,
        vout: o.vout,
        feeSats: o.share.toString(),
        paidSats: o.paid.toString(),
      })),
    },
  });
}
