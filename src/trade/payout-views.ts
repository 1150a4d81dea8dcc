import { and, asc, eq, inArray } from 'drizzle-orm';
import { keyset, pageOf, scopeTo, type Orm, type Page, type PageRequest } from '../db';
import { AppError, formatBtc, groupBy, type Caller } from '../kernel';
import type { GateCheck, PayoutStatus } from './lifecycle';
import type { GateDecision } from './ports';
import { tradeBatches, tradePayoutApprovals, tradePayouts } from './schema';

export interface PayoutInput {
  readonly contractId: string;
  /** For a fixedBtc contract: sats. For a fiat contract: a decimal in the contract currency. */
  readonly amount: string;
  /** The counterparty's address. */
  readonly address: string;
  readonly memo?: string;
  /** IVMS101 originator and beneficiary data (the Travel Rule), checked by the policy gate. */
  readonly travelRule?: unknown;
}

export interface PayoutView {
  readonly id: string;
  readonly platformId: string;
  readonly companyId: string;
  readonly contractId: string;
  readonly counterpartyId: string;
  readonly address: string;
  readonly amountSats: bigint;
  readonly amountBtc: string;
  readonly fiatMinor: bigint;
  readonly currency: string;
  readonly rateId: string;
  readonly status: PayoutStatus;
  readonly requiredApprovals: number;
  /** One per person (personId), with the credential used (actorId). */
  readonly approvals: readonly { actorId: string; personId: string; at: Date }[];
  readonly batchId: string | null;
  readonly txid: string | null;
  readonly vout: number | null;
  readonly feeShareSats: bigint;
  readonly memo: string;
  readonly createdBy: string;
  /** The maker as a person: never an approver. */
  readonly createdByPerson: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly settlementId: string | null;
  /**
   * The policy gate's decision on the payout (every payout passes it at creation): `review`
   * keeps it awaitingReview until a compliance officer resolves it (`resolution`); `block`
   * cancels it. The reasons are kept for the company, its platform and the supervisor.
   */
  readonly gate: PayoutGateView;
  /**
   * Why a payout is held (status held): the later step whose gate check did not allow it, with
   * the decision (its id is the reference) and reasons.
   */
  readonly hold: GateCheck | null;
  /** The IVMS101 (Travel Rule) data supplied with the payout, or null. */
  readonly travelRule: unknown;
  /**
   * The last refusal at batching by the cleared-origin rule (`ORIGIN_NOT_CLEARED`): its rule
   * version, the batcher's own message (it may name the coins and lots: for officers, not the
   * company) and when; null when none.
   */
  readonly originRefusal: OriginRefusalView | null;
}

export interface OriginRefusalView {
  readonly code: 'ORIGIN_NOT_CLEARED';
  readonly rule: string | null;
  readonly message: string;
  readonly at: Date;
}

/** The stored refusal (payout-batcher's `recordOriginRefusal`), read defensively. */
export function originRefusalView(stored: unknown): OriginRefusalView | null {
  if (!stored || typeof stored !== 'object') return null;
  const r = stored as { rule?: unknown; reason?: unknown; at?: unknown };
  const at = typeof r.at === 'string' ? new Date(r.at) : null;
  return {
    code: 'ORIGIN_NOT_CLEARED',
    rule: typeof r.rule === 'string' ? r.rule : null,
    message: typeof r.reason === 'string' ? r.reason : '',
    at: at && !Number.isNaN(at.getTime()) ? at : new Date(0),
  };
}

export interface PayoutGateView extends GateDecision {
  /** The officer's resolution of a review (null while waiting, or when there was no review). */
  readonly resolution: 'allow' | 'block' | null;
}

export interface BatchView {
  readonly id: string;
  readonly platformId: string;
  readonly status: string;
  readonly txid: string | null;
  readonly replacedTxids: readonly string[];
  readonly feeSats: bigint;
  readonly feeRateSatPerKvB: bigint;
  readonly vsize: number;
  readonly psbt: string;
  readonly payoutIds: readonly string[];
  readonly confirmedHeight: number | null;
  readonly broadcastAttempts: number;
  readonly lastBroadcastError: string | null;
}

export type PayoutRow = typeof tradePayouts.$inferSelect;
export type BatchRow = typeof tradeBatches.$inferSelect;

