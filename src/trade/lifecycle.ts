import type { AuditLog } from '../audit';
import { eq } from 'drizzle-orm';
import type { Orm } from '../db';
import { AppError, type Caller, type Clock, type Random } from '../kernel';
import { announce, type WebhookEvent } from './outbox';
import { tradeInvoices, tradePayouts } from './schema';

/**
 * The lifecycles of trade's entities as explicit transition tables: from-states × action →
 * to-state, and which steps re-run the policy gate. A state change not in a table is refused
 * (INVALID_STATE_TRANSITION); a step marked `gate` decides again on the current facts (licence
 * state and dates, KYC/KYB state and expiry, jurisdiction, sanctions on the current list
 * snapshots, Travel Rule, contract state and remaining amount) and, when the gate does not allow,
 * the payout is HELD instead of moving on (issue 11: a suspension after approval must stop the
 * money at every later step).
 */
export interface TransitionRule<S extends string> {
  readonly from: readonly S[];
  readonly to: S;
  /** The policy gate is asked again before this step. */
  readonly gate: boolean;
}

export const PAYOUT_STATUSES = [
  'awaitingReview',
  'awaitingApproval',
  'awaitingPayment',
  'inProgress',
  'held',
  'completed',
  'cancelled',
] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/**
 * The steps at which a payout's gate is decided again (creation is the first decision);
 * `release` is an officer's release of a held payout (payout-release.ts).
 */
export type GateStep = 'approval' | 'batching' | 'signing' | 'broadcast' | 'release';

export const PAYOUT_TRANSITIONS = {
  /** A compliance officer resolved the creation decision's review. */
  reviewAllowed: { from: ['awaitingReview'], to: 'awaitingApproval', gate: false },
  reviewBlocked: { from: ['awaitingReview'], to: 'cancelled', gate: false },
  /** One more person approved, quorum not reached yet. */
  approvalRecorded: { from: ['awaitingApproval'], to: 'awaitingApproval', gate: true },
  /** The quorum of distinct people is reached. */
  approved: { from: ['awaitingApproval'], to: 'awaitingPayment', gate: true },
  /** Put into a batch transaction (coin selection). */
  batched: { from: ['awaitingPayment'], to: 'awaitingPayment', gate: true },
  /** The batch is signed: the funds go in transit. */
  inProgress: { from: ['awaitingPayment'], to: 'inProgress', gate: true },
  /** The batch goes out on the network (checked once more before its first broadcast). */
  broadcast: { from: ['inProgress'], to: 'inProgress', gate: false },
  /** Its batch was abandoned before broadcast because another payout in it was held. */
  requeued: { from: ['awaitingPayment', 'inProgress'], to: 'awaitingPayment', gate: false },
  /**
   * A later gate check did not allow: never broadcast, funds back from in transit. From held: a
   * release whose fresh check still does not allow keeps it held with that check.
   */
  held: {
    from: ['awaitingApproval', 'awaitingPayment', 'inProgress', 'held'],
    to: 'held',
    gate: false,
  },
  /** Released by an officer once its hold cleared: it had its quorum, so it waits for a batch. */
  released: { from: ['held'], to: 'awaitingPayment', gate: true },
  /** Released by an officer once its hold cleared, held before its quorum: back to approval. */
  releasedToApproval: { from: ['held'], to: 'awaitingApproval', gate: true },
  completed: { from: ['inProgress'], to: 'completed', gate: false },
  /** The confirming block left the chain (reorg). */
  reopened: { from: ['completed'], to: 'inProgress', gate: false },
  cancelled: {
    from: ['awaitingReview', 'awaitingApproval', 'awaitingPayment', 'held'],
    to: 'cancelled',
    gate: false,
  },
} as const satisfies Record<string, TransitionRule<PayoutStatus>>;
export type PayoutAction = keyof typeof PAYOUT_TRANSITIONS;

/** Which gate step guards a payout action (the gate column of the table, named). */
export const PAYOUT_GATE_STEP: Partial<Record<PayoutAction, GateStep>> = {
  approvalRecorded: 'approval',
  approved: 'approval',
  batched: 'batching',
  inProgress: 'signing',
  released: 'release',
  releasedToApproval: 'release',
};

