import type { Orm, Page, PageRequest } from '../db';
import type { Subscriber } from '../events';
import type { Caller } from '../kernel';
import type { ChainBlock } from './chain';
import type { PayoutStatus } from './lifecycle';
import { runBatch } from './payout-batcher';
import { broadcast, bumpStuck, resume, submitSignedPsbt } from './payout-broadcaster';
import { blockConnected, blockDisconnected } from './payout-confirmations';
import { PayoutContext, type PayoutPorts } from './payout-context';
import { payoutRecheckSubscribers } from './payout-rechecks';
import {
  applyPayoutReview,
  applyReviews,
  approvePayout,
  cancelPayout,
  createPayout,
} from './payout-requests';
import { releaseLicenceHolds, releasePayout } from './payout-release';
import {
  getBatch,
  getPayout,
  listBatches,
  listPayouts,
  type BatchView,
  type PayoutInput,
  type PayoutView,
} from './payout-views';

export { PAYOUT_STATUSES } from './lifecycle';
export type { PayoutStatus } from './lifecycle';
export { splitFee } from './payout-batcher';
export { DUST_LIMIT_SATS } from './payout-requests';
export type { BatchView, PayoutGateView, PayoutInput, PayoutView } from './payout-views';

/**
 * Payouts for the import side, in parts along the payout's lifecycle (lifecycle.ts holds the
 * transition tables and the one transition function every state change goes through):
 * requests (create, reviews, maker-checker approval by distinct people, cancel), the batcher
 * (one transaction per platform run, coin selection over each company's coins), the broadcaster
 * (sign, broadcast, resume, fee bumps) and confirmations (completion at depth, reorgs). The gate
 * is decided again at approval, at batching, before signing and before broadcast; a payout that
 * no longer passes is held. Crash safety: the signed transaction and the batch state are
 * committed before the broadcast; `resume` re-broadcasts the stored transaction and never builds
 * a second one for the same payouts.
 */
export class PayoutService {
  readonly #ctx: PayoutContext;

  constructor(ports: PayoutPorts) {
    this.#ctx = new PayoutContext(ports);
  }

  async create(
    caller: Caller,
    input: PayoutInput,
    options: { idempotencyKey?: string } = {},
  ): Promise<PayoutView> {
    return (await createPayout(this.#ctx, caller, input, options.idempotencyKey)).payout;
  }

  /** `create`, saying whether an earlier request with the idempotency key created the payout. */
  createOnce(
    caller: Caller,
    input: PayoutInput,
    idempotencyKey?: string,
  ): Promise<{ payout: PayoutView; replayed: boolean }> {
    return createPayout(this.#ctx, caller, input, idempotencyKey);
  }

  applyReviews(): Promise<{ released: string[]; cancelled: string[] }> {
    return applyReviews(this.#ctx);
  }

  /** An officer's resolution carried to one payout in review, inside `tx` (null: nothing to do). */
  applyReview(tx: Orm, id: string): Promise<'allow' | 'block' | null> {
    return applyPayoutReview(this.#ctx, tx, id);
  }

  /**
   * The outbox subscribers holding the payouts not yet sent at once when a licence stops being
   * active or a list snapshot is activated (payout-rechecks.ts).
   */
  recheckSubscribers(): Subscriber<undefined>[] {
    return payoutRecheckSubscribers(this.#ctx);
  }

  approve(caller: Caller, id: string): Promise<PayoutView> {
    return approvePayout(this.#ctx, caller, id);
  }

  cancel(caller: Caller, id: string): Promise<PayoutView> {
    return cancelPayout(this.#ctx, caller, id);
  }

  /** An officer's release of a held payout whose condition cleared (every check run again). */
  release(caller: Caller, id: string): Promise<PayoutView> {
    return releasePayout(this.#ctx, caller, id);
  }

  /**
   * Held payouts whose only reason was an inactive licence of `participantId`, decided again once
   * it is active: for a subscriber to the registry's licence changes (none is wired here).
   */
  releaseLicenceHolds(participantId: string): Promise<{ released: string[]; stillHeld: string[] }> {
    return releaseLicenceHolds(this.#ctx, participantId);
  }

  get(caller: Caller, id: string): Promise<PayoutView> {
    return getPayout(this.#ctx.ports.db.orm, caller, id);
  }

  list(
    caller: Caller,
    filter: { status?: PayoutStatus } = {},
    page: PageRequest = {},
  ): Promise<Page<PayoutView>> {
    return listPayouts(this.#ctx.ports.db.orm, caller, filter, page);
  }

  getBatch(caller: Caller, id: string): Promise<BatchView> {
    return getBatch(this.#ctx.ports.db.orm, caller, id);
  }

  listBatches(caller: Caller, page: PageRequest = {}): Promise<Page<BatchView>> {
    return listBatches(this.#ctx.ports.db.orm, caller, page);
  }

  runBatch(
    caller: Caller,
    platformId: string,
    options: { force?: boolean } = {},
  ): Promise<BatchView | null> {
    return runBatch(this.#ctx, caller, platformId, options);
  }

  submitSignedPsbt(caller: Caller, batchId: string, signedPsbt: Uint8Array): Promise<BatchView> {
    return submitSignedPsbt(this.#ctx, caller, batchId, signedPsbt);
  }

  broadcast(batchId: string): Promise<void> {
    return broadcast(this.#ctx, batchId);
  }

  resume(): Promise<string[]> {
    return resume(this.#ctx);
  }

  bumpStuck(): Promise<string[]> {
    return bumpStuck(this.#ctx);
  }

  blockConnected(tx: Orm, block: ChainBlock): Promise<void> {
    return blockConnected(this.#ctx, tx, block);
  }

  blockDisconnected(tx: Orm, block: ChainBlock): Promise<void> {
    return blockDisconnected(this.#ctx, tx, block);
  }
}
