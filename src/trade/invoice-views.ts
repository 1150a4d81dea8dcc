import { and, eq, inArray } from 'drizzle-orm';
import { buildPaymentUri, parseAddress } from '../bitcoin';
import { keyset, pageOf, scopeTo, type Orm, type Page, type PageRequest } from '../db';
import { AppError, formatBtc, groupBy, sats, type Caller, type NetworkName } from '../kernel';
import { announce, type WebhookEvent } from './outbox';
import { tradeInvoicePayments, tradeInvoices } from './schema';
import {
  decisionsOf,
  worstOf,
  type InvoiceDeps,
  type InvoiceRow,
  type InvoiceStatus,
  type InvoiceSubStatus,
  type InvoiceView,
} from './invoice-types';

export async function getInvoice(
  deps: InvoiceDeps,
  caller: Caller,
  id: string,
): Promise<InvoiceView> {
  const [row] = await deps.db.orm
    .select({ id: tradeInvoices.id })
    .from(tradeInvoices)
    .where(
      and(
        eq(tradeInvoices.id, id),
        scopeTo(caller, {
          participant: tradeInvoices.companyId,
          platform: tradeInvoices.platformId,
        }),
      ),
    );
  if (!row) throw new AppError('INVOICE_NOT_FOUND', `no invoice ${id} visible to you`);
  return invoiceView(deps, deps.db.orm, id);
}

/** For the public pay page: the invoice id is the capability, as in BTCPay Server. */
export async function publicInvoiceView(deps: InvoiceDeps, id: string): Promise<InvoiceView> {
  return invoiceView(deps, deps.db.orm, id);
}

/**
 * A page of the invoices visible to the caller, newest first (keyset on created_at, id): two
 * queries whatever the page size, the invoices then their payments.
 */
export async function listInvoices(
  deps: InvoiceDeps,
  caller: Caller,
  filter: { status?: InvoiceStatus; contractId?: string } = {},
  page: PageRequest = {},
): Promise<Page<InvoiceView>> {
  const { after, orderBy, read, limit } = keyset(tradeInvoices, page);
  const rows = await deps.db.orm
    .select()
    .from(tradeInvoices)
    .where(
      and(
        scopeTo(caller, {
          participant: tradeInvoices.companyId,
          platform: tradeInvoices.platformId,
        }),
        filter.status ? eq(tradeInvoices.status, filter.status) : undefined,
        filter.contractId ? eq(tradeInvoices.contractId, filter.contractId) : undefined,
        after,
      ),
    )
    .orderBy(...orderBy)
    .limit(read);
  return pageOf(rows, limit, async (shown) => {
    const payments =
      shown.length === 0
        ? []
        : await deps.db.orm
            .select()
            .from(tradeInvoicePayments)
            .where(
              inArray(
                tradeInvoicePayments.invoiceId,
                shown.map((r) => r.id),
              ),
            );
    const byInvoice = groupBy(payments, (p) => p.invoiceId);
    return shown.map((row) => invoiceViewOf(deps, row, byInvoice.get(row.id) ?? []));
  });
}

export async function invoiceQrCode(
  deps: InvoiceDeps,
  id: string,
  format: 'png' | 'svg',
): Promise<Uint8Array | string> {
  const view = await publicInvoiceView(deps, id);
  // Loaded on the first pay page's QR code, not at start.
  const { default: QRCode } = await import('qrcode');
  if (format === 'svg')
    return QRCode.toString(view.paymentUri, {
      type: 'svg',
      errorCorrectionLevel: 'M',
      margin: 2,
    });
  return new Uint8Array(
    await QRCode.toBuffer(view.paymentUri, {
      type: 'png',
      errorCorrectionLevel: 'M',
      margin: 2,
      scale: 6,
    }),
  );
}

