import { and, asc, eq, or, sql } from 'drizzle-orm';
import { deriveAddress, parseDescriptor, RECEIVE, type Descriptor } from '../../bitcoin';
import { keyset, pageOf, type Database, type Orm, type Page, type PageRequest } from '../../db';
import {
  AppError,
  countsAsPerson,
  invalid,
  seesEverything,
  type Caller,
  type NetworkName,
} from '../../kernel';
import { windowBalances, type AccountBalanceView } from './books';
import {
  WINDOWS_CALLER,
  closeWindow,
  openWindow,
  settleWindow,
  type WindowContext,
  type WindowRow,
} from './lifecycle';
import { confirmFiat, type FiatPayIn } from './fiat';
import { recordObligation, type ObligationInput, type ObligationSink } from './obligations';
import { payOutBatch, type PayOutBatchView } from './pay-out-batch';
import { decideHeld, type HeldDecision } from './held-pay-ins';
import { payInsConnected, payInsDisconnected, type PayInBlock } from './pay-ins';
import { payOutsConnected, payOutsDisconnected } from './pay-out-follow';
import { runPayOuts, type PayOutDeps } from './pay-outs';
import { rebuildPayOut } from './pay-out-rebuild';
import { adoptMinedPayOut } from './pay-out-adopt';
import {
  approveSettlementAddress,
  listSettlementAddresses,
  proposeSettlementAddress,
  rejectSettlementAddress,
  settlementAddressStatementFor,
  type LicenceCheck,
} from './settlement-addresses';
export type { SettlementWindowDeps } from './deps';
import { scheduleState, setSchedule, type ScheduleInput, type ScheduleState } from './schedule';
import { windowContext, type SettlementWindowDeps } from './deps';
import {
  clearingObligations,
  clearingPayInRefusals,
  clearingPayIns,
  clearingPayOuts,
  clearingPositions,
  clearingWindows,
} from './schema';
import {
  obligationView,
  payInView,
  payOutView,
  positionView,
  windowView,
  type ObligationView,
  type PayInView,
  type PayOutView,
  type PositionView,
  type SettlementAddressView,
  type WindowView,
} from './views';

export interface ReconcileView {
  windowId: string;
  status: string;
  balances: AccountBalanceView[];
  /** Every account of the window at zero (only a settled window is expected to be). */
  balanced: boolean;
}

/**
 * Settlement windows between platforms with multilateral netting (issue 13): obligations
 * accumulate in the open window (`record`, the `ObligationSink`); at the supervisor's cut-off the
 * window closes (`runDue`, the `clearing.windows` job) into net positions and pay-ins; pay-ins
 * arrive on-chain (`chainConsumer`) or by bank (`confirmFiatPayIn`); the window settles when all
 * arrived, or at the deadline without those that did not pay in (payment versus payment).
 */
export class SettlementWindowService implements ObligationSink {
  readonly #db: Database;
  readonly #ctx: WindowContext;
  readonly #payOuts: PayOutDeps;
  readonly #network: NetworkName;
  readonly #licences: LicenceCheck | null;

