import { AuditLog } from '../audit';
import { and, eq } from 'drizzle-orm';
import type { ChainSource } from '../chain';
import { scopeTo, type Database, type Orm } from '../db';
import type { LedgerService, RateService } from '../ledger';
import {
  AppError,
  currency as parseCurrency,
  fiatToSats,
  formatRate,
  type Caller,
  type Clock,
  type NetworkName,
  type Random,
} from '../kernel';
import type { ContractService } from './contracts';
import {
  assertTransition,
  BATCH_TRANSITIONS,
  hold,
  LIFECYCLE_RULE,
  transitionPayout,
  type GateCheck,
  type GateStep,
  type PayoutTransitionPorts,
} from './lifecycle';
import { gateView, payoutPayload, type BatchRow, type PayoutRow } from './payout-views';
import type { CoinOrigins, CompanyWallets, TransferGate } from './ports';
import { tradeBatches, tradePayouts, tradeWalletUtxos } from './schema';
import type { SignerProvider } from './signer';

export interface PayoutPorts {
  readonly db: Database;
  readonly clock: Clock;
  readonly random: Random;
  readonly network: NetworkName;
  readonly chain: ChainSource | null;
  readonly contracts: ContractService;
  readonly wallets: CompanyWallets;
  readonly rates: RateService;
  readonly ledger: LedgerService;
  readonly gate: TransferGate;
  readonly signers: SignerProvider;
  /** Clearing's cleared shares and rule for coin selection; null when not wired. */
  readonly origins: CoinOrigins | null;
}

/**
 * What the payout parts (requests, batcher, broadcaster, confirmations) share: the ports, the
 * gate check at a step, and the one transition function with its ports.
 */
export class PayoutContext {
  readonly transitions: PayoutTransitionPorts;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;

  constructor(readonly ports: PayoutPorts) {
    this.audit = new AuditLog(ports);
    this.transitions = {
      clock: ports.clock,
      audit: this.audit,
      random: ports.random,
      check: (caller, row, step) => this.check(caller, row, step),
      payload: payoutPayload,
    };
  }

  requireChain(): ChainSource {
    if (!this.ports.chain)
      throw new AppError('CHAIN_UNAVAILABLE', 'no chain source is configured for payouts');
    return this.ports.chain;
  }

  /**
   * The gate decided again for a payout at a later step, on the facts as they are now: the
   * contract's state and what is open of it (this payout's own reservation counted as open), the
   * payout's rate, address and Travel Rule data; the policy gate reads licences, KYC/KYB,
   * jurisdictions and the current list snapshots itself. Fail closed: when the checks cannot run
   * (a lookup, screening or list failure), the answer is `review`, never `allow`. The decision is
   * recorded by compliance under the payout's id. Runs in the caller's unit of work (the payout
   * is locked there), as a savepoint of it (`db.unit`): a check that fails half-way rolls back
   * only its own writes and leaves the transaction usable for the hold. Refused outside a
   * transaction (an error, not a review: nothing could be held there).
   */
  async check(caller: Caller, row: PayoutRow, step: GateStep): Promise<GateCheck> {
    const { db, clock, contracts, rates, gate } = this.ports;
    db.currentUnit('PayoutContext.check');
    const now = clock.now();
    const base = { step, at: now.toISOString() };
    try {
      return await db.unit(async (sp) => {
        const standing = await contracts.standing(sp, row.contractId, row.contractAmount);
        if (standing.contract.status !== 'active') {
          return {
            ...base,
            outcome: 'block' as const,
            reasons: [
              `CONTRACT_NOT_ACTIVE: contract ${row.contractId} is ${standing.contract.status}; payments need an active contract`,
            ],
            decidedBy: LIFECYCLE_RULE,
            decisionId: null,
          };
        }
        const rate = await rates.get(row.rateId);
        const fixedBtc = standing.contract.pricingMode === 'fixedBtc';
        const inSats = (amount: bigint) =>
          fixedBtc || amount <= 0n
            ? amount
            : fiatToSats(
                { minor: amount, currency: parseCurrency(row.currency) },
                rate.rate,
                'down',
              );
        const decision = await gate.decide(caller, {
          transferId: row.id,
          occurredAt: now,
          direction: 'outbound',
          platformId: row.platformId,
          companyId: row.companyId,
          counterpartyId: row.counterpartyId,
          contractId: row.contractId,
          address: row.address,
          amountSats: row.amountSats,
          fiatMinor: row.fiatMinor,
          currency: row.currency,
          rate: formatRate(rate.rate),
          openAmountSats: inSats(standing.open),
          toleranceSats: inSats(standing.tolerance),
          travelRule: row.travelRule ?? null,
        });
        // An officer who allowed the creation decision's review has cleared exactly those
        // reasons: the same review again is not a new finding. A block, or any reason not
        // cleared (a new list entry, a changed score), holds the payout.
        const cleared = gateView(row.gateDecision);
        if (
          decision.outcome === 'review' &&
          cleared.outcome === 'review' &&
          cleared.resolution === 'allow' &&
          decision.reasons.every((r) => cleared.reasons.includes(r))
        ) {
          return {
            ...base,
            ...decision,
            outcome: 'allow' as const,
            reasons: [...decision.reasons],
            decidedBy: `${decision.decidedBy} (cleared in review of ${cleared.decisionId ?? 'the creation decision'})`,
          };
        }
        return { ...base, ...decision, reasons: [...decision.reasons] };
      });
    } catch (error) {
      const why = error instanceof AppError ? error.code : 'an unexpected error';
      return {
        ...base,
        outcome: 'review',
        reasons: [
          `CHECK_FAILED: the compliance checks could not run at ${step} (${why}); held for review, never skipped`,
        ],
        decidedBy: LIFECYCLE_RULE,
        decisionId: null,
      };
    }
  }

