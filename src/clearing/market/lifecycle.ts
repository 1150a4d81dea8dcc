import { AppError } from '../../kernel';

/**
 * A deal's lifecycle as an explicit transition table (as trade's lifecycles are): from-states ×
 * action → to-state. A change not in the table is refused with INVALID_STATE_TRANSITION, except
 * the two refusals the market names: a second confirmation (DEAL_ALREADY_CONFIRMED) and a
 * confirmation after the deadline (DEAL_PAST_DEADLINE, decided by the service from the clock).
 *
 * awaitingPayment ─confirmed→ delivering ─broadcast→ delivered ─settled→ settled
 *        │                 (the coin leg is signed       (sent)          (confirmed, watched)
 *        ├─held→ held ←rejected─┘ (the network refused the delivery for good)
 *        │         ├─released→ delivering (the supervisor, once the checks pass again)
 *        │         └─refunded→ refunded (the supervisor: coins back to the miner, fiat returned)
 *        ├─confirmationFailed→ held (the bank's confirmation given up) ─requeued→ awaitingPayment
 *        └─unwound→ unwound (deadline passed without the fiat leg: the coins return to the offer)
 */
export const DEAL_STATUSES = [
  'awaitingPayment',
  'delivering',
  'delivered',
  'settled',
  'held',
  'unwound',
  'refunded',
] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

export interface DealTransition {
  readonly from: readonly DealStatus[];
  readonly to: DealStatus;
}

export const DEAL_TRANSITIONS = {
  /** The platform confirmed the fiat leg: the delivery from escrow is signed (DvP). */
  confirmed: { from: ['awaitingPayment'], to: 'delivering' },
  /** The fiat leg was confirmed but the coin leg's screening did not allow: nothing is sent. */
  held: { from: ['awaitingPayment'], to: 'held' },
  /** The signed delivery went out on the network. */
  broadcast: { from: ['delivering'], to: 'delivered' },
  /** The delivery is confirmed in a block the watcher followed (the importer's coin is watched). */
  settled: { from: ['delivered'], to: 'settled' },
  /** The network refused the signed delivery for good (a typed rejection): the supervisor decides. */
  rejected: { from: ['delivering'], to: 'held' },
  /** The supervisor releases a held deal: the checks that held it pass again, the delivery goes. */
  released: { from: ['held'], to: 'delivering' },
  /** The supervisor refunds a held deal: escrowed coins to the miner, the fiat leg returned. */
  refunded: { from: ['held'], to: 'refunded' },
  /** The deadline passed without the fiat leg: the escrowed coins return to the miner's offer. */
  unwound: { from: ['awaitingPayment'], to: 'unwound' },
  /**
   * The bank's confirmation of the fiat leg was given up after its attempts (`failed`): the
   * importer paid, so the deal is held for the supervisors rather than unwound at its deadline.
   */
  confirmationFailed: { from: ['awaitingPayment'], to: 'held' },
  /** That confirmation is queued again (officer or supervisor): the tick applies it as any other. */
  requeued: { from: ['held'], to: 'awaitingPayment' },
} as const satisfies Record<string, DealTransition>;
export type DealAction = keyof typeof DEAL_TRANSITIONS;

export const OFFER_STATUSES = ['awaitingDeposit', 'open', 'closed', 'withdrawn'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];
export const BID_STATUSES = ['open', 'matched', 'lapsed'] as const;
export type BidStatus = (typeof BID_STATUSES)[number];

/** The state a deal moves to by `action`, or the closed refusal. */
export function nextDealStatus(id: string, from: string, action: DealAction): DealStatus {
  const rule: DealTransition = DEAL_TRANSITIONS[action];
  if ((rule.from as readonly string[]).includes(from)) return rule.to;
  if (
    action === 'confirmed' &&
    ['delivering', 'delivered', 'settled', 'held', 'refunded'].includes(from)
  ) {
    throw new AppError('DEAL_ALREADY_CONFIRMED', `deal ${id}'s fiat leg is already confirmed`, {
      details: { status: from },
    });
  }
  if (action === 'confirmed' && from === 'unwound') {
    throw new AppError(
      'DEAL_PAST_DEADLINE',
      `deal ${id} was unwound at its deadline; the fiat leg must be returned to the importer`,
      { details: { status: from } },
    );
  }
  throw new AppError(
    'INVALID_STATE_TRANSITION',
    `deal ${id} is ${from}; "${action}" applies only from ${rule.from.join(', ')}`,
    { details: { status: from, action } },
  );
}