export async function invoiceEvent(
  deps: InvoiceDeps,
  tx: Orm,
  view: InvoiceView,
  event: WebhookEvent,
): Promise<void> {
  const ports = { clock: deps.clock, random: deps.random };
  await announce(tx, ports, view.platformId, event, view.id, invoicePayload(deps, view));
}

/** An invoice's webhook payload. */
export function invoicePayload(deps: InvoiceDeps, view: InvoiceView): Record<string, unknown> {
  return {
    invoiceId: view.id,
    contractId: view.contractId,
    status: view.status,
    additionalStatus: view.additionalStatus,
    amountSats: view.amountSats,
    seenSats: view.seenSats,
    confirmedSats: view.confirmedSats,
  };
}

export async function invoiceView(deps: InvoiceDeps, orm: Orm, id: string): Promise<InvoiceView> {
  const [row] = await orm.select().from(tradeInvoices).where(eq(tradeInvoices.id, id));
  if (!row) throw new AppError('INVOICE_NOT_FOUND', `no invoice ${id}`);
  const payments = await orm
    .select()
    .from(tradeInvoicePayments)
    .where(eq(tradeInvoicePayments.invoiceId, id));
  return invoiceViewOf(deps, row, payments);
}

/** Addresses already checked for a network, in canonical form (a bound on memory below). */
const checkedAddresses = new Map<string, string>();
const MAX_CHECKED_ADDRESSES = 100_000;

/**
 * The invoice's BIP21 URI, its address checked for the network. Checking (a bech32 decode) was
 * about 5 % of a page's CPU time (issue 12) and its answer never changes for an (address, network)
 * pair, so it is remembered; an address that fails is not, and fails as before.
 */
function paymentUriOf(row: InvoiceRow, network: NetworkName): string {
  const request = { amount: sats(row.amountSats), message: `Invoice ${row.id}` };
  const key = `${network}:${row.address}`;
  let canonical = checkedAddresses.get(key);
  if (canonical === undefined) {
    try {
      canonical = parseAddress(row.address.trim(), network).canonical;
    } catch {
      return buildPaymentUri({ ...request, address: row.address, network }); // throws its error
    }
    if (checkedAddresses.size >= MAX_CHECKED_ADDRESSES) checkedAddresses.clear();
    checkedAddresses.set(key, canonical);
  }
  return buildPaymentUri({ ...request, address: canonical });
}

export function invoiceViewOf(
  deps: InvoiceDeps,
  row: InvoiceRow,
  payments: readonly (typeof tradeInvoicePayments.$inferSelect)[],
): InvoiceView {
  const additional: InvoiceSubStatus[] = [];
  if (row.paidPartial) additional.push('paidPartial');
  if (row.paidOver) additional.push('paidOver');
  if (row.paidLate) additional.push('paidLate');
  return {
    id: row.id,
    platformId: row.platformId,
    companyId: row.companyId,
    contractId: row.contractId,
    counterpartyId: row.counterpartyId,
    status: row.status as InvoiceStatus,
    additionalStatus: additional,
    address: row.address,
    amountSats: row.amountSats,
    amountBtc: formatBtc(row.amountSats),
    fiatMinor: row.fiatMinor,
    currency: row.currency,
    rateId: row.rateId,
    paymentUri: paymentUriOf(row, deps.network),
    seenSats: row.seenSats,
    confirmedSats: row.confirmedSats,
    description: row.description,
    expiresAt: row.expiresAt,
    watchUntil: row.watchUntil,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    settlementId: row.settlementId,
    payments: payments.map((p) => ({
      txid: p.txid,
      vout: p.vout,
      valueSats: p.valueSats,
      blockHash: p.blockHash,
      blockHeight: p.blockHeight,
      signalsRbf: p.signalsRbf,
      late: p.late,
    })),
    gateOutcome: worstOf(decisionsOf(row.gateDecisions)),
    gateDecisions: decisionsOf(row.gateDecisions),
    travelRule: row.travelRule ?? null,
  };
}
