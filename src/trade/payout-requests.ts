import { earlierCreation, idempotencyKeyOf, isKeyRace, type IdempotencyKey } from './idempotency';
import { eq } from 'drizzle-orm';
import type { Orm } from '../db';
import { parseAddress, type AddressType } from '../bitcoin';
import { fiatValue } from '../ledger';
import {
  AppError,
  countsAsPerson,
  currency as parseCurrency,
  fiatToSats,
  formatRate,
  invalid,
  newId,
  systemCaller,
  type Caller,
} from '../kernel';
import { transitionPayout, type GateCheck } from './lifecycle';
import type { TransferFacts } from './ports';
import { refusedIfBlocked } from './input-refusal';
import { announce } from './outbox';
import { heldError, type PayoutContext } from './payout-context';
import {
  gateView,
  payoutPayload,
  payoutView,
  type PayoutInput,
  type PayoutView,
} from './payout-views';
import { tradePayoutApprovals, tradePayouts } from './schema';
import { loadSettings, requiredApprovals } from './settings';

/**
 * The dust limit of an output by type: Bitcoin Core's defaults (policy.cpp GetDustThreshold at the
 * default dust relay fee of 3 sat/vB). An output below it is not relayed, so a batch carrying one
 * could never be broadcast.
 */
export const DUST_LIMIT_SATS: Readonly<Record<AddressType, bigint>> = {
  p2pkh: 546n,
  p2sh: 540n,
  p2wpkh: 294n,
  p2wsh: 330n,
  p2tr: 330n,
};

/** Requests: a payout asked for, reviewed, approved by distinct people, or cancelled. */
/** TRANSFER_BLOCKED for a payout the gate refused at request (kept as cancelled). */
const refusedIfCancelled = (payout: PayoutView): PayoutView =>
  refusedIfBlocked('payout', payout, payout.gate.outcome === 'block' ? payout.gate : null);

/**
 * Requests a payout; with an idempotency key, a retry of the same request answers the payout the
 * first one created (`replayed`) and writes nothing again: no second gate decision or
 * reservation (see idempotency.ts).
 */
export async function createPayout(
  ctx: PayoutContext,
  caller: Caller,
  input: PayoutInput,
  idempotencyKey?: string,
): Promise<{ payout: PayoutView; replayed: boolean }> {
  // The maker is one of maker-checker's two persons: a named person, never the operator channel.
  if (!countsAsPerson(caller))
    throw new AppError(
      'FORBIDDEN',
      'a payout is requested by a named person (maker-checker); the operator channel is not one',
    );
  if (caller.role !== 'company' && caller.role !== 'platform') {
    throw new AppError('FORBIDDEN', 'payouts are requested by the company or its platform');
  }
  const { db } = ctx.ports;
  const idempotency = idempotencyKeyOf(idempotencyKey, input);
  const replay = async () => {
    if (!idempotency) return null;
    const id = await earlierCreation(db.orm, tradePayouts, caller, idempotency, 'payout');
    return id ? { payout: refusedIfCancelled(await payoutView(db.orm, id)), replayed: true } : null;
  };
  const earlier = await replay();
  if (earlier) return earlier;
  let created: PayoutView;
  try {
    created = await requestPayout(ctx, caller, input, idempotency);
  } catch (error) {
    // Two requests with one key at once: the one that lost the race answers the winner's payout.
    const winner = isKeyRace(error, 'trade_payouts_idempotency_uq') ? await replay() : null;
    if (winner) return winner;
    await ctx.ports.gate.recordRefusedAttempt(db, caller, error);
    throw error;
  }
  return { payout: refusedIfCancelled(created), replayed: false };
}

