/**
 * The domestic market for cleared coins (issue 13): miners sell coins of their cleared lots to
 * importers, for local currency, on a market a licensed platform runs.
 *
 * Custody and delivery versus payment. A registered miner's coins are self-custodied: the scheme
 * knows its payout addresses, not its keys, so the platform cannot deliver coins it does not
 * hold. An offer therefore gets its own escrow address, derived from the market platform's escrow
 * wallet (a watch-only descriptor of a key the platform's signer holds, set with the market's
 * settings), and the miner deposits the offered coins there before any deal can be matched. The
 * deposit counts only once confirmed in a block clearing followed and wholly cleared (no
 * quarantined or undetermined sats). A deal's coins are released from escrow to a fresh address of
 * the importer's company wallet only in the transaction that records the platform's confirmation
 * of the fiat leg (a `SettlementBank`, an imported bank file, or an officer), after the coin leg
 * is decided again; a deal not confirmed by its deadline is unwound by `market.tick` and its
 * sats return to the miner's offer. The delivered coin is credited to the importer's client funds
 * in the ledger, so trade's payouts (with the cleared-origin rule) may spend it.
 *
 * Screening. The coin leg is decided by compliance's policy gate, by its domestic rule set
 * (`gate.domestic@1` in place of the foreign-trade check that refuses two parties of the scheme's
 * own country), at matching, at delivery and at a held deal's release, each decision recorded
 * (gate.ts). Between two platforms the importer pays the fiat leg to its own platform, which owes
 * the miner's platform that amount in the settlement windows (`fiatPayee`, `recordObligations`).
 */
import { and, eq, exists, or, type SQL } from 'drizzle-orm';
import { keyset, pageOf, type Orm, type Page, type PageRequest } from '../../db';
import { DECISION_RESOLVED, type DecisionResolved } from '../../compliance';
import type { Caller } from '../../kernel';
import { checkConfirmation, parseBankConfirmations, type FiatConfirmation } from './bank';
import { forbidden, marketContext, type MarketContext } from './context';
import { matchDeal, readDeal } from './deals';
import { listMarkets, type MarketListing } from './directory';
import { confirmFiat } from './delivery';
import { refundDeal, releaseDeal, withdrawOffer } from './held';
import {
  createBid,
  createOffer,
  getSettings,
  readOffer,
  recordDeposit,
  setSettings,
  type MarketSettingsInput,
} from './orders';
import type { MarketServiceDeps } from './ports';
import { marketBankInbox, marketBids, marketDeals, marketOffers } from './schema';
import { requeue } from './inbox';
import { applyCoinLegReview } from './reviews';
import { tick, type MarketTickResult } from './tick';
import {
  bankConfirmationView,
  bidView,
  dealViewFor,
  type BankConfirmationView,
  offerView,
  type BidView,
  type DealView,
  type MarketSettingsView,
  type OfferView,
} from './views';

/**
 * A subscriber of the event outbox, structurally (the events module's `Subscriber`: clearing
 * does not import it, services.ts registers it).
 */
export interface MarketSubscriber {
  readonly name: string;
  readonly topics: readonly string[];
  prepare(): Promise<bigint | null>;
  handle(
    event: { payload: Record<string, unknown> },
    tx: Orm,
    prepared: bigint | null,
  ): Promise<void>;
}

export interface ImportOutcome {
  readonly line: number;
  readonly dealReference: string;
  readonly bankReference: string;
  /** `confirmed`, or the closed code of the refusal (nothing changed for that line). */
  readonly outcome: string;
  readonly status: string | null;
}

export class MarketService {
  readonly #ctx: MarketContext;

  constructor(deps: MarketServiceDeps) {
    this.#ctx = marketContext(deps);
  }

