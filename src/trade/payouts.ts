import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { Transaction } from '@scure/btc-signer';
import { recordAudit } from '../audit';
import {
  addressFromScript,
  createPsbt,
  extractTransaction,
  finalizePsbt,
  parseAddress,
  type PsbtInputSpec,
  type PsbtOutputSpec,
} from '../bitcoin';
import type { ChainSource } from '../chain';
import { scopeTo, type Database, type Orm } from '../db';
import { fiatValue, type LedgerService, type RateService } from '../ledger';
import {
  AppError,
  currency as parseCurrency,
  fiatToSats,
  formatBtc,
  formatRate,
  newId,
  sats,
  systemCaller,
  type Caller,
  type Clock,
  type NetworkName,
  type Random,
} from '../kernel';
import type { ChainBlock } from './chain';
import { selectCoins, type CoinSelection } from './coinselection';
import type { ContractService } from './contracts';
import { enqueueWebhook, type WebhookEvent } from './outbox';
import type { CompanyWallets, GateDecision, TransferGate } from './ports';
import {
  tradeBatches,
  tradePayoutApprovals,
  tradePayouts,
  tradeSettlements,
  tradeWalletUtxos,
} from './schema';
import { clampFeeRate, loadSettings, requiredApprovals, saveSettings } from './settings';
import type { SignerProvider } from './signer';

export const PAYOUT_STATUSES = [
  'awaitingReview',
  'awaitingApproval',
  'awaitingPayment',
  'inProgress',
  'completed',
  'cancelled',
] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/** BIP125: inputs with nSequence below 0xfffffffe make the batch replaceable, for fee bumps. */
const RBF_SEQUENCE = 0xfffffffd;
const P2WPKH_INPUT_VBYTES = 68;

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
  readonly approvals: readonly { actorId: string; at: Date }[];
  readonly batchId: string | null;
  readonly txid: string | null;
  readonly vout: number | null;
  readonly feeShareSats: bigint;
  readonly memo: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly settlementId: string | null;
  /**
   * The policy gate's decision on the payout (every payout passes it at creation): `review`
   * keeps it awaitingReview until a compliance officer resolves it (`resolution`); `block`
   * cancels it. The reasons are kept for the company, its platform and the supervisor.
   */
  readonly gate: PayoutGateView;
  /** The IVMS101 (Travel Rule) data supplied with the payout, or null. */
  readonly travelRule: unknown;
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

/** Splits a fee over payouts in proportion to their amounts; the rounding remainder goes to the first. */
export function splitFee(fee: bigint, amounts: readonly bigint[]): bigint[] {
  const total = amounts.reduce((s, a) => s + a, 0n);
  if (amounts.length === 0 || total <= 0n) return amounts.map(() => 0n);
  const shares = amounts.map((a) => (fee * a) / total);
  const remainder = fee - shares.reduce((s, x) => s + x, 0n);
  shares[0] = (shares[0] ?? 0n) + remainder;
  return shares;
}

type PayoutRow = typeof tradePayouts.$inferSelect;