async function requestPayout(
  ctx: PayoutContext,
  caller: Caller,
  input: PayoutInput,
  idempotency: IdempotencyKey | null,
): Promise<PayoutView> {
  const { db, clock, random, network, contracts, rates, gate } = ctx.ports;
  const parsed = parseAddress(input.address, network);
  const address = parsed.canonical;
  return db.transaction(async (tx) => {
    const { contract, fixedBtc, contractAmount, reservation } = await contracts.reserveForPayment(
      tx,
      caller,
      input.contractId,
      input.amount,
      'import',
    );
    const rate = await rates.current(contract.currency);
    const inSats = (amount: bigint) =>
      fixedBtc || amount <= 0n
        ? amount
        : fiatToSats(
            { minor: amount, currency: parseCurrency(contract.currency) },
            rate.rate,
            'down',
          );
    const now = clock.now();
    const id = newId('payout', now, random);
    const amountSats = fixedBtc
      ? contractAmount
      : fiatToSats(
          { minor: contractAmount, currency: parseCurrency(contract.currency) },
          rate.rate,
          'up',
        );
    const dust = DUST_LIMIT_SATS[parsed.type];
    if (amountSats < dust) {
      throw invalid(
        'amount',
        `${amountSats} sats is below the dust limit of a ${parsed.type} output (${dust} sats); such an output is not relayed`,
      );
    }
    const fiatMinor = fixedBtc ? fiatValue(amountSats, rate.rate) : contractAmount;
    const facts: TransferFacts = {
      transferId: id,
      occurredAt: now,
      rate: formatRate(rate.rate),
      openAmountSats: inSats(reservation.open),
      toleranceSats: inSats(reservation.tolerance),
      travelRule: input.travelRule ?? null,
      direction: 'outbound',
      platformId: contract.platformId,
      companyId: contract.companyId,
      counterpartyId: contract.counterpartyId,
      contractId: contract.id,
      address,
      amountSats,
      fiatMinor,
      currency: contract.currency,
    };
    // What the caller can mend is refused before anything is written (the reservation rolls
    // back with the transaction); anything else is decided, and recorded, as ever.
    const refusal = await gate.refusalBeforeCreation(caller, facts);
    if (refusal) throw refusal;
    const decision = await gate.decide(caller, facts);
    const settings = await loadSettings(tx, contract.platformId);
    await tx.insert(tradePayouts).values({
      id,
      platformId: contract.platformId,
      companyId: contract.companyId,
      contractId: contract.id,
      counterpartyId: contract.counterpartyId,
      address,
      amountSats,
      contractAmount,
      fiatMinor,
      currency: contract.currency,
      rateId: rate.id,
      // Allowed: maker-checker next. Review: waits for a compliance officer. Block: cancelled
      // at once, kept with its reasons (the decision is stored, not rolled back).
      status:
        decision.outcome === 'allow'
          ? 'awaitingApproval'
          : decision.outcome === 'review'
            ? 'awaitingReview'
            : 'cancelled',
      requiredApprovals: requiredApprovals(settings, amountSats),
      gateDecision: { ...decision, resolution: null },
      memo: input.memo ?? '',
      travelRule: input.travelRule ?? null,
      idempotencyKey: idempotency?.key ?? null,
      requestFingerprint: idempotency?.fingerprint ?? null,
      createdBy: caller.actorId,
      createdByPerson: caller.personId,
      createdAt: now,
      updatedAt: now,
    });
    const view = await payoutView(tx, id);
    await ctx.audit.record(caller, {
      action: 'payout.created',
      entityType: 'payout',
      entityId: id,
      after: view,
    });
    const payload = await payoutPayload(tx, id);
    await announce(tx, ctx.ports, view.platformId, 'payout.created', id, payload);
    if (decision.outcome === 'block')
      await announce(tx, ctx.ports, view.platformId, 'payout.cancelled', id, payload);
    return view;
  });
}

/**
 * Payouts the gate sent to review, once a compliance officer resolved the decision: allowed
 * ones go on to maker-checker approval, blocked ones are cancelled (the resolution is kept with
 * the gate decision). Until then they are never approved nor batched. Trade hears of each
 * resolution as an event (`applyPayoutReview`); the tick's sweep catches any it has not heard.
 */
export async function applyReviews(
  ctx: PayoutContext,
): Promise<{ released: string[]; cancelled: string[] }> {
  const { db } = ctx.ports;
  const released: string[] = [];
  const cancelled: string[] = [];
  const waiting = await db.orm
    .select({ id: tradePayouts.id })
    .from(tradePayouts)
    .where(eq(tradePayouts.status, 'awaitingReview'));
  for (const { id } of waiting) {
    const resolution = await db.transaction((tx) => applyPayoutReview(ctx, tx, id));
    if (resolution) (resolution === 'allow' ? released : cancelled).push(id);
  }
  return { released, cancelled };
}

/**
 * Carries an officer's resolution to one payout in review, inside `tx`: the resolution applied,
 * or null when the payout is not waiting for review or its decision is not resolved yet.
 */