  /** The platforms that run a market, their names, terms and licence status (every role). */
  markets(
    caller: Caller,
    filter: { q?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<MarketListing>> {
    return listMarkets(this.#ctx, caller, filter, page);
  }

  settings(caller: Caller, platformId: string): Promise<MarketSettingsView> {
    return getSettings(this.#ctx, caller, platformId);
  }

  setSettings(caller: Caller, input: MarketSettingsInput): Promise<MarketSettingsView> {
    return setSettings(this.#ctx, caller, input);
  }

  createOffer(
    caller: Caller,
    input: { platformId: string; lotId: string; amountSats: bigint | string },
  ): Promise<OfferView> {
    return createOffer(this.#ctx, caller, input);
  }

  recordDeposit(caller: Caller, offerId: string, txid: string): Promise<OfferView> {
    return recordDeposit(this.#ctx, caller, offerId, txid);
  }

  async getOffer(caller: Caller, id: string): Promise<OfferView> {
    return offerView(await readOffer(this.#ctx, this.#ctx.db.orm, caller, id));
  }

  createBid(
    caller: Caller,
    input: { platformId: string; contractId: string; amountSats: bigint | string },
  ): Promise<BidView> {
    return createBid(this.#ctx, caller, input);
  }

  match(caller: Caller, input: { offerId: string; bidId: string }): Promise<DealView> {
    return matchDeal(this.#ctx, caller, input);
  }

  /** An officer's (or the bank adapter's) confirmation of a deal's fiat leg. */
  confirm(
    caller: Caller,
    id: string,
    input: { amountMinor: unknown; currency: unknown; bankReference: unknown },
  ): Promise<DealView> {
    return confirmFiat(this.#ctx, caller, checkConfirmation({ dealReference: id, ...input }));
  }

  /**
   * A bank's confirmation file (JSON or CSV lines), each line applied on its own: a line refused
   * (wrong amount, unknown deal, confirmed twice, past the deadline) changes nothing and is
   * reported with its code; malformed lines are reported as issues.
   */
  async importConfirmations(
    caller: Caller,
    content: string,
  ): Promise<{ outcomes: ImportOutcome[]; issues: { field: string; message: string }[] }> {
    if (caller.role !== 'platform') throw forbidden('a platform imports its bank confirmations');
    const parsed = parseBankConfirmations(content);
    const outcomes: ImportOutcome[] = [];
    for (const { line, confirmation } of parsed.confirmations) {
      outcomes.push({ line, ...(await this.#apply(caller, confirmation)) });
    }
    return { outcomes, issues: parsed.issues };
  }

  async #apply(caller: Caller, confirmation: FiatConfirmation) {
    const refs = {
      dealReference: confirmation.dealReference,
      bankReference: confirmation.bankReference,
    };
    try {
      const deal = await confirmFiat(this.#ctx, caller, confirmation);
      return { ...refs, outcome: 'confirmed', status: deal.status };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string') throw error;
      return { ...refs, outcome: code, status: null };
    }
  }

  /** The supervisor releases a held deal (its checks re-run first: fail closed). */
  release(caller: Caller, id: string, reason: string): Promise<DealView> {
    return releaseDeal(this.#ctx, caller, id, reason);
  }

  /** The supervisor refunds a held deal: escrowed coins to the miner, the fiat leg returned. */
  refund(caller: Caller, id: string, reason: string): Promise<DealView> {
    return refundDeal(this.#ctx, caller, id, reason);
  }

  /** The miner withdraws an offer no live deal holds; its escrow goes back to the miner. */
  withdrawOffer(caller: Caller, id: string): Promise<OfferView> {
    return withdrawOffer(this.#ctx, caller, id);
  }

  /**
   * The bank's confirmations as received (the inbox): pending ones with their attempts and last
   * error, and how each ended. The market's officers see their platform's bank, the supervisor
   * and auditors every one.
   */
  async listBankConfirmations(
    caller: Caller,
    filter: { status?: string | undefined },
    page: PageRequest = {},
  ): Promise<Page<BankConfirmationView>> {
    if (caller.role !== 'supervisor' && caller.role !== 'auditor' && caller.role !== 'platform')
      throw forbidden(`a ${caller.role} does not see the bank's confirmations`);
    const scope =
      caller.role === 'platform'
        ? exists(
            this.#ctx.db.orm
              .select({ id: marketDeals.id })
              .from(marketDeals)
              .where(
                and(
                  eq(marketDeals.id, marketBankInbox.dealReference),
                  eq(marketDeals.platformId, caller.participantId),
                ),
              ),
          )
        : undefined;
    const { after, orderBy, read, limit } = keyset(marketBankInbox, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(marketBankInbox)
      .where(
        and(scope, filter.status ? eq(marketBankInbox.status, filter.status) : undefined, after),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(bankConfirmationView));
  }

  /**
   * Queues a failed bank confirmation again (an officer of the market, or a supervisor): the
   * tick applies it as any other, and its deal, held for it, awaits it again.
   */
  async requeueBankConfirmation(caller: Caller, id: string): Promise<BankConfirmationView> {
    return bankConfirmationView(await requeue(this.#ctx, caller, id));
  }

  async getDeal(caller: Caller, id: string): Promise<DealView> {
    this.#seesDeals(caller);
    return dealViewFor(caller, await readDeal(this.#ctx.db.orm, caller, id));
  }

  /**
   * What the market hears through the outbox: an officer's resolution of a deal's coin-leg
   * review moves the deal at once, in the delivery's transaction (reviews.ts).
   */
  subscribers(): MarketSubscriber[] {
    const ctx = this.#ctx;
    return [
      {
        name: 'clearing.market.reviews',
        topics: [DECISION_RESOLVED],
        // Outside the delivery's transaction: the fee rate a delivery is signed at.
        prepare: async () =>
          (await ctx.deps.chain?.estimateFeeRateSatPerKvB(6).catch(() => null)) ?? null,
        handle: async (event, tx, estimate) => {
          await applyCoinLegReview(ctx, tx, event.payload as unknown as DecisionResolved, estimate);
        },
      },
    ];
  }

  /** The periodic job `market.tick`. */
  tick(): Promise<MarketTickResult> {
    return tick(this.#ctx);
  }

  // ------------------------------------------------------------------ lists (newest first)

  async listOffers(
    caller: Caller,
    filter: { status?: string | undefined },
    page: PageRequest = {},
  ): Promise<Page<OfferView>> {
    let scope: SQL | undefined;
    if (caller.role === 'miner') scope = eq(marketOffers.minerId, caller.participantId);
    else if (caller.role === 'platform') scope = eq(marketOffers.platformId, caller.participantId);
    else if (caller.role !== 'supervisor' && caller.role !== 'auditor')
      throw forbidden(`a ${caller.role} does not see miners' offers`);
    const { after, orderBy, read, limit } = keyset(marketOffers, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(marketOffers)
      .where(and(scope, filter.status ? eq(marketOffers.status, filter.status) : undefined, after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(offerView));
  }

  async listBids(
    caller: Caller,
    filter: { status?: string | undefined },
    page: PageRequest = {},
  ): Promise<Page<BidView>> {
    let scope: SQL | undefined;
    if (caller.role === 'company') scope = eq(marketBids.companyId, caller.participantId);
    else if (caller.role === 'platform')
      scope = or(
        eq(marketBids.platformId, caller.participantId),
        eq(marketBids.companyPlatformId, caller.participantId),
      );
    else if (caller.role !== 'supervisor' && caller.role !== 'auditor')
      throw forbidden(`a ${caller.role} does not see importers' bids`);
    const { after, orderBy, read, limit } = keyset(marketBids, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(marketBids)
      .where(and(scope, filter.status ? eq(marketBids.status, filter.status) : undefined, after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(bidView));
  }

  async listDeals(
    caller: Caller,
    filter: { status?: string | undefined },
    page: PageRequest = {},
  ): Promise<Page<DealView>> {
    const scope = this.#seesDeals(caller);
    const { after, orderBy, read, limit } = keyset(marketDeals, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(marketDeals)
      .where(and(scope, filter.status ? eq(marketDeals.status, filter.status) : undefined, after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map((row) => dealViewFor(caller, row)));
  }

  /** The deals a caller sees: its own as miner or importer, its market's or its importers'. */
  #seesDeals(caller: Caller): SQL | undefined {
    switch (caller.role) {
      case 'supervisor':
      case 'auditor':
        return undefined;
      case 'miner':
        return eq(marketDeals.minerId, caller.participantId);
      case 'company':
        return eq(marketDeals.companyId, caller.participantId);
      case 'platform':
        return or(
          eq(marketDeals.platformId, caller.participantId),
          eq(marketDeals.importerPlatformId, caller.participantId),
        );
      default:
        throw forbidden(`a ${String(caller.role)} does not see market deals`);
    }
  }
}