export const BATCH_STATUSES = [
  'awaitingSignature',
  'signed',
  'broadcast',
  'confirmed',
  'completed',
  'abandoned',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const BATCH_TRANSITIONS = {
  /** Checks every payout in it before the signature is taken (local) or accepted (external). */
  signed: { from: ['awaitingSignature'], to: 'signed', gate: true },
  /** Checks every payout in it before the first broadcast; a replacement (RBF) is not re-checked. */
  broadcast: { from: ['signed'], to: 'broadcast', gate: true },
  /** A fee bump (BIP125): re-signed, its original already on the network. */
  feeBumped: { from: ['broadcast'], to: 'signed', gate: false },
  confirmed: { from: ['signed', 'broadcast'], to: 'confirmed', gate: false },
  unconfirmed: { from: ['confirmed', 'completed'], to: 'broadcast', gate: false },
  completed: { from: ['confirmed'], to: 'completed', gate: false },
  /** A payout in it was held before broadcast: never broadcast, its coins free again. */
  abandoned: { from: ['awaitingSignature', 'signed'], to: 'abandoned', gate: false },
} as const satisfies Record<string, TransitionRule<BatchStatus>>;
export type BatchAction = keyof typeof BATCH_TRANSITIONS;

export const INVOICE_STATUSES = ['new', 'processing', 'settled', 'expired', 'invalid'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/**
 * Invoices move by evaluation of their payments (invoice-settlement.ts evaluateInvoice computes the status the
 * payments and the gate decisions call for); `transitionInvoice` then makes the move, and only a
 * move in this table. `gate` marks the move that needs the gate's allow for every decision on the
 * invoice (creation and each payment, each payer address screened; a payer that could not be
 * looked up holds it for review): an invoice settles only then. Every other move follows the
 * chain (payments seen, confirmed, dropped, reorganised) and the clock (expiry, the late-payment
 * window).
 */
export const INVOICE_TRANSITIONS = {
  /** Paid in full (or over), not yet counted as settled; or back in review after a window closed. */
  paymentSeen: { from: ['new', 'expired', 'invalid'], to: 'processing', gate: false },
  /** Confirmed in full, and the gate allowed every decision on it. */
  settled: { from: ['new', 'processing', 'expired', 'invalid'], to: 'settled', gate: true },
  expired: { from: ['new'], to: 'expired', gate: false },
  /** A payment vanished (mempool or reorg) after the validity window had closed. */
  paymentDroppedAfterExpiry: { from: ['processing', 'invalid'], to: 'expired', gate: false },
  /** Blocked by the gate, or the late-payment window closed without enough confirmed. */
  invalid: { from: ['new', 'processing', 'expired'], to: 'invalid', gate: false },
  /** A later payment to a settled invoice was blocked: un-settled and invalid. */
  blockedAfterSettlement: { from: ['settled'], to: 'invalid', gate: false },
  /** The settling block left the chain (reorg), the payment still seen. */
  reopened: { from: ['settled'], to: 'processing', gate: false },
  /** Its payment vanished from the mempool or the chain within the validity window. */
  paymentDropped: { from: ['processing'], to: 'new', gate: false },
  /** A settled invoice's payment vanished entirely (a 0-conf settlement reversed, or a reorg). */
  reversed: { from: ['settled'], to: 'new', gate: false },
  reversedAfterExpiry: { from: ['settled'], to: 'expired', gate: false },
} as const satisfies Record<string, TransitionRule<InvoiceStatus>>;
export type InvoiceAction = keyof typeof INVOICE_TRANSITIONS;

const INVOICE_EVENTS: Record<InvoiceAction, WebhookEvent | null> = {
  paymentSeen: 'invoice.processing',
  settled: 'invoice.settled',
  expired: 'invoice.expired',
  paymentDroppedAfterExpiry: 'invoice.expired',
  invalid: 'invoice.invalid',
  blockedAfterSettlement: 'invoice.invalid',
  reopened: 'invoice.reopened',
  paymentDropped: null,
  reversed: 'invoice.reopened',
  reversedAfterExpiry: 'invoice.reopened',
};

/** The table's move from one invoice status to another, or null when it has none. */
export function invoiceAction(from: InvoiceStatus, to: InvoiceStatus): InvoiceAction | null {
  for (const [action, rule] of Object.entries(INVOICE_TRANSITIONS)) {
    if (rule.to === to && (rule.from as readonly string[]).includes(from))
      return action as InvoiceAction;
  }
  return null;
}

type InvoiceRow = typeof tradeInvoices.$inferSelect;

export interface InvoiceTransitionPorts {
  readonly clock: Clock;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  readonly random: Random;
  /** The webhook payload of an invoice (read after the row is written). */
  readonly payload: (tx: Orm, id: string) => Promise<Record<string, unknown>>;
}

/**
 * The one way an invoice changes status: finds the move in the table (a move it does not have is
 * not made: only a clock set back produces one, and the invoice then keeps its status until the
 * facts call for a move it has), refuses to settle unless the gate allowed every decision on it,
 * writes the row with `patch`, the audit event and the webhook, in the caller's transaction.
 * Returns the action taken, or null when the status stayed.
 */
export async function transitionInvoice(
  ports: InvoiceTransitionPorts,
  tx: Orm,
  caller: Caller,
  row: InvoiceRow,
  to: InvoiceStatus,
  patch: Partial<typeof tradeInvoices.$inferInsert>,
  audit: { before: Record<string, unknown>; after: Record<string, unknown> },
): Promise<InvoiceAction | null> {
  const from = row.status as InvoiceStatus;
  const action = from === to ? null : invoiceAction(from, to);
  if (action && INVOICE_TRANSITIONS[action].gate && row.gateOutcome !== 'allow') {
    // evaluateInvoice never asks for this; should it, the invariant holds rather than the money moving.
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `invoice ${row.id} cannot settle: its gate outcome is ${row.gateOutcome}, not allow`,
    );
  }
  await tx
    .update(tradeInvoices)
    .set({ ...patch, status: action ? to : from, updatedAt: ports.clock.now() })
    .where(eq(tradeInvoices.id, row.id));
  if (!action) return null;
  await ports.audit.record(caller, {
    action: `invoice.${to}`,
    entityType: 'invoice',
    entityId: row.id,
    before: audit.before,
    after: { ...audit.after, transition: action },
  });
  const event = INVOICE_EVENTS[action];
  if (event) {
    await announce(tx, ports, row.platformId, event, row.id, await ports.payload(tx, row.id));
  }
  return action;
}

export const CONTRACT_STATUSES = [
  'draft',
  'submitted',
  'approved',
  'active',
  'settled',
  'cancelled',
  'disputed',
] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

/**
 * Contracts. `gate` here is the parties' standing (KYB/KYC verified); `fourEyes` means the person
 * taking the step must differ from the contract's creator and from its submitter.
 */
export const CONTRACT_TRANSITIONS = {
  submit: { from: ['draft'], to: 'submitted', gate: true, fourEyes: false },
  approve: { from: ['submitted'], to: 'approved', gate: true, fourEyes: true },
  activate: { from: ['approved'], to: 'active', gate: true, fourEyes: false },
  cancel: {
    from: ['draft', 'submitted', 'approved', 'active'],
    to: 'cancelled',
    gate: false,
    fourEyes: false,
  },
  dispute: { from: ['active'], to: 'disputed', gate: false, fourEyes: false },
  resume: { from: ['disputed'], to: 'active', gate: false, fourEyes: false },
} as const satisfies Record<string, TransitionRule<ContractStatus> & { fourEyes: boolean }>;
export type ContractAction = keyof typeof CONTRACT_TRANSITIONS;

/** The rule name of trade's own holds (contract not active, checks that could not run). */
export const LIFECYCLE_RULE = 'trade.lifecycle@1';

/** Refuses a move the table does not have. */
export function assertTransition<S extends string>(
  what: string,
  rule: TransitionRule<S>,
  action: string,
  from: string,
): void {
  if (!(rule.from as readonly string[]).includes(from)) {
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `${what} is ${from}; ${action} is possible only from ${rule.from.join(', ')}`,
    );
  }
}