/** The stored gate decision, read defensively (rows written before decisionId was kept lack it). */
export function gateView(stored: unknown): PayoutGateView {
  const g = (stored ?? {}) as Partial<Record<keyof PayoutGateView, unknown>>;
  const outcome = g.outcome === 'block' || g.outcome === 'review' ? g.outcome : 'allow';
  return {
    outcome,
    reasons: Array.isArray(g.reasons) ? g.reasons.map(String) : [],
    decidedBy: typeof g.decidedBy === 'string' ? g.decidedBy : '',
    decisionId: typeof g.decisionId === 'string' ? g.decisionId : null,
    resolution: g.resolution === 'allow' || g.resolution === 'block' ? g.resolution : null,
  };
}

const STEPS = ['approval', 'batching', 'signing', 'broadcast', 'release'] as const;

/** The stored hold, read defensively. */
export function holdView(stored: unknown): GateCheck | null {
  if (stored === null || typeof stored !== 'object') return null;
  const h = stored as Partial<Record<keyof GateCheck, unknown>>;
  return {
    step: STEPS.find((s) => s === h.step) ?? 'approval',
    outcome: h.outcome === 'block' ? 'block' : 'review',
    reasons: Array.isArray(h.reasons) ? h.reasons.map(String) : [],
    decidedBy: typeof h.decidedBy === 'string' ? h.decidedBy : '',
    decisionId: typeof h.decisionId === 'string' ? h.decisionId : null,
    at: typeof h.at === 'string' ? h.at : '',
  };
}

export async function payoutView(orm: Orm, id: string): Promise<PayoutView> {
  const [row] = await orm.select().from(tradePayouts).where(eq(tradePayouts.id, id));
  if (!row) throw new AppError('PAYOUT_NOT_FOUND', `no payout ${id}`);
  const [view] = await payoutViews(orm, [row]);
  return view!;
}