/** The stored gate decision, read defensively (rows written before decisionId was kept lack it). */
function gateView(stored: unknown): PayoutGateView {
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
type BatchRow = typeof tradeBatches.$inferSelect;
type CoinRow = typeof tradeWalletUtxos.$inferSelect;

/**
 * Payouts for the import side: maker-checker approval by a quorum of the platform's officers,
 * batching per platform into one transaction per run, coin selection over the company's coins
 * (Core's BnB / CoinGrinder / knapsack / SRD by waste), signing through the platform's Signer,
 * broadcast through the ChainSource. Crash safety: the signed transaction and the batch state are
 * committed before the broadcast; `resume` re-broadcasts the stored transaction and never builds
 * a second one for the same payouts.
 */
export class PayoutService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #network: NetworkName;
  readonly #chain: ChainSource | null;
  readonly #contracts: ContractService;
  readonly #wallets: CompanyWallets;
  readonly #rates: RateService;
  readonly #ledger: LedgerService;
  readonly #gate: TransferGate;
  readonly #signers: SignerProvider;

  constructor(ports: {
    db: Database;
    clock: Clock;
    random: Random;
    network: NetworkName;
    chain: ChainSource | null;
    contracts: ContractService;
    wallets: CompanyWallets;
    rates: RateService;
    ledger: LedgerService;
    gate: TransferGate;
    signers: SignerProvider;
  }) {
    this.#db = ports.db;
    this.#clock = ports.clock;
    this.#random = ports.random;
    this.#network = ports.network;
    this.#chain = ports.chain;
    this.#contracts = ports.contracts;
    this.#wallets = ports.wallets;
    this.#rates = ports.rates;
    this.#ledger = ports.ledger;
    this.#gate = ports.gate;
    this.#signers = ports.signers;
  }

  async create(caller: Caller, input: PayoutInput): Promise<PayoutView> {
    if (caller.role !== 'company' && caller.role !== 'platform') {
      throw new AppError('FORBIDDEN', 'payouts are requested by the company or its platform');
    }
    const address = parseAddress(input.address, this.#network).canonical;
    const created = await this.#db.transaction(async (tx) => {
      const { contract, fixedBtc, contractAmount, reservation } =
        await this.#contracts.reserveForPayment(
          tx,
          caller,
          input.contractId,
          input.amount,
          'import',
        );
      const rate = await this.#rates.current(contract.currency, tx);
      const inSats = (amount: bigint) =>
        fixedBtc || amount <= 0n
          ? amount
          : fiatToSats(
              { minor: amount, currency: parseCurrency(contract.currency) },
              rate.rate,
              'down',
            );
      const now = this.#clock.now();
      const id = newId('payout', now, this.#random);
      const amountSats = fixedBtc
        ? contractAmount
        : fiatToSats(
            { minor: contractAmount, currency: parseCurrency(contract.currency) },
            rate.rate,
            'up',
          );
      const fiatMinor = fixedBtc ? fiatValue(amountSats, rate.rate) : contractAmount;
      const decision = await this.#gate.decide(tx, caller, {
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
      });
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
        createdBy: caller.actorId,
        createdAt: now,
        updatedAt: now,
      });
      const view = await this.#view(tx, id);
      await recordAudit(tx, caller, this.#clock, {
        action: 'payout.created',
        entityType: 'payout',
        entityId: id,
        after: view,
      });
      await this.#event(tx, view, 'payout.created');
      if (decision.outcome === 'block') await this.#event(tx, view, 'payout.cancelled');
      return view;
    });
    if (created.gate.outcome === 'block') {
      throw new AppError(
        'TRANSFER_BLOCKED',
        `the policy gate blocked payout ${created.id} (kept as cancelled): ${created.gate.reasons.join('; ')}`,
        {
          details: {
            payoutId: created.id,
            outcome: created.gate.outcome,
            reasons: [...created.gate.reasons],
            decidedBy: created.gate.decidedBy,
          },
        },
      );
    }
    return created;
  }

  /**
   * Payouts the gate sent to review, once a compliance officer resolved the decision: allowed
   * ones go on to maker-checker approval, blocked ones are cancelled (the resolution is kept with
   * the gate decision). Until then they are never approved nor batched. Run from tick.
   */
  async applyReviews(): Promise<{ released: string[]; cancelled: string[] }> {
    const released: string[] = [];
    const cancelled: string[] = [];
    const waiting = await this.#db.orm
      .select({ id: tradePayouts.id })
      .from(tradePayouts)
      .where(eq(tradePayouts.status, 'awaitingReview'));
    const caller = systemCaller('trade.reviews');
    for (const { id } of waiting) {
      await this.#db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(tradePayouts)
          .where(eq(tradePayouts.id, id))
          .for('update');
        if (row?.status !== 'awaitingReview') return;
        const gate = gateView(row.gateDecision);
        const resolution = gate.decisionId
          ? await this.#gate.resolution(tx, gate.decisionId)
          : null;
        if (resolution === null) return;
        const status = resolution === 'allow' ? 'awaitingApproval' : 'cancelled';
        await tx
          .update(tradePayouts)
          .set({
            status,
            gateDecision: { ...gate, resolution },
            updatedAt: this.#clock.now(),
          })
          .where(eq(tradePayouts.id, id));
        await recordAudit(tx, caller, this.#clock, {
          action: resolution === 'allow' ? 'payout.reviewAllowed' : 'payout.reviewBlocked',
          entityType: 'payout',
          entityId: id,
          before: { status: row.status },
          after: { status, decisionId: gate.decisionId },
        });
        if (status === 'cancelled')
          await this.#event(tx, await this.#view(tx, id), 'payout.cancelled');
        (resolution === 'allow' ? released : cancelled).push(id);
      });
    }
    return { released, cancelled };
  }

  /** An officer's approval (maker-checker): never the maker, each officer once; the quorum moves it on. */
  async approve(caller: Caller, id: string): Promise<PayoutView> {
    return this.#db.transaction(async (tx) => {
      const row = await this.#lock(tx, caller, id);
      if (caller.role !== 'platform' || caller.participantId !== row.platformId) {
        throw new AppError(
          'FORBIDDEN',
          "payouts are approved by officers of the company's platform",
        );
      }
      if (row.status !== 'awaitingApproval') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `payout ${id} is ${row.status}, not awaitingApproval`,
        );
      }
      if (caller.actorId === row.createdBy) {
        throw new AppError(
          'SELF_APPROVAL',
          `the maker of payout ${id} cannot approve it; another officer must`,
        );
      }
      const inserted = await tx
        .insert(tradePayoutApprovals)
        .values({
          payoutId: id,
          actorId: caller.actorId,
          participantId: caller.participantId,
          at: this.#clock.now(),
        })
        .onConflictDoNothing()
        .returning({ actorId: tradePayoutApprovals.actorId });
      if (inserted.length === 0)
        throw new AppError(
          'CONFLICT',
          `officer ${caller.actorId} has already approved payout ${id}`,
        );
      const approvals = await tx
        .select()
        .from(tradePayoutApprovals)
        .where(eq(tradePayoutApprovals.payoutId, id));
      const now = this.#clock.now();
      if (approvals.length >= row.requiredApprovals) {
        await tx
          .update(tradePayouts)
          .set({ status: 'awaitingPayment', approvedAt: now, updatedAt: now })
          .where(eq(tradePayouts.id, id));
      }
      const view = await this.#view(tx, id);
      await recordAudit(tx, caller, this.#clock, {
        action: view.status === 'awaitingPayment' ? 'payout.approved' : 'payout.approvalRecorded',
        entityType: 'payout',
        entityId: id,
        before: { status: row.status },
        after: {
          status: view.status,
          approvals: approvals.length,
          required: row.requiredApprovals,
        },
      });
      if (view.status === 'awaitingPayment') await this.#event(tx, view, 'payout.approved');
      return view;
    });
  }

  async cancel(caller: Caller, id: string): Promise<PayoutView> {
    return this.#db.transaction(async (tx) => {
      const row = await this.#lock(tx, caller, id);
      if (caller.role === 'auditor') throw new AppError('FORBIDDEN', 'the auditor reads only');
      if (
        (row.status !== 'awaitingReview' &&
          row.status !== 'awaitingApproval' &&
          row.status !== 'awaitingPayment') ||
        row.batchId !== null
      ) {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `payout ${id} is ${row.status}${row.batchId ? ` in batch ${row.batchId}` : ''} and can no longer be cancelled`,
        );
      }
      await tx
        .update(tradePayouts)
        .set({ status: 'cancelled', updatedAt: this.#clock.now() })
        .where(eq(tradePayouts.id, id));
      const view = await this.#view(tx, id);
      await recordAudit(tx, caller, this.#clock, {
        action: 'payout.cancelled',
        entityType: 'payout',
        entityId: id,
        before: { status: row.status },
        after: { status: 'cancelled' },
      });
      await this.#event(tx, view, 'payout.cancelled');
      return view;
    });
  }

  async get(caller: Caller, id: string): Promise<PayoutView> {
    const [row] = await this.#db.orm
      .select({ id: tradePayouts.id })
      .from(tradePayouts)
      .where(
        and(
          eq(tradePayouts.id, id),
          scopeTo(caller, {
            participant: tradePayouts.companyId,
            platform: tradePayouts.platformId,
          }),
        ),
      );
    if (!row) throw new AppError('PAYOUT_NOT_FOUND', `no payout ${id} visible to you`);
    return this.#view(this.#db.orm, id);
  }

  async list(caller: Caller, filter: { status?: PayoutStatus } = {}): Promise<PayoutView[]> {
    const rows = await this.#db.orm
      .select({ id: tradePayouts.id })
      .from(tradePayouts)
      .where(
        and(
          scopeTo(caller, {
            participant: tradePayouts.companyId,
            platform: tradePayouts.platformId,
          }),
          filter.status ? eq(tradePayouts.status, filter.status) : undefined,
        ),
      )
      .orderBy(desc(tradePayouts.createdAt))
      .limit(500);
    return Promise.all(rows.map((r) => this.#view(this.#db.orm, r.id)));
  }

  async getBatch(caller: Caller, id: string): Promise<BatchView> {
    const [row] = await this.#db.orm
      .select()
      .from(tradeBatches)
      .where(and(eq(tradeBatches.id, id), scopeTo(caller, { platform: tradeBatches.platformId })));
    if (!row) throw new AppError('NOT_FOUND', `no payout batch ${id} visible to you`);
    return this.#batchView(this.#db.orm, row);
  }

  async listBatches(caller: Caller): Promise<BatchView[]> {
    const rows = await this.#db.orm
      .select()
      .from(tradeBatches)
      .where(scopeTo(caller, { platform: tradeBatches.platformId }))
      .orderBy(desc(tradeBatches.createdAt))
      .limit(200);
    return Promise.all(rows.map((r) => this.#batchView(this.#db.orm, r)));
  }

  // ------------------------------------------------------------------ batching

  /**
   * One batch run for a platform: every approved payout not yet batched goes into ONE transaction.
   * Skipped (null) when the platform's batch window has not passed since the last run, unless
   * forced, or when nothing is waiting. Signs with the platform's local signer when it has one
   * (else the batch waits for an external signer's PSBT) and broadcasts.
   */
  async runBatch(
    caller: Caller,
    platformId: string,
    options: { force?: boolean } = {},
  ): Promise<BatchView | null> {
    if (!(
      caller.role === 'supervisor' ||
      (caller.role === 'platform' && caller.participantId === platformId)
    )) {
      throw new AppError('FORBIDDEN', 'batches are run by the platform or the system');
    }
    const chain = this.#requireChain();
    const estimate = await chain.estimateFeeRateSatPerKvB(6).catch(() => null);
    const batchId = await this.#db.transaction(async (tx) => {
      const settings = await loadSettings(tx, platformId);
      const now = this.#clock.now();
      if (
        !options.force &&
        settings.lastBatchAt &&
        now.getTime() - settings.lastBatchAt.getTime() < settings.batchWindowSeconds * 1000
      ) {
        return null;
      }
      const payouts = await tx
        .select()
        .from(tradePayouts)
        .where(
          and(
            eq(tradePayouts.platformId, platformId),
            eq(tradePayouts.status, 'awaitingPayment'),
            isNull(tradePayouts.batchId),
          ),
        )
        .orderBy(asc(tradePayouts.approvedAt), asc(tradePayouts.id))
        .for('update');
      await saveSettings(tx, platformId, {}, now).then(() =>
        tx.execute(
          sql`update trade_settings set last_batch_at = ${now.toISOString()} where platform_id = ${platformId}`,
        ),
      );
      if (payouts.length === 0) return null;
      const feeRate = clampFeeRate(estimate, settings);
      const id = newId('batch', now, this.#random);
      const inputs: PsbtInputSpec[] = [];
      let totalFee = 0n;
      let totalVsize = 0;
      const feeShares = new Map<string, bigint>();
      const byCompany = new Map<string, PayoutRow[]>();
      for (const p of payouts)
        byCompany.set(p.companyId, [...(byCompany.get(p.companyId) ?? []), p]);
      // Coin selection per company over its own coins; a company that cannot pay stays queued
      // (its payouts remain awaitingPayment) without holding back the others.
      const planned: {
        companyId: string;
        own: PayoutRow[];
        selection: CoinSelection;
        coins: CoinRow[];
      }[] = [];
      const skipped: { companyId: string; reason: string }[] = [];
      for (const [companyId, own] of byCompany) {
        const coins = await tx
          .select()
          .from(tradeWalletUtxos)
          .where(
            and(
              eq(tradeWalletUtxos.companyId, companyId),
              isNull(tradeWalletUtxos.spentByTxid),
              isNull(tradeWalletUtxos.reservedByBatch),
            ),
          )
          .orderBy(
            asc(tradeWalletUtxos.blockHeight),
            asc(tradeWalletUtxos.txid),
            asc(tradeWalletUtxos.vout),
          )
          .for('update');
        try {
          const selection = selectCoins({
            utxos: coins.map((c) => ({
              id: `${c.txid}:${c.vout}`,
              value: c.valueSats,
              inputVbytes: P2WPKH_INPUT_VBYTES,
            })),
            target: own.reduce((sum, p) => sum + p.amountSats, 0n),
            paymentOutputBytes: own.map(
              (p) => 8 + 1 + parseAddress(p.address, this.#network).scriptPubKey.length,
            ),
            feeRateSatPerKvB: feeRate,
            random: this.#random,
          });
          planned.push({ companyId, own, selection, coins });
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'INSUFFICIENT_FUNDS')) throw error;
          skipped.push({ companyId, reason: error.message });
        }
      }
      if (planned.length === 0) {
        const first = skipped[0];
        throw new AppError('INSUFFICIENT_FUNDS', first ? first.reason : 'no coins to pay with', {
          details: { skipped },
        });
      }
      const included = planned.flatMap((plan) => plan.own);
      const outputs: PsbtOutputSpec[] = included.map((p) => ({
        address: p.address,
        amount: sats(p.amountSats),
      }));
      for (const { companyId, own, selection, coins } of planned) {
        totalFee += selection.fee;
        totalVsize += selection.vsize;
        const shares = splitFee(
          selection.fee,
          own.map((p) => p.amountSats),
        );
        own.forEach((p, i) => feeShares.set(p.id, shares[i] ?? 0n));
        for (const chosen of selection.inputs) {
          const coin = coins.find((c) => `${c.txid}:${c.vout}` === chosen.id);
          if (!coin) throw new AppError('INTERNAL', `selected coin ${chosen.id} vanished`);
          const derived = await this.#wallets.walletAddressDerivation(coin.address, tx);
          inputs.push({
            txid: coin.txid,
            vout: coin.vout,
            value: sats(coin.valueSats),
            scriptPubKey: derived.scriptPubKey,
            derivations: derived.keys.map((k) => ({
              pubkey: k.pubkey,
              fingerprint: k.fingerprint,
              path: k.path,
            })),
            sequence: RBF_SEQUENCE,
          });
          await tx
            .update(tradeWalletUtxos)
            .set({ reservedByBatch: id })
            .where(and(eq(tradeWalletUtxos.txid, coin.txid), eq(tradeWalletUtxos.vout, coin.vout)));
        }
        if (selection.change !== undefined) {
          // Change goes back to the company's own wallet: the next address of its change branch.
          const change = await this.#wallets.nextChangeAddress(
            tx,
            companyId,
            `change of batch ${id}`,
          );
          outputs.push({ address: change.address, amount: sats(selection.change) });
        }
      }
      const psbt = createPsbt({ network: this.#network, inputs, outputs });
      await tx.insert(tradeBatches).values({
        id,
        platformId,
        status: 'awaitingSignature',
        psbt: Buffer.from(psbt).toString('base64'),
        feeSats: totalFee,
        feeRateSatPerKvB: feeRate,
        vsize: totalVsize,
        createdAt: now,
        updatedAt: now,
      });
      for (const [i, p] of included.entries()) {
        await tx
          .update(tradePayouts)
          .set({ batchId: id, vout: i, feeShareSats: feeShares.get(p.id) ?? 0n, updatedAt: now })
          .where(eq(tradePayouts.id, p.id));
      }
      await recordAudit(tx, caller, this.#clock, {
        action: 'batch.built',
        entityType: 'batch',
        entityId: id,
        after: {
          payouts: included.map((p) => p.id),
          skipped,
          fee: totalFee.toString(),
          feeRateSatPerKvB: feeRate.toString(),
          inputs: inputs.length,
          outputs: outputs.length,
        },
      });
      return id;
    });
    if (!batchId) return null;
    const signed = await this.#db.transaction(async (tx) => {
      const signer = await this.#signers.signerFor(tx, platformId);
      if (!signer) return null;
      const [batch] = await tx.select().from(tradeBatches).where(eq(tradeBatches.id, batchId));
      return batch ? signer.signPsbt(new Uint8Array(Buffer.from(batch.psbt, 'base64'))) : null;
    });
    if (signed) return this.submitSignedPsbt(systemCaller('trade.signer'), batchId, signed);
    return this.getBatch(caller, batchId);
  }

  /**
   * A signed PSBT for a batch (from the local signer, or an external signer through the API):
   * finalized, checked to be the batch's transaction, committed with the payouts' move to
   * inProgress and the ledger's in-transit postings, THEN broadcast.
   */
  async submitSignedPsbt(
    caller: Caller,
    batchId: string,
    signedPsbt: Uint8Array,
  ): Promise<BatchView> {
    const extracted = extractTransaction(finalizePsbt(signedPsbt));
    await this.#db.transaction(async (tx) => {
      const [batch] = await tx
        .select()
        .from(tradeBatches)
        .where(
          and(eq(tradeBatches.id, batchId), scopeTo(caller, { platform: tradeBatches.platformId })),
        )
        .for('update');
      if (!batch) throw new AppError('NOT_FOUND', `no payout batch ${batchId} visible to you`);
      if (batch.status !== 'awaitingSignature') {
        if (batch.txid === extracted.txid) return; // the same signature again: idempotent
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
      const now = this.#clock.now();
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
      const payouts = await tx.select().from(tradePayouts).where(eq(tradePayouts.batchId, batchId));
      for (const p of payouts) {
        await tx
          .update(tradePayouts)
          .set({ status: 'inProgress', updatedAt: now })
          .where(eq(tradePayouts.id, p.id));
        const rate = await this.#rates.get(p.rateId, tx);
        const outgoing = p.amountSats + p.feeShareSats;
        await this.#ledger.post(tx, caller, {
          kind: 'payout.signed',
          reference: p.id,
          platformId: p.platformId,
          rate: { id: rate.id, rate: rate.rate },
          memo: `payout ${p.id} in batch ${batchId} (${extracted.txid})`,
          postings: [
            {
              account: {
                participantId: p.companyId,
                purpose: 'inTransit',
                platformId: p.platformId,
              },
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
        await recordAudit(tx, caller, this.#clock, {
          action: 'payout.inProgress',
          entityType: 'payout',
          entityId: p.id,
          before: { status: p.status },
          after: { status: 'inProgress', txid: extracted.txid },
        });
        await this.#event(tx, await this.#view(tx, p.id), 'payout.inProgress');
      }
      await recordAudit(tx, caller, this.#clock, {
        action: 'batch.signed',
        entityType: 'batch',
        entityId: batchId,
        after: { txid: extracted.txid },
      });
    });
    await this.broadcast(batchId);
    return this.getBatch(systemCaller('trade'), batchId);
  }

  /** Broadcasts a batch's stored signed transaction; idempotent (the same bytes every time). */
  async broadcast(batchId: string): Promise<void> {
    const chain = this.#requireChain();
    const [batch] = await this.#db.orm
      .select()
      .from(tradeBatches)
      .where(eq(tradeBatches.id, batchId));
    if (!batch?.rawTx || !batch.txid || (batch.status !== 'signed' && batch.status !== 'broadcast'))
      return;
    let error: string | null = null;
    try {
      await chain.broadcast(new Uint8Array(Buffer.from(batch.rawTx, 'hex')));
    } catch (caught) {
      const message = caught instanceof Error ? caught.message : 'unknown error';
      // "Already known / already in the chain" means an earlier broadcast got through.
      if (!/already/.test(message)) error = message;
    }
    const tip = await chain.getTip();
    await this.#db.transaction(async (tx) => {
      await tx
        .update(tradeBatches)
        .set({
          status: error === null && batch.status === 'signed' ? 'broadcast' : batch.status,
          broadcastHeight: batch.broadcastHeight ?? (error === null ? tip.height : null),
          broadcastAttempts: batch.broadcastAttempts + 1,
          lastBroadcastError: error,
          updatedAt: this.#clock.now(),
        })
        .where(eq(tradeBatches.id, batchId));
      if (error === null && batch.status === 'signed') {
        await recordAudit(tx, systemCaller('trade.broadcaster'), this.#clock, {
          action: 'batch.broadcast',
          entityType: 'batch',
          entityId: batchId,
          after: { txid: batch.txid, height: tip.height },
        });
      }
    });
  }

  /** After a restart: re-broadcast every signed batch that has not confirmed. Builds nothing new. */
  async resume(): Promise<string[]> {
    const pending = await this.#db.orm
      .select({ id: tradeBatches.id })
      .from(tradeBatches)
      .where(
        and(
          inArray(tradeBatches.status, ['signed', 'broadcast']),
          isNull(tradeBatches.confirmedBlockHash),
        ),
      );
    for (const { id } of pending) await this.broadcast(id);
    return pending.map((p) => p.id);
  }

  /**
   * Replace-by-fee (BIP125) for batches unconfirmed `rbfAfterBlocks` after their broadcast: the
   * same inputs and payment outputs, the extra fee taken from the change, re-signed locally.
   */
  async bumpStuck(): Promise<string[]> {
    const chain = this.#requireChain();
    const tip = await chain.getTip();
    const stuck = await this.#db.orm
      .select()
      .from(tradeBatches)
      .where(and(eq(tradeBatches.status, 'broadcast'), isNull(tradeBatches.confirmedBlockHash)));
    const bumped: string[] = [];
    for (const batch of stuck) {
      const settings = await loadSettings(this.#db.orm, batch.platformId);
      if (
        batch.broadcastHeight === null ||
        tip.height - batch.broadcastHeight < settings.rbfAfterBlocks
      )
        continue;
      const replaced = await this.#bump(batch, settings.feeCapSatPerKvB, tip.height);
      if (replaced) bumped.push(batch.id);
    }
    return bumped;
  }

  async #bump(batch: BatchRow, capSatPerKvB: bigint, tipHeight: number): Promise<boolean> {
    // BIP125 rules 3 and 4: pay at least the old fee plus the incremental relay fee (1 sat/vB) on the new size.
    const newRate =
      batch.feeRateSatPerKvB * 2n > capSatPerKvB ? capSatPerKvB : batch.feeRateSatPerKvB * 2n;
    const extra = (BigInt(batch.vsize) * newRate + 999n) / 1000n - batch.feeSats;
    const minExtra = BigInt(batch.vsize);
    const add = extra > minExtra ? extra : minExtra;
    const original = Transaction.fromPSBT(new Uint8Array(Buffer.from(batch.psbt, 'base64')));
    const payouts = await this.#db.orm
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
    const companyOfChange = await this.#changeOwner(original, changeIndex);
    const bumpedPsbt = original.clone();
    bumpedPsbt.updateOutput(changeIndex, {
      amount: (original.getOutput(changeIndex).amount ?? 0n) - add,
    });
    const signer = await this.#signers.signerFor(this.#db.orm, batch.platformId);
    if (!signer) return false;
    const signed = await signer.signPsbt(bumpedPsbt.toPSBT(0));
    const extracted = extractTransaction(finalizePsbt(signed));
    const replacedTxids = [
      ...(Array.isArray(batch.replacedTxids) ? (batch.replacedTxids as string[]) : []),
      batch.txid ?? '',
    ];
    await this.#db.transaction(async (tx) => {
      const now = this.#clock.now();
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
        const rate = await this.#rates.get(payer.rateId, tx);
        await this.#ledger.post(tx, systemCaller('trade.rbf'), {
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
      await recordAudit(tx, systemCaller('trade.rbf'), this.#clock, {
        action: 'batch.feeBumped',
        entityType: 'batch',
        entityId: batch.id,
        before: { txid: batch.txid, fee: batch.feeSats.toString() },
        after: { txid: extracted.txid, fee: extracted.fee.toString() },
      });
    });
    await this.broadcast(batch.id);
    return true;
  }

  async #changeOwner(tx: Transaction, index: number): Promise<string | null> {
    const script = tx.getOutput(index).script;
    if (!script) return null;
    const owners = await this.#wallets.walletAddressOwners(
      [addressFromScript(script, this.#network)],
      this.#db.orm,
    );
    return [...owners.values()][0]?.companyId ?? null;
  }

  // ------------------------------------------------------------------ chain events

  async blockConnected(tx: Orm, block: ChainBlock): Promise<void> {
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
      await tx
        .update(tradeBatches)
        .set({
          confirmedBlockHash: block.hash,
          confirmedHeight: block.height,
          confirmedTxid: found,
          status: 'confirmed',
          updatedAt: this.#clock.now(),
        })
        .where(eq(tradeBatches.id, batch.id));
      await recordAudit(tx, systemCaller('trade.payouts'), this.#clock, {
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
        await this.#complete(tx, batch);
    }
  }

  async blockDisconnected(tx: Orm, block: ChainBlock): Promise<void> {
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
          const [settlement] = await tx
            .select()
            .from(tradeSettlements)
            .where(and(eq(tradeSettlements.reference, p.id), isNull(tradeSettlements.reversedAt)));
          if (settlement) {
            const reversal = await this.#ledger.reverse(
              tx,
              caller,
              settlement.ledgerTransactionId,
              `payout ${p.id}: batch transaction left the chain (reorg)`,
            );
            await tx
              .update(tradeSettlements)
              .set({ reversedAt: this.#clock.now(), reversalLedgerTransactionId: reversal })
              .where(eq(tradeSettlements.id, settlement.id));
            await this.#contracts.applySettlement(tx, caller, p.contractId, -p.contractAmount);
          }
          await tx
            .update(tradePayouts)
            .set({ status: 'inProgress', settlementId: null, updatedAt: this.#clock.now() })
            .where(eq(tradePayouts.id, p.id));
          await recordAudit(tx, caller, this.#clock, {
            action: 'payout.reopened',
            entityType: 'payout',
            entityId: p.id,
            before: { status: 'completed' },
            after: { status: 'inProgress' },
          });
          await this.#event(tx, await this.#view(tx, p.id), 'payout.reopened');
        }
      }
      await tx
        .update(tradeBatches)
        .set({
          status: 'broadcast',
          confirmedBlockHash: null,
          confirmedHeight: null,
          confirmedTxid: null,
          updatedAt: this.#clock.now(),
        })
        .where(eq(tradeBatches.id, batch.id));
      await recordAudit(tx, caller, this.#clock, {
        action: 'batch.unconfirmed',
        entityType: 'batch',
        entityId: batch.id,
        before: { block: block.hash },
      });
    }
  }

  async #complete(tx: Orm, batch: BatchRow): Promise<void> {
    const caller = systemCaller('trade.payouts');
    const payouts = await tx.select().from(tradePayouts).where(eq(tradePayouts.batchId, batch.id));
    const now = this.#clock.now();
    const txid = batch.confirmedTxid ?? batch.txid ?? '';
    for (const p of payouts) {
      if (p.status !== 'inProgress') continue;
      const rate = await this.#rates.get(p.rateId, tx);
      const ledgerId = await this.#ledger.post(tx, caller, {
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
      const settlementId = newId('settlement', now, this.#random);
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
      await tx
        .update(tradePayouts)
        .set({ status: 'completed', settlementId, updatedAt: now })
        .where(eq(tradePayouts.id, p.id));
      await this.#contracts.applySettlement(tx, caller, p.contractId, p.contractAmount);
      await recordAudit(tx, caller, this.#clock, {
        action: 'payout.completed',
        entityType: 'payout',
        entityId: p.id,
        before: { status: 'inProgress' },
        after: { status: 'completed', txid, settlementId },
      });
      await this.#event(tx, await this.#view(tx, p.id), 'payout.completed');
    }
    await tx
      .update(tradeBatches)
      .set({ status: 'completed', updatedAt: now })
      .where(eq(tradeBatches.id, batch.id));
  }

  #requireChain(): ChainSource {
    if (!this.#chain)
      throw new AppError('CHAIN_UNAVAILABLE', 'no chain source is configured for payouts');
    return this.#chain;
  }

  async #lock(tx: Orm, caller: Caller, id: string): Promise<PayoutRow> {
    const [row] = await tx
      .select()
      .from(tradePayouts)
      .where(
        and(
          eq(tradePayouts.id, id),
          scopeTo(caller, {
            participant: tradePayouts.companyId,
            platform: tradePayouts.platformId,
          }),
        ),
      )
      .for('update');
    if (!row) throw new AppError('PAYOUT_NOT_FOUND', `no payout ${id} visible to you`);
    return row;
  }

  async #event(tx: Orm, view: PayoutView, event: WebhookEvent): Promise<void> {
    await enqueueWebhook(
      tx,
      { clock: this.#clock, random: this.#random },
      view.platformId,
      event,
      view.id,
      {
        payoutId: view.id,
        contractId: view.contractId,
        status: view.status,
        amountSats: view.amountSats,
        txid: view.txid,
        vout: view.vout,
      },
    );
  }

  async #batchView(orm: Orm, row: BatchRow): Promise<BatchView> {
    const payouts = await orm
      .select({ id: tradePayouts.id })
      .from(tradePayouts)
      .where(eq(tradePayouts.batchId, row.id))
      .orderBy(asc(tradePayouts.vout));
    return {
      id: row.id,
      platformId: row.platformId,
      status: row.status,
      txid: row.txid,
      replacedTxids: Array.isArray(row.replacedTxids) ? (row.replacedTxids as string[]) : [],
      feeSats: row.feeSats,
      feeRateSatPerKvB: row.feeRateSatPerKvB,
      vsize: row.vsize,
      psbt: row.psbt,
      payoutIds: payouts.map((p) => p.id),
      confirmedHeight: row.confirmedHeight,
      broadcastAttempts: row.broadcastAttempts,
      lastBroadcastError: row.lastBroadcastError,
    };
  }

  async #view(orm: Orm, id: string): Promise<PayoutView> {
    const [row] = await orm.select().from(tradePayouts).where(eq(tradePayouts.id, id));
    if (!row) throw new AppError('PAYOUT_NOT_FOUND', `no payout ${id}`);
    const approvals = await orm
      .select()
      .from(tradePayoutApprovals)
      .where(eq(tradePayoutApprovals.payoutId, id))
      .orderBy(asc(tradePayoutApprovals.at));
    let txid: string | null = null;
    if (row.batchId) {
      const [batch] = await orm
        .select({ txid: tradeBatches.txid, confirmedTxid: tradeBatches.confirmedTxid })
        .from(tradeBatches)
        .where(eq(tradeBatches.id, row.batchId));
      txid = batch?.confirmedTxid ?? batch?.txid ?? null;
    }
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
      approvals: approvals.map((a) => ({ actorId: a.actorId, at: a.at })),
      batchId: row.batchId,
      txid,
      vout: row.vout,
      feeShareSats: row.feeShareSats,
      memo: row.memo,
      createdBy: row.createdBy,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      settlementId: row.settlementId,
      gate: gateView(row.gateDecision),
      travelRule: row.travelRule ?? null,
    };
  }
}