/** A gate decision at a later step, as kept on a held payout. */
export interface GateCheck {
  readonly step: GateStep;
  readonly outcome: 'allow' | 'block' | 'review';
  readonly reasons: readonly string[];
  readonly decidedBy: string;
  /** Compliance's stored decision (the reference a company is given), or null. */
  readonly decisionId: string | null;
  readonly at: string;
}

type PayoutRow = typeof tradePayouts.$inferSelect;

export interface PayoutTransitionPorts {
  readonly clock: Clock;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  readonly random: Random;
  /**
   * Decides again at a gated step (the gate, or a failure to reach it, held closed), in the
   * caller's unit of work (the payout is locked there).
   */
  readonly check: (caller: Caller, row: PayoutRow, step: GateStep) => Promise<GateCheck>;
  /** The webhook payload of a payout (its view). */
  readonly payload: (tx: Orm, id: string) => Promise<Record<string, unknown>>;
}

const PAYOUT_EVENTS: Partial<Record<PayoutAction, WebhookEvent>> = {
  reviewBlocked: 'payout.cancelled',
  approved: 'payout.approved',
  inProgress: 'payout.inProgress',
  requeued: 'payout.requeued',
  held: 'payout.held',
  released: 'payout.released',
  releasedToApproval: 'payout.released',
  completed: 'payout.completed',
  reopened: 'payout.reopened',
  cancelled: 'payout.cancelled',
};