/** The views of payout rows: three queries however many rows (approvals, then batch txids). */
async function payoutViews(orm: Orm, rows: readonly PayoutRow[]): Promise<PayoutView[]> {
  if (rows.length === 0) return [];
  const approvals = groupBy(
    await orm
      .select()
      .from(tradePayoutApprovals)
      .where(
        inArray(
          tradePayoutApprovals.payoutId,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(tradePayoutApprovals.at)),
    (a) => a.payoutId,
  );
  const batchIds = [...new Set(rows.flatMap((r) => (r.batchId ? [r.batchId] : [])))];
  const batches = new Map(
    batchIds.length === 0
      ? []
      : (
          await orm
            .select({
              id: tradeBatches.id,
              txid: tradeBatches.txid,
              confirmedTxid: tradeBatches.confirmedTxid,
            })
            .from(tradeBatches)
            .where(inArray(tradeBatches.id, batchIds))
        ).map((b) => [b.id, b.confirmedTxid ?? b.txid ?? null]),
  );
  return rows.map((row) => viewOf(row, approvals.get(row.id) ?? [], batches));
}

function viewOf(
  row: PayoutRow,
  approvals: readonly (typeof tradePayoutApprovals.$inferSelect)[],
  txids: ReadonlyMap<string, string | null>,
): PayoutView {
  const txid = row.batchId ? (txids.get(row.batchId) ?? null) : null;
  return {
    id: row.id,
    platformId: row.platformId,
    companyId: row.companyId,
    contractId: row.contractId,
    counterpartyId: row.counterpartyId,
    address: row.address,
    amountSats: row.amountSats,
    amountBtc: formatBtc(row.amountSats),
    fiatMinor: row.fiatMinor,
    currency: row.currency,
    rateId: row.rateId,
    status: row.status as PayoutStatus,
    requiredApprovals: row.requiredApprovals,
    approvals: approvals.map((a) => ({ actorId: a.actorId, personId: a.personId, at: a.at })),
    batchId: row.batchId,
    txid,
    vout: row.vout,
    feeShareSats: row.feeShareSats,
    memo: row.memo,
    createdBy: row.createdBy,
    createdByPerson: row.createdByPerson,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    settlementId: row.settlementId,
    gate: gateView(row.gateDecision),
    hold: holdView(row.hold),
    travelRule: row.travelRule ?? null,
    originRefusal: originRefusalView(row.originRefusal),
  };
}

/** What a payout's webhook carries. */
export async function payoutPayload(orm: Orm, id: string): Promise<Record<string, unknown>> {
  const view = await payoutView(orm, id);
  return {
    payoutId: view.id,
    contractId: view.contractId,
    status: view.status,
    amountSats: view.amountSats,
    txid: view.txid,
    vout: view.vout,
    // A reference only: the reasons are for officers (no tipping-off through webhooks).
    ...(view.status === 'held' ? { reference: view.hold?.decisionId ?? null } : {}),
  };
}

export async function batchView(orm: Orm, row: BatchRow): Promise<BatchView> {
  const [view] = await batchViews(orm, [row]);
  return view!;
}

/** The views of batch rows, their payouts read in one query for all. */
async function batchViews(orm: Orm, rows: readonly BatchRow[]): Promise<BatchView[]> {
  if (rows.length === 0) return [];
  const payouts = groupBy(
    await orm
      .select({ id: tradePayouts.id, batchId: tradePayouts.batchId })
      .from(tradePayouts)
      .where(
        inArray(
          tradePayouts.batchId,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(tradePayouts.vout)),
    (p) => p.batchId,
  );
  // An abandoned batch's payouts left it (held or queued again): its history is in the audit log.
  return rows.map((row) => ({
    id: row.id,
    platformId: row.platformId,
    status: row.status,
    txid: row.txid,
    replacedTxids: Array.isArray(row.replacedTxids) ? (row.replacedTxids as string[]) : [],
    feeSats: row.feeSats,
    feeRateSatPerKvB: row.feeRateSatPerKvB,
    vsize: row.vsize,
    psbt: row.psbt,
    payoutIds: (payouts.get(row.id) ?? []).map((p) => p.id),
    confirmedHeight: row.confirmedHeight,
    broadcastAttempts: row.broadcastAttempts,
    lastBroadcastError: row.lastBroadcastError,
  }));
}

const payoutScope = (caller: Caller) =>
  scopeTo(caller, { participant: tradePayouts.companyId, platform: tradePayouts.platformId });

export async function getPayout(orm: Orm, caller: Caller, id: string): Promise<PayoutView> {
  const [row] = await orm
    .select({ id: tradePayouts.id })
    .from(tradePayouts)
    .where(and(eq(tradePayouts.id, id), payoutScope(caller)));
  if (!row) throw new AppError('PAYOUT_NOT_FOUND', `no payout ${id} visible to you`);
  return payoutView(orm, id);
}

/** A page of the payouts visible to the caller, newest first (keyset on created_at, id). */
export async function listPayouts(
  orm: Orm,
  caller: Caller,
  filter: { status?: PayoutStatus } = {},
  page: PageRequest = {},
): Promise<Page<PayoutView>> {
  const { after, orderBy, read, limit } = keyset(tradePayouts, page);
  const rows = await orm
    .select()
    .from(tradePayouts)
    .where(
      and(
        payoutScope(caller),
        filter.status ? eq(tradePayouts.status, filter.status) : undefined,
        after,
      ),
    )
    .orderBy(...orderBy)
    .limit(read);
  return pageOf(rows, limit, (shown) => payoutViews(orm, shown));
}

export async function getBatch(orm: Orm, caller: Caller, id: string): Promise<BatchView> {
  const [row] = await orm
    .select()
    .from(tradeBatches)
    .where(and(eq(tradeBatches.id, id), scopeTo(caller, { platform: tradeBatches.platformId })));
  if (!row) throw new AppError('NOT_FOUND', `no payout batch ${id} visible to you`);
  return batchView(orm, row);
}

/** A page of the payout batches visible to the caller, newest first (keyset on created_at, id). */
export async function listBatches(
  orm: Orm,
  caller: Caller,
  page: PageRequest = {},
): Promise<Page<BatchView>> {
  const { after, orderBy, read, limit } = keyset(tradeBatches, page);
  const rows = await orm
    .select()
    .from(tradeBatches)
    .where(and(scopeTo(caller, { platform: tradeBatches.platformId }), after))
    .orderBy(...orderBy)
    .limit(read);
  return pageOf(rows, limit, (shown) => batchViews(orm, shown));
}
