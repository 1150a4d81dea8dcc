import { fiatValue } from '../ledger';
import {
  AppError,
  currency as parseCurrency,
  fiatToSats,
  formatRate,
  invalid,
  newId,
  type Caller,
} from '../kernel';
import { earlierCreation, idempotencyKeyOf, isKeyRace, type IdempotencyKey } from './idempotency';
import { lockContracts } from './contract-views';
import { refusedIfBlocked } from './input-refusal';
import { invoiceEvent, invoiceView } from './invoice-views';
import type { InvoiceDeps, InvoiceGateDecision, InvoiceInput, InvoiceView } from './invoice-types';
import { tradeInvoices } from './schema';
import { loadSettings } from './settings';

/** An invoice's creation decision when it blocked (see `refusedIfBlocked`), else null. */
function blockedCreation(invoice: InvoiceView): InvoiceGateDecision | null {
  if (invoice.gateOutcome !== 'block') return null;
  const creation = invoice.gateDecisions.find((d) => d.subject === 'creation');
  return creation?.outcome === 'block' ? creation : null;
}

/** TRANSFER_BLOCKED for an invoice the gate refused at creation (kept as invalid). */
const refusedIfInvalid = (invoice: InvoiceView): InvoiceView =>
  refusedIfBlocked('invoice', invoice, blockedCreation(invoice));

/**
 * Issues an invoice; with an idempotency key, a retry of the same request answers the invoice
 * the first one issued (`replayed`), and nothing is written again: no second address, gate
 * decision or reservation (see idempotency.ts).
 */
export async function createInvoiceOnce(
  deps: InvoiceDeps,
  caller: Caller,
  input: InvoiceInput,
  idempotencyKey?: string,
): Promise<{ invoice: InvoiceView; replayed: boolean }> {
  if (caller.role !== 'company' && caller.role !== 'platform') {
    throw new AppError('FORBIDDEN', 'invoices are issued by the company or its platform');
  }
  if (
    input.validitySeconds !== undefined &&
    (!Number.isInteger(input.validitySeconds) || input.validitySeconds < 60)
  ) {
    throw invalid(
      'validitySeconds',
      `must be an integer of at least 60, got ${input.validitySeconds}`,
    );
  }
  const idempotency = idempotencyKeyOf(idempotencyKey, input);
  const replay = async () => {
    if (!idempotency) return null;
    const id = await earlierCreation(deps.db.orm, tradeInvoices, caller, idempotency, 'invoice');
    return id
      ? { invoice: refusedIfInvalid(await invoiceView(deps, deps.db.orm, id)), replayed: true }
      : null;
  };
  const earlier = await replay();
  if (earlier) return earlier;
  let created: InvoiceView;
  try {
    created = await issueInvoice(deps, caller, input, idempotency);
  } catch (error) {
    // Two requests with one key at once: the one that lost the race answers the winner's invoice.
    const winner = isKeyRace(error, 'trade_invoices_idempotency_uq') ? await replay() : null;
    if (winner) return winner;
    await deps.gate.recordRefusedAttempt(deps.db, caller, error);
    throw error;
  }
  return { invoice: refusedIfInvalid(created), replayed: false };
}

/**
 * Plans the invoice from what stands now (the contract's open amount, the rate, the settings;
 * unlocked reads), refuses what the caller can mend, then has the gate decide it and create it
 * in one committed unit (`decideAndCreate`): outside a transaction the gate's group commit, whose
 * batch transaction, shared with the creations decided meanwhile, reserves against the contract
 * again under its lock (the amount must still fit, the contract still be active), hands out the
 * address and writes the row, the decision, their audit events and announcements, or none.
 */