  constructor(deps: SettlementWindowDeps) {
    this.#db = deps.db;
    let descriptor: Descriptor | null = null;
    if (deps.payInDescriptor) {
      descriptor = parseDescriptor(deps.payInDescriptor, deps.network);
      if (!deriveAddress(descriptor, RECEIVE, 0).address)
        throw new AppError('CONFIG_INVALID', 'the clearing descriptor derives no addresses');
    }
    const parsed = descriptor;
    this.#ctx = windowContext(deps, parsed);
    this.#network = deps.network;
    this.#licences = deps.licences ?? null;
    this.#payOuts = {
      db: deps.db,
      ctx: this.#ctx,
      network: deps.network,
      descriptor: parsed,
      signer: deps.signer ?? null,
      chain: deps.chain ?? null,
      licences: deps.licences ?? null,
    };
  }

  // ------------------------------------------------------------------ obligations in

  /** ObligationSink: into the open window, in the caller's transaction; idempotent. */
  async record(o: ObligationInput, tx: Orm): Promise<void> {
    await recordObligation(tx, this.#ctx, o);
  }

  // ------------------------------------------------------------------ schedule

  async schedule(caller: Caller): Promise<ScheduleState> {
    this.#requireReader(caller);
    return scheduleState(this.#db.orm, this.#ctx.clock.now());
  }

  async setSchedule(caller: Caller, input: ScheduleInput) {
    return this.#db.transaction(async (tx) => {
      const version = await setSchedule(tx, caller, this.#ctx, input);
      // An open window without a cut-off (opened before any schedule) gets one now.
      const now = this.#ctx.clock.now();
      if (version.effectiveFrom.getTime() <= now.getTime()) {
        const period = version.periodMinutes * 60_000;
        await tx
          .update(clearingWindows)
          .set({
            closesAt: new Date((Math.floor(now.getTime() / period) + 1) * period),
            scheduleVersion: version.version,
          })
          .where(and(eq(clearingWindows.status, 'open'), sql`${clearingWindows.closesAt} is null`));
      }
      return version;
    });
  }

  // ------------------------------------------------------------------ the job

  /**
   * The `clearing.windows` job: opens a window when a schedule is in force and none is open,
   * closes the open window at its cut-off, and settles closed windows whose pay-ins all arrived
   * or whose deadline passed, then pays settled windows out on-chain (`runPayOuts`: one signed
   * transaction per window, stored before it is broadcast). Each step in its own transaction;
   * safe to repeat.
   */
  async runDue(): Promise<{
    closed: string[];
    settled: string[];
    signed: string[];
    broadcast: string[];
    resent: string[];
    held: string[];
  }> {
    const now = this.#ctx.clock.now();
    const closed: string[] = [];
    const settled: string[] = [];
    const due = await this.#db.transaction(async (tx) => {
      const schedule = (await scheduleState(tx, now)).inForce;
      if (!schedule) return null;
      const open = await openWindow(tx, this.#ctx, now);
      return open.closesAt && open.closesAt.getTime() <= now.getTime() ? open.id : null;
    });
    if (due) {
      try {
        await this.#db.transaction((tx) => closeWindow(tx, this.#ctx, WINDOWS_CALLER, due));
        closed.push(due);
      } catch (error) {
        // Another server (or the supervisor) closed it first: nothing to do.
        if (!(error instanceof AppError && error.code === 'WINDOW_ALREADY_CLOSED')) throw error;
      }
    }
    const waiting = await this.#db.orm
      .select({ id: clearingWindows.id })
      .from(clearingWindows)
      .where(eq(clearingWindows.status, 'closed'))
      .orderBy(asc(clearingWindows.sequence));
    for (const { id } of waiting) {
      if (await this.#db.transaction((tx) => settleWindow(tx, this.#ctx, id))) settled.push(id);
    }
    const paid = await runPayOuts(this.#payOuts);
    return { closed, settled, ...paid };
  }

  /** The supervisor closes a window before its cut-off (audited); a closed one: 409. */
  async closeWindow(caller: Caller, windowId: string): Promise<WindowView> {
    if (caller.role !== 'supervisor')
      throw new AppError('FORBIDDEN', 'only the supervisor closes a settlement window');
    const row = await this.#db.transaction((tx) => closeWindow(tx, this.#ctx, caller, windowId));
    return windowView(row);
  }

  // ------------------------------------------------------------------ pay-ins

  /** The consumer for the chain watcher (register it after clearing's): BTC pay-ins. */
  chainConsumer(options: { name?: string } = {}) {
    return {
      name: options.name ?? 'clearing.windows',
      blockConnected: async (block: PayInBlock, tx: Orm) => {
        await payInsConnected(tx, this.#ctx, block);
        await payOutsConnected(tx, this.#ctx, block);
      },
      blockDisconnected: async (block: PayInBlock, tx: Orm) => {
        await payOutsDisconnected(tx, this.#ctx, block);
        await payInsDisconnected(tx, this.#ctx, block);
      },
    };
  }

  /**
   * A fiat pay-in as the clearing's bank reported it (the supervisor or the clearing operator),
   * with four eyes by person (`confirmFiat`): the first person's word is recorded and returned
   * with `pendingConfirmation`; a different person confirming the same transfer makes it count;
   * the same person again is SELF_APPROVAL. A wrong amount is recorded as a refusal (audited)
   * and answered PAY_IN_WRONG_AMOUNT.
   */
  async confirmFiatPayIn(
    caller: Caller,
    windowId: string,
    platformId: string,
    payment: FiatPayIn,
  ): Promise<PayInView> {
    const outcome = await confirmFiat(
      this.#db,
      this.#ctx,
      caller,
      { windowId, platformId },
      payment,
    );
    const { payIn } = outcome;
    if (outcome.kind === 'refused')
      throw new AppError(
        outcome.reason,
        outcome.reason === 'PAY_IN_WRONG_AMOUNT'
          ? `the pay-in due is ${payIn.amountDue} ${payIn.asset} minor units, not ${payment.amount}; recorded as refused (${outcome.refusalId})`
          : `pay-in refused (${outcome.refusalId})`,
        { details: { refusalId: outcome.refusalId, amountDue: payIn.amountDue.toString() } },
      );
    const [row] = await this.#db.orm
      .select()
      .from(clearingPayIns)
      .where(eq(clearingPayIns.id, payIn.id));
    return payInView(row ?? payIn, [], caller);
  }

  /**
   * The supervisor's decision on a held bitcoin pay-in (`decideHeld`): accept (it counts, as
   * received) or reject (it counts nothing and is to be returned to the payer), with a reason of
   * at least 10 characters, by a named person (not the operator channel); audited.
   */
  async decideHeldPayIn(
    caller: Caller,
    windowId: string,
    payInId: string,
    input: HeldDecision,
  ): Promise<PayInView> {
    if (caller.role !== 'supervisor')
      throw new AppError('FORBIDDEN', 'only the supervisor decides a held pay-in');
    if (!countsAsPerson(caller))
      throw new AppError(
        'FORBIDDEN',
        'a held pay-in is decided by a named person; the operator channel is not one',
      );
    if (input.decision !== 'accept' && input.decision !== 'reject')
      throw invalid('decision', `must be accept or reject, got "${String(input.decision)}"`);
    const reason = input.reason.trim();
    if (reason.length < 10 || reason.length > 2000)
      throw invalid('reason', 'must say why, in 10 to 2000 characters');
    const row = await this.#db.transaction((tx) =>
      decideHeld(
        tx,
        this.#ctx,
        caller,
        { windowId, payInId },
        { decision: input.decision, reason },
      ),
    );
    const [stored] = await this.#db.orm
      .select()
      .from(clearingPayIns)
      .where(eq(clearingPayIns.id, row.id));
    return payInView(stored ?? row, [], caller);
  }

  // ------------------------------------------------------------------ reads

  async listWindows(caller: Caller, page: PageRequest = {}): Promise<Page<WindowView>> {
    this.#requireReader(caller);
    const { after, orderBy, read, limit } = keyset(clearingWindows, page);
    const rows = await this.#db.orm
      .select()
      .from(clearingWindows)
      .where(after)
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(windowView));
  }

  async getWindow(caller: Caller, id: string): Promise<WindowView> {
    this.#requireReader(caller);
    return windowView(await this.#window(id));
  }

  async listPositions(
    caller: Caller,
    windowId: string,
    page: PageRequest = {},
  ): Promise<Page<PositionView>> {
    const platform = this.#platformScope(caller);
    await this.#window(windowId);
    const { after, orderBy, read, limit } = keyset(clearingPositions, page);
    const rows = await this.#db.orm
      .select()
      .from(clearingPositions)
      .where(
        and(
          eq(clearingPositions.windowId, windowId),
          platform ? eq(clearingPositions.platformId, platform) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(positionView));
  }

  async listPayIns(
    caller: Caller,
    windowId: string,
    page: PageRequest = {},
  ): Promise<Page<PayInView>> {
    const platform = this.#platformScope(caller);
    await this.#window(windowId);
    const { after, orderBy, read, limit } = keyset(clearingPayIns, page);
    const rows = await this.#db.orm
      .select()
      .from(clearingPayIns)
      .where(
        and(
          eq(clearingPayIns.windowId, windowId),
          platform ? eq(clearingPayIns.platformId, platform) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, async (shown) => {
      const refusals = shown.length
        ? await this.#db.orm
            .select()
            .from(clearingPayInRefusals)
            .where(
              sql`${clearingPayInRefusals.payInId} in (${sql.join(
                shown.map((r) => sql`${r.id}`),
                sql`, `,
              )})`,
            )
        : [];
      return shown.map((row) =>
        payInView(
          row,
          refusals.filter((r) => r.payInId === row.id),
          caller,
        ),
      );
    });
  }

  /**
   * The obligations settling in a window, newest first, a page at a time (keyset on
   * (window, created_at, id), the `clearing_obligations_page_idx` index): the supervisor and
   * auditors see every one, a platform only those it owes or is owed.
   */
  async listObligations(
    caller: Caller,
    windowId: string,
    page: PageRequest = {},
  ): Promise<Page<ObligationView>> {
    const platform = this.#platformScope(caller);
    await this.#window(windowId);
    const { after, orderBy, read, limit } = keyset(clearingObligations, page);
    const rows = await this.#db.orm
      .select()
      .from(clearingObligations)
      .where(
        and(
          eq(clearingObligations.windowId, windowId),
          platform
            ? or(
                eq(clearingObligations.fromPlatform, platform),
                eq(clearingObligations.toPlatform, platform),
              )
            : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(obligationView));
  }

  async listPayOuts(
    caller: Caller,
    windowId: string,
    page: PageRequest = {},
  ): Promise<Page<PayOutView>> {
    const platform = this.#platformScope(caller);
    await this.#window(windowId);
    const { after, orderBy, read, limit } = keyset(clearingPayOuts, page);
    const rows = await this.#db.orm
      .select()
      .from(clearingPayOuts)
      .where(
        and(
          eq(clearingPayOuts.windowId, windowId),
          platform ? eq(clearingPayOuts.platformId, platform) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(payOutView));
  }

  /** The window's books: every account's balance; a settled window must be at zero. */
  async reconcile(caller: Caller, windowId: string): Promise<ReconcileView> {
    if (!seesEverything(caller))
      throw new AppError('FORBIDDEN', "the clearing's books are for the supervisor and auditors");
    const window = await this.#window(windowId);
    const balances = await windowBalances(this.#db.orm, windowId);
    return {
      windowId,
      status: window.status,
      balances,
      balanced: balances.every((b) => b.balance === 0n),
    };
  }

  // ------------------------------------------------------------------ settlement addresses

  /**
   * The statement a platform signs (BIP322) to prove it controls an address it proposes, dated
   * by the server (settlement-address-statement.ts).
   */
  settlementAddressStatement(caller: Caller, input: { address: string }) {
    return settlementAddressStatementFor(this.#ctx, { network: this.#network }, caller, input);
  }

  /**
   * One officer of a licensed platform proposes the bitcoin address the clearing pays it at,
   * with a BIP322 proof of control (validated for the network, proven, screened, audited); it
   * is paid only once another person of the platform approves it.
   */
  async proposeSettlementAddress(
    caller: Caller,
    input: { address: string; message: string; signature: string },
  ): Promise<SettlementAddressView> {
    return proposeSettlementAddress(
      this.#db,
      this.#ctx,
      { network: this.#network, licences: this.#licences },
      caller,
      input,
    );
  }

  /** Another person of the platform approves its pending proposal (four eyes): then it is paid. */
  async approveSettlementAddress(caller: Caller, id: string): Promise<SettlementAddressView> {
    return approveSettlementAddress(this.#db, this.#ctx, { licences: this.#licences }, caller, id);
  }

  /** A pending proposal rejected (an officer of the platform, or the supervisor). */
  async rejectSettlementAddress(
    caller: Caller,
    id: string,
    input: { reason: string },
  ): Promise<SettlementAddressView> {
    return rejectSettlementAddress(this.#db, this.#ctx, caller, id, input);
  }

  /** A platform's settlement addresses, newest (the one paid) first; its own, or any for readers. */
  async listSettlementAddresses(
    caller: Caller,
    platformId: string,
    page: PageRequest = {},
  ): Promise<Page<SettlementAddressView>> {
    return listSettlementAddresses(this.#db, caller, platformId, page);
  }

  /**
   * The bitcoin pay-out batch of a settled window: the window's received pay-ins as inputs (each
   * with its derivation index on the clearing's descriptor), every bitcoin pay-out and refund as
   * an output (with the settlement address paid, its share of the network fee and what it
   * received), and the signed transaction stored for it (txid, status), null until it is built.
   * The outputs bear the network fee pro rata. Scheme-wide only.
   */
  async payOutBatch(caller: Caller, windowId: string): Promise<PayOutBatchView> {
    if (!seesEverything(caller))
      throw new AppError('FORBIDDEN', 'the pay-out batch is for the supervisor and auditors');
    const window = await this.#window(windowId);
    return payOutBatch(this.#db.orm, window, windowId);
  }

  /** The supervisor rebuilds a rejected or held pay-out transaction (`rebuildPayOut`). */
  async rebuildPayOut(caller: Caller, windowId: string): Promise<PayOutBatchView> {
    await rebuildPayOut(this.#payOuts, caller, windowId);
    return payOutBatch(this.#db.orm, await this.#window(windowId), windowId);
  }

  /** The supervisor adopts a replaced transaction mined after all (`adoptMinedPayOut`). */
  async adoptMinedPayOut(caller: Caller, windowId: string): Promise<PayOutBatchView> {
    await adoptMinedPayOut(this.#payOuts, caller, windowId);
    return payOutBatch(this.#db.orm, await this.#window(windowId), windowId);
  }

  async #window(id: string): Promise<WindowRow> {
    const [row] = await this.#db.orm
      .select()
      .from(clearingWindows)
      .where(eq(clearingWindows.id, id));
    if (!row) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${id}`);
    return row;
  }

  #requireReader(caller: Caller): void {
    if (!seesEverything(caller) && caller.role !== 'platform')
      throw new AppError(
        'FORBIDDEN',
        'settlement windows are for the supervisor, auditors and platforms',
      );
  }

  /** The platform a caller is limited to (null: every platform); others 403. */
  #platformScope(caller: Caller): string | null {
    if (seesEverything(caller)) return null;
    if (caller.role === 'platform') return caller.participantId;
    throw new AppError('FORBIDDEN', 'a platform sees its own positions and instructions only');
  }
}
