import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { noteLock, scopeTo, type Orm } from '../db';
import { AppError, currency as parseCurrency, formatMoney, groupBy, type Caller } from '../kernel';
import type { ContractStatus } from './lifecycle';
import { tradeContractInstalments, tradeContracts, tradeInvoices, tradePayouts } from './schema';
import { contractTotal, contractUnit, type ContractRow, type ContractView } from './contract-terms';

/**
 * Reading contracts: a contract as the caller may see it (and locked, for a change), what open
 * invoices and payouts reserve of it, and its view with schedule and open amount.
 */

/** The caller's scope over contracts: a company its own, a platform its companies'. */
const visibleTo = (caller: Caller) =>
  scopeTo(caller, { participant: tradeContracts.companyId, platform: tradeContracts.platformId });

/** The contract row as the caller may see it, locked for the transaction (CONTRACT_NOT_FOUND). */
export async function lockContract(tx: Orm, caller: Caller, id: string): Promise<ContractRow> {
  const [row] = await tx
    .select()
    .from(tradeContracts)
    .where(and(eq(tradeContracts.id, id), visibleTo(caller)))
    .for('update');
  if (!row) throw new AppError('CONTRACT_NOT_FOUND', `no contract ${id} visible to you`);
  noteLock(tx, 'contract', id);
  return row;
}

/** The contract row as the caller may see it, unlocked (CONTRACT_NOT_FOUND). */
export async function visibleContract(orm: Orm, caller: Caller, id: string): Promise<ContractRow> {
  const [row] = await orm
    .select()
    .from(tradeContracts)
    .where(and(eq(tradeContracts.id, id), visibleTo(caller)));
  if (!row) throw new AppError('CONTRACT_NOT_FOUND', `no contract ${id} visible to you`);
  return row;
}

/**
 * Locks contract rows in id order, for a transaction that may count settlements against several
 * contracts. Every writer takes a contract before the audit head (an invoice or payout request
 * reserves against its contract, then audits), so a transaction that settles must lock its
 * contracts before its first audited write, or the two wait for each other.
 */
export async function lockContracts(tx: Orm, ids: Iterable<string>): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  await tx
    .select({ id: tradeContracts.id })
    .from(tradeContracts)
    .where(inArray(tradeContracts.id, unique))
    .orderBy(asc(tradeContracts.id))
    .for('update');
  for (const id of unique) noteLock(tx, 'contract', id);
}

/** In-flight amounts (contract unit): open invoices and payouts not yet settled or cancelled. */
export async function reservedOf(tx: Orm, contractId: string): Promise<bigint> {
  return (await reservedBy(tx, [contractId])).get(contractId) ?? 0n;
}

/** What open invoices and unfinished payouts reserve of each contract: two queries for all. */
async function reservedBy(orm: Orm, contractIds: readonly string[]): Promise<Map<string, bigint>> {
  const reserved = new Map<string, bigint>();
  if (contractIds.length === 0) return reserved;
  const invoices = await orm
    .select({
      contractId: tradeInvoices.contractId,
      total: sql<string>`coalesce(sum(${tradeInvoices.contractAmount}), 0)`,
    })
    .from(tradeInvoices)
    .where(
      and(
        inArray(tradeInvoices.contractId, [...contractIds]),
        inArray(tradeInvoices.status, ['new', 'processing']),
      ),
    )
    .groupBy(tradeInvoices.contractId);
  const payouts = await orm
    .select({
      contractId: tradePayouts.contractId,
      total: sql<string>`coalesce(sum(${tradePayouts.contractAmount}), 0)`,
    })
    .from(tradePayouts)
    .where(
      and(
        inArray(tradePayouts.contractId, [...contractIds]),
        inArray(tradePayouts.status, [
          'awaitingReview',
          'awaitingApproval',
          'awaitingPayment',
          'inProgress',
          // Held for compliance: still owed against the contract until cancelled.
          'held',
        ]),
      ),
    )
    .groupBy(tradePayouts.contractId);
  for (const { contractId, total } of [...invoices, ...payouts]) {
    reserved.set(contractId, (reserved.get(contractId) ?? 0n) + BigInt(total));
  }
  return reserved;
}

/** One contract's view as the caller may see it (CONTRACT_NOT_FOUND). */
export async function contractView(orm: Orm, caller: Caller, id: string): Promise<ContractView> {
  const row = await visibleContract(orm, caller, id);
  const [view] = await contractViews(orm, [row]);
  return view!;
}

/** The views of contract rows: their schedules and reservations in three queries for all. */
export async function contractViews(
  orm: Orm,
  rows: readonly ContractRow[],
): Promise<ContractView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const schedules = groupBy(
    await orm
      .select()
      .from(tradeContractInstalments)
      .where(inArray(tradeContractInstalments.contractId, ids))
      .orderBy(asc(tradeContractInstalments.seq)),
    (s) => s.contractId,
  );
  const reserved = await reservedBy(orm, ids);
  return rows.map((row) => viewOf(row, schedules.get(row.id) ?? [], reserved.get(row.id) ?? 0n));
}

function viewOf(
  row: ContractRow,
  schedule: readonly (typeof tradeContractInstalments.$inferSelect)[],
  reserved: bigint,
): ContractView {
  const total = contractTotal(row);
  const open = total - row.settledAmount - reserved;
  return {
    id: row.id,
    platformId: row.platformId,
    companyId: row.companyId,
    counterpartyId: row.counterpartyId,
    direction: row.direction === 'import' ? 'import' : 'export',
    goodsDescription: row.goodsDescription,
    hsCode: row.hsCode,
    incoterm: row.incoterm,
    currency: row.currency,
    amount: formatMoney({ minor: row.amountMinor, currency: parseCurrency(row.currency) }),
    pricingMode: row.pricingMode === 'fixedBtc' ? 'fixedBtc' : 'fiat',
    btcAmountSats: row.btcAmountSats,
    customsDeclarationRef: row.customsDeclarationRef,
    status: row.status as ContractStatus,
    supervisorApproval: row.supervisorApproval as ContractView['supervisorApproval'],
    unit: contractUnit(row),
    totalAmount: total,
    settledAmount: row.settledAmount,
    reservedAmount: reserved,
    openAmount: open < 0n ? 0n : open,
    schedule: schedule.map((s) => ({ seq: s.seq, dueDate: s.dueDate, amount: s.amount })),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