  async lock(tx: Orm, caller: Caller, id: string): Promise<PayoutRow> {
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

  /**
   * Checks every payout of a batch at a step. Returns the failed checks by payout id (empty when
   * all passed) and the passing ones (to be kept with the transition they guard), in the caller's
   * unit of work.
   */
  async checkBatch(
    caller: Caller,
    payouts: readonly PayoutRow[],
    step: GateStep,
  ): Promise<{ failed: Map<string, GateCheck>; passed: Map<string, GateCheck> }> {
    const failed = new Map<string, GateCheck>();
    const passed = new Map<string, GateCheck>();
    for (const p of payouts) {
      const check = await this.check(caller, p, step);
      (check.outcome === 'allow' ? passed : failed).set(p.id, check);
    }
    return { failed, passed };
  }

  /**
   * A batch not broadcast whose payout failed a check: never broadcast. The failing payouts are
   * held, the others go back to be batched again; funds already in transit come back to the
   * company's funds (one posting each), the coins are free again.
   */
  async abandonBatch(
    tx: Orm,
    caller: Caller,
    batch: BatchRow,
    failed: ReadonlyMap<string, GateCheck>,
  ): Promise<void> {
    const { clock, ledger, rates } = this.ports;
    assertTransition(`batch ${batch.id}`, BATCH_TRANSITIONS.abandoned, 'abandoned', batch.status);
    const payouts = await tx
      .select()
      .from(tradePayouts)
      .where(eq(tradePayouts.batchId, batch.id))
      .for('update');
    for (const p of payouts) {
      if (p.status === 'inProgress') {
        const rate = await rates.get(p.rateId);
        const outgoing = p.amountSats + p.feeShareSats;
        await ledger.post(caller, {
          kind: 'payout.released',
          reference: p.id,
          platformId: p.platformId,
          rate: { id: rate.id, rate: rate.rate },
          memo: `payout ${p.id}: batch ${batch.id} abandoned before broadcast`,
          postings: [
            {
              account: {
                participantId: p.companyId,
                purpose: 'inTransit',
                platformId: p.platformId,
              },
              amountSats: -outgoing,
            },
            {
              account: {
                participantId: p.companyId,
                purpose: 'clientFunds',
                platformId: p.platformId,
              },
              amountSats: outgoing,
            },
          ],
        });
      }
      const patch = { batchId: null, vout: null, feeShareSats: 0n };
      const check = failed.get(p.id);
      if (check) await hold(this.transitions, tx, caller, p, check, patch);
      else
        await transitionPayout(this.transitions, tx, caller, p, 'requeued', {
          patch,
          audit: { abandonedBatch: batch.id },
        });
    }
    await tx
      .update(tradeWalletUtxos)
      .set({ reservedByBatch: null })
      .where(eq(tradeWalletUtxos.reservedByBatch, batch.id));
    await tx
      .update(tradeBatches)
      .set({ status: 'abandoned', updatedAt: clock.now() })
      .where(eq(tradeBatches.id, batch.id));
    await this.audit.record(caller, {
      action: 'batch.abandoned',
      entityType: 'batch',
      entityId: batch.id,
      before: { status: batch.status, txid: batch.txid },
      after: {
        status: 'abandoned',
        held: [...failed.keys()],
        requeued: payouts.filter((p) => !failed.has(p.id)).map((p) => p.id),
      },
    });
  }
}

/**
 * The error a caller gets when a step stopped a payout: a reference (the decision id), never the
 * rules or list entries behind it (no tipping-off; officers read the reasons on the payout).
 */
export function heldError(payoutId: string, check: GateCheck): AppError {
  const reference = check.decisionId ?? payoutId;
  return new AppError(
    'TRANSFER_BLOCKED',
    `payout ${payoutId} is held for compliance review at ${check.step} (reference ${reference}); it will not be sent`,
    { details: { payoutId, status: 'held', step: check.step, reference } },
  );
}