export async function applyPayoutReview(
  ctx: PayoutContext,
  tx: Orm,
  id: string,
): Promise<'allow' | 'block' | null> {
  const [row] = await tx.select().from(tradePayouts).where(eq(tradePayouts.id, id)).for('update');
  if (row?.status !== 'awaitingReview') return null;
  const gateDecision = gateView(row.gateDecision);
  const resolution = gateDecision.decisionId
    ? await ctx.ports.gate.resolution(gateDecision.decisionId)
    : null;
  if (resolution === null) return null;
  await transitionPayout(
    ctx.transitions,
    tx,
    systemCaller('trade.reviews'),
    row,
    resolution === 'allow' ? 'reviewAllowed' : 'reviewBlocked',
    {
      patch: { gateDecision: { ...gateDecision, resolution } },
      audit: { decisionId: gateDecision.decisionId },
    },
  );
  return resolution;
}

/**
 * An officer's approval (maker-checker). People are counted, not credentials: the maker
 * (`createdByPerson`) never approves, through any credential; each person approves once; the
 * operator channel is no person and approves nothing. The
 * gate is decided again first: a payout that no longer passes is held, and the officer told so.
 */
export async function approvePayout(
  ctx: PayoutContext,
  caller: Caller,
  id: string,
): Promise<PayoutView> {
  // The checker is a named person, never the operator channel (kernel `countsAsPerson`): refused
  // before anything of the payout is read or said.
  if (!countsAsPerson(caller))
    throw new AppError(
      'FORBIDDEN',
      'a payout is approved by named officers (maker-checker); the operator channel is not one',
    );
  const { db, clock } = ctx.ports;
  const outcome = await db.transaction(async (tx) => {
    const row = await ctx.lock(tx, caller, id);
    if (caller.role !== 'platform' || caller.participantId !== row.platformId) {
      throw new AppError('FORBIDDEN', "payouts are approved by officers of the company's platform");
    }
    if (row.status !== 'awaitingApproval') {
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `payout ${id} is ${row.status}, not awaitingApproval`,
      );
    }
    if (caller.personId === row.createdByPerson || caller.actorId === row.createdBy) {
      throw new AppError(
        'SELF_APPROVAL',
        `the maker of payout ${id} cannot approve it, with any credential; another officer must`,
      );
    }
    const [already] = await tx
      .select({ personId: tradePayoutApprovals.personId })
      .from(tradePayoutApprovals)
      .where(eq(tradePayoutApprovals.payoutId, id))
      .then((rows) => rows.filter((r) => r.personId === caller.personId));
    if (already) {
      throw new AppError(
        'CONFLICT',
        `${caller.personId} has already approved payout ${id} (each person counts once, whatever the credential)`,
      );
    }
    const check = await ctx.check(caller, row, 'approval');
    if (check.outcome !== 'allow') {
      await transitionPayout(ctx.transitions, tx, caller, row, 'approved', { checked: check });
      return { held: check };
    }
    await tx.insert(tradePayoutApprovals).values({
      payoutId: id,
      actorId: caller.actorId,
      personId: caller.personId,
      participantId: caller.participantId,
      at: clock.now(),
    });
    const approvals = await tx
      .select({ personId: tradePayoutApprovals.personId })
      .from(tradePayoutApprovals)
      .where(eq(tradePayoutApprovals.payoutId, id));
    const people = new Set(approvals.map((a) => a.personId));
    const reached = people.size >= row.requiredApprovals;
    await transitionPayout(
      ctx.transitions,
      tx,
      caller,
      row,
      reached ? 'approved' : 'approvalRecorded',
      {
        checked: check,
        ...(reached ? { patch: { approvedAt: clock.now() } } : {}),
        audit: { approvals: people.size, required: row.requiredApprovals },
      },
    );
    return { held: null as GateCheck | null };
  });
  if (outcome.held) throw heldError(id, outcome.held);
  return payoutView(db.orm, id);
}

export async function cancelPayout(
  ctx: PayoutContext,
  caller: Caller,
  id: string,
): Promise<PayoutView> {
  const { db } = ctx.ports;
  return db.transaction(async (tx) => {
    const row = await ctx.lock(tx, caller, id);
    if (caller.role === 'auditor') throw new AppError('FORBIDDEN', 'the auditor reads only');
    if (row.batchId !== null) {
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `payout ${id} is ${row.status} in batch ${row.batchId} and can no longer be cancelled`,
      );
    }
    await transitionPayout(ctx.transitions, tx, caller, row, 'cancelled');
    return payoutView(tx, id);
  });
}