/**
 * The one way a payout changes state: checks the table, asks the gate again where the table says
 * so (holding the payout instead when it does not allow), updates the row, writes the audit event
 * and enqueues the webhook, all in the caller's transaction. Returns the action taken (`held`
 * when the gate stopped it) and the gate check, if one ran.
 */
export async function transitionPayout(
  ports: PayoutTransitionPorts,
  tx: Orm,
  caller: Caller,
  row: PayoutRow,
  action: PayoutAction,
  change: {
    readonly patch?: Partial<typeof tradePayouts.$inferInsert>;
    readonly audit?: Record<string, unknown>;
    /** A check already made for this step (e.g. for a whole batch before signing). */
    readonly checked?: GateCheck;
  } = {},
): Promise<{ action: PayoutAction; check: GateCheck | null }> {
  const rule = PAYOUT_TRANSITIONS[action];
  assertTransition(`payout ${row.id}`, rule, action, row.status);
  const step = PAYOUT_GATE_STEP[action];
  let check: GateCheck | null = change.checked ?? null;
  if (rule.gate && step && !check) check = await ports.check(caller, row, step);
  if (check && check.outcome !== 'allow') {
    await hold(ports, tx, caller, row, check);
    return { action: 'held', check };
  }
  await write(ports, tx, caller, row, action, rule.to, change.patch ?? {}, {
    ...(change.audit ?? {}),
    ...(check ? { gate: { step: check.step, decisionId: check.decisionId } } : {}),
  });
  return { action, check };
}

/** Holds a payout with the failed check (its reasons stay on the row for officers). */
export async function hold(
  ports: PayoutTransitionPorts,
  tx: Orm,
  caller: Caller,
  row: PayoutRow,
  check: GateCheck,
  patch: Partial<typeof tradePayouts.$inferInsert> = {},
): Promise<void> {
  assertTransition(`payout ${row.id}`, PAYOUT_TRANSITIONS.held, 'held', row.status);
  await write(
    ports,
    tx,
    caller,
    row,
    'held',
    'held',
    { ...patch, hold: check },
    { step: check.step, outcome: check.outcome, decisionId: check.decisionId },
  );
}

async function write(
  ports: PayoutTransitionPorts,
  tx: Orm,
  caller: Caller,
  row: PayoutRow,
  action: PayoutAction,
  to: PayoutStatus,
  patch: Partial<typeof tradePayouts.$inferInsert>,
  audit: Record<string, unknown>,
): Promise<void> {
  const now = ports.clock.now();
  await tx
    .update(tradePayouts)
    .set({ ...patch, status: to, updatedAt: now })
    .where(eq(tradePayouts.id, row.id));
  await ports.audit.record(caller, {
    action: `payout.${action}`,
    entityType: 'payout',
    entityId: row.id,
    before: { status: row.status },
    after: { status: to, ...audit },
  });
  const event = PAYOUT_EVENTS[action];
  if (event) {
    await announce(tx, ports, row.platformId, event, row.id, await ports.payload(tx, row.id));
  }
}