async function issueInvoice(
  deps: InvoiceDeps,
  caller: Caller,
  input: InvoiceInput,
  idempotency: IdempotencyKey | null,
): Promise<InvoiceView> {
  const orm = deps.db.current();
  const { contract, fixedBtc, contractAmount, reservation } = await deps.contracts.quotePayment(
    orm,
    caller,
    input.contractId,
    input.amount,
    'export',
  );
  // The rate is fixed now, for the validity window; no rate, no invoice (and nothing written).
  const rate = await deps.rates.current(contract.currency);
  const amountSats = fixedBtc
    ? contractAmount
    : fiatToSats(
        { minor: contractAmount, currency: parseCurrency(contract.currency) },
        rate.rate,
        'up',
      );
  const fiatMinor = fixedBtc ? fiatValue(amountSats, rate.rate) : contractAmount;
  const settings = await loadSettings(orm, contract.platformId);
  const now = deps.clock.now();
  const id = newId('invoice', now, deps.random);
  const inSats = (amount: bigint) =>
    fixedBtc || amount <= 0n
      ? amount
      : fiatToSats(
          { minor: amount, currency: parseCurrency(contract.currency) },
          rate.rate,
          'down',
        );
  // Inbound: what can be checked before anyone pays is the parties, the contract and the
  // Travel Rule data; the payer's addresses are screened when a payment is seen.
  const facts = {
    transferId: id,
    occurredAt: now,
    direction: 'inbound' as const,
    platformId: contract.platformId,
    companyId: contract.companyId,
    counterpartyId: contract.counterpartyId,
    contractId: contract.id,
    address: null,
    amountSats,
    fiatMinor,
    currency: contract.currency,
    rate: formatRate(rate.rate),
    openAmountSats: inSats(reservation.open),
    toleranceSats: inSats(reservation.tolerance),
    travelRule: input.travelRule ?? null,
  };
  // What the caller can mend is refused before anything is decided or written.
  const refusal = await deps.gate.refusalBeforeCreation(caller, facts);
  if (refusal) throw refusal;
  const expiresAt = new Date(
    now.getTime() + (input.validitySeconds ?? settings.invoiceValiditySeconds) * 1000,
  );
  const unit = () => deps.db.currentUnit('invoice creation');
  const { created } = await deps.gate.decideAndCreate(caller, facts, {
    locks: [
      { lock: 'contract', key: contract.id, take: () => lockContracts(unit(), [contract.id]) },
      {
        lock: 'wallet',
        key: contract.companyId,
        take: () => deps.wallets.lockWallets([contract.companyId]),
      },
    ],
    before: async (decision) => {
      const tx = unit();
      // The facts decided still hold: the contract is active and the amount fits what is open
      // now, counting the invoices written before this one in the same unit (else the request
      // fails, and its decision with it).
      await deps.contracts.reserve(tx, caller, contract.id, contractAmount, 'export');
      // The company's wallet in the registry hands out its next receive address, for this
      // invoice only: recorded there in this unit, never handed out again. Under the wallet's
      // lock, taken before the audit head as every writer takes them.
      const address = await deps.wallets.nextReceiveAddress(contract.companyId, `invoice ${id}`);
      const gateDecisions: InvoiceGateDecision[] = [
        {
          ...decision,
          subject: 'creation',
          payerAddress: null,
          at: now.toISOString(),
          resolution: null,
        },
      ];
      await tx.insert(tradeInvoices).values({
        id,
        platformId: contract.platformId,
        companyId: contract.companyId,
        contractId: contract.id,
        counterpartyId: contract.counterpartyId,
        address: address.address,
        amountSats,
        contractAmount,
        fiatMinor,
        currency: contract.currency,
        rateId: rate.id,
        status: decision.outcome === 'block' ? 'invalid' : 'new',
        gateOutcome: decision.outcome,
        gateDecisions,
        travelRule: input.travelRule ?? null,
        description: input.description ?? '',
        idempotencyKey: idempotency?.key ?? null,
        requestFingerprint: idempotency?.fingerprint ?? null,
        expiresAt,
        watchUntil: new Date(expiresAt.getTime() + settings.latePaymentWindowSeconds * 1000),
        createdBy: caller.actorId,
        createdAt: now,
        updatedAt: now,
      });
    },
    after: async (decision) => {
      const tx = unit();
      const view = await invoiceView(deps, tx, id);
      await deps.audit.record(caller, {
        action: 'invoice.created',
        entityType: 'invoice',
        entityId: id,
        after: view,
      });
      await invoiceEvent(deps, tx, view, 'invoice.created');
      if (decision.outcome === 'block') await invoiceEvent(deps, tx, view, 'invoice.invalid');
      return view;
    },
  });
  return created;
}
