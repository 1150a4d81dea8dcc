import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { recordAudit } from '../audit';
import {
  keyset,
  noteLock,
  pageOf,
  scopeTo,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import {
  AppError,
  currency as parseCurrency,
  formatMoney,
  groupBy,
  invalid,
  newId,
  parseMoney,
  sats,
  type Caller,
  type Clock,
  type Random,
} from '../kernel';
import {
  assertTransition,
  CONTRACT_TRANSITIONS,
  type ContractAction,
  type ContractStatus,
} from './lifecycle';
import type { PartyDirectory } from './ports';
import { tradeContractInstalments, tradeContracts, tradeInvoices, tradePayouts } from './schema';
import { loadSettings, SCHEME_SETTINGS_ID } from './settings';

export { CONTRACT_STATUSES } from './lifecycle';
export type { ContractAction, ContractStatus } from './lifecycle';
/** Incoterms 2020 (ICC). */
export const INCOTERMS = [
  'EXW',
  'FCA',
  'CPT',
  'CIP',
  'DAP',
  'DPU',
  'DDP',
  'FAS',
  'FOB',
  'CFR',
  'CIF',
] as const;
export type Incoterm = (typeof INCOTERMS)[number];
export type PricingMode = 'fixedBtc' | 'fiat';
export type Direction = 'export' | 'import';

export interface ContractInput {
  readonly companyId?: string;
  readonly counterpartyId: string;
  readonly direction: Direction;
  readonly goodsDescription: string;
  readonly hsCode: string;
  readonly incoterm: Incoterm;
  readonly currency: string;
  /** Decimal in the contract currency, e.g. "12500.00". */
  readonly amount: string;
  readonly pricingMode: PricingMode;
  /** For fixedBtc: the price in sats. */
  readonly btcAmountSats?: string;
  /** Instalments; amounts in the contract's unit (sats for fixedBtc, the currency otherwise). */
  readonly schedule: readonly { readonly dueDate: string; readonly amount: string }[];
  readonly customsDeclarationRef?: string | null;
}

export interface ContractView {
  readonly id: string;
  readonly platformId: string;
  readonly companyId: string;
  readonly counterpartyId: string;
  readonly direction: Direction;
  readonly goodsDescription: string;
  readonly hsCode: string;
  readonly incoterm: string;
  readonly currency: string;
  readonly amount: string;
  readonly pricingMode: PricingMode;
  readonly btcAmountSats: bigint | null;
  readonly customsDeclarationRef: string | null;
  readonly status: ContractStatus;
  readonly supervisorApproval: 'notRequired' | 'pending' | 'granted';
  /** The unit the contract is counted in: 'BTC' (sats) for fixedBtc, else the currency (minor units). */
  readonly unit: string;
  readonly totalAmount: bigint;
  readonly settledAmount: bigint;
  readonly reservedAmount: bigint;
  readonly openAmount: bigint;
  readonly schedule: readonly { seq: number; dueDate: string; amount: bigint }[];
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

type ContractRow = typeof tradeContracts.$inferSelect;

export function contractUnit(row: Pick<ContractRow, 'pricingMode' | 'currency'>): string {
  return row.pricingMode === 'fixedBtc' ? 'BTC' : row.currency;
}

export function contractTotal(
  row: Pick<ContractRow, 'pricingMode' | 'btcAmountSats' | 'amountMinor'>,
): bigint {
  return row.pricingMode === 'fixedBtc' ? (row.btcAmountSats ?? 0n) : row.amountMinor;
}

export class ContractService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #directory: PartyDirectory;

  constructor(ports: { db: Database; clock: Clock; random: Random; directory: PartyDirectory }) {
    this.#db = ports.db;
    this.#clock = ports.clock;
    this.#random = ports.random;
    this.#directory = ports.directory;
  }

  async create(caller: Caller, input: ContractInput): Promise<ContractView> {
    const companyId = caller.role === 'company' ? caller.participantId : input.companyId;
    if (!companyId) throw invalid('companyId', 'is required when a platform registers a contract');
    if (caller.role !== 'company' && caller.role !== 'platform') {
      throw new AppError('FORBIDDEN', 'contracts are registered by the company or its platform');
    }
    if (!/^\d{6}$/.test(input.hsCode)) {
      throw invalid('hsCode', `must be a 6-digit Harmonized System code, got "${input.hsCode}"`);
    }
    if (!(INCOTERMS as readonly string[]).includes(input.incoterm)) {
      throw invalid(
        'incoterm',
        `must be an Incoterms 2020 rule (${INCOTERMS.join(', ')}), got "${input.incoterm}"`,
      );
    }
    const code = parseCurrency(input.currency);
    const amount = parseMoney(input.amount, code, 'amount');
    if (amount.minor <= 0n)
      throw invalid('amount', `must be greater than zero, got "${input.amount}"`);
    let btcAmountSats: bigint | null = null;
    if (input.pricingMode === 'fixedBtc') {
      if (!input.btcAmountSats)
        throw invalid('btcAmountSats', 'is required when pricingMode is fixedBtc');
      btcAmountSats = sats(input.btcAmountSats, 'btcAmountSats');
      if (btcAmountSats <= 0n) throw invalid('btcAmountSats', 'must be greater than zero');
    } else if (input.btcAmountSats !== undefined) {
      throw invalid('btcAmountSats', 'is only for pricingMode fixedBtc');
    }
    const total = btcAmountSats ?? amount.minor;
    if (input.schedule.length === 0) throw invalid('schedule', 'needs at least one instalment');
    const schedule = input.schedule.map((instalment, i) => {
      if (
        !/^\d{4}-\d{2}-\d{2}$/.test(instalment.dueDate) ||
        Number.isNaN(Date.parse(instalment.dueDate))
      ) {
        throw invalid(
          `schedule[${i}].dueDate`,
          `must be a date like 2026-09-30, got "${instalment.dueDate}"`,
        );
      }
      const value =
        btcAmountSats !== null
          ? sats(instalment.amount, `schedule[${i}].amount`)
          : parseMoney(instalment.amount, code, `schedule[${i}].amount`).minor;
      if (value <= 0n) throw invalid(`schedule[${i}].amount`, 'must be greater than zero');
      return { seq: i + 1, dueDate: instalment.dueDate, amount: value };
    });
    const scheduled = schedule.reduce((s, x) => s + x.amount, 0n);
    if (scheduled !== total) {
      throw invalid(
        'schedule',
        `instalments sum to ${scheduled} but the contract amount is ${total} (${btcAmountSats !== null ? 'sats' : `${code} minor units`})`,
      );
    }
    return this.#db.transaction(async (tx) => {
      const company = await this.#directory.company(companyId, tx);
      if (!company || (caller.role === 'platform' && company.platformId !== caller.participantId)) {
        throw new AppError('PARTICIPANT_NOT_FOUND', `no company ${companyId} visible to you`);
      }
      const counterparty = await this.#directory.counterparty(input.counterpartyId, tx);
      // A counterparty belongs to the platform that registered it (and vouches for its KYB):
      // another platform's counterparty is not visible to this company.
      if (!counterparty || counterparty.platformId !== company.platformId)
        throw new AppError(
          'PARTICIPANT_NOT_FOUND',
          `no counterparty ${input.counterpartyId} registered by platform ${company.platformId}`,
        );
      const now = this.#clock.now();
      const id = newId('contract', now, this.#random);
      await tx.insert(tradeContracts).values({
        id,
        platformId: company.platformId,
        companyId,
        counterpartyId: counterparty.id,
        direction: input.direction,
        goodsDescription: input.goodsDescription,
        hsCode: input.hsCode,
        incoterm: input.incoterm,
        currency: code,
        amountMinor: amount.minor,
        pricingMode: input.pricingMode,
        btcAmountSats,
        customsDeclarationRef: input.customsDeclarationRef ?? null,
        status: 'draft',
        supervisorApproval: 'notRequired',
        createdBy: caller.actorId,
        createdByPerson: caller.personId,
        createdAt: now,
        updatedAt: now,
      });
      await tx
        .insert(tradeContractInstalments)
        .values(schedule.map((s) => ({ contractId: id, ...s })));
      const view = await this.#view(tx, caller, id);
      await recordAudit(tx, caller, this.#clock, {
        action: 'contract.created',
        entityType: 'contract',
        entityId: id,
        after: view,
      });
      return view;
    });
  }

  async get(caller: Caller, id: string, orm: Orm = this.#db.orm): Promise<ContractView> {
    return this.#view(orm, caller, id);
  }

  /** A page of the contracts visible to the caller, newest first (keyset on created_at, id). */
  async list(
    caller: Caller,
    filter: { status?: ContractStatus; companyId?: string } = {},
    page: PageRequest = {},
  ): Promise<Page<ContractView>> {
    const { after, orderBy, read, limit } = keyset(tradeContracts, page);
    const rows = await this.#db.orm
      .select()
      .from(tradeContracts)
      .where(
        and(
          scopeTo(caller, {
            participant: tradeContracts.companyId,
            platform: tradeContracts.platformId,
          }),
          filter.status ? eq(tradeContracts.status, filter.status) : undefined,
          filter.companyId ? eq(tradeContracts.companyId, filter.companyId) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => this.#views(this.#db.orm, shown));
  }

  /** Moves a contract along draft → submitted → approved → active → settled / cancelled / disputed. */
  async transition(caller: Caller, id: string, action: ContractAction): Promise<ContractView> {
    if (!Object.hasOwn(CONTRACT_TRANSITIONS, action))
      throw invalid('action', `unknown contract action "${action}"`);
    const rule = CONTRACT_TRANSITIONS[action];
    return this.#db.transaction(async (tx) => {
      const row = await this.#lock(tx, caller, id);
      const before = await this.#view(tx, caller, id);
      // The supervisor's own approval of a contract above the scheme threshold.
      if (action === 'approve' && caller.role === 'supervisor') {
        if (row.supervisorApproval !== 'pending') {
          throw new AppError(
            'INVALID_STATE_TRANSITION',
            `contract ${id} is not awaiting the supervisor's approval`,
          );
        }
        await tx
          .update(tradeContracts)
          .set({ supervisorApproval: 'granted', updatedAt: this.#clock.now() })
          .where(eq(tradeContracts.id, id));
        const after = await this.#view(tx, caller, id);
        await recordAudit(tx, caller, this.#clock, {
          action: 'contract.supervisorApproved',
          entityType: 'contract',
          entityId: id,
          before,
          after,
        });
        return after;
      }
      this.#authorize(caller, row, action);
      assertTransition(`contract ${id}`, rule, action, row.status);
      // Four eyes, always: the person approving is neither the one who created the contract nor
      // the one who submitted it, whatever credential each used.
      if (
        rule.fourEyes &&
        (caller.personId === row.createdByPerson || caller.personId === row.submittedByPerson)
      ) {
        throw new AppError(
          'SELF_APPROVAL',
          `contract ${id} was created or submitted by ${caller.personId}; another person must ${action} it`,
        );
      }
      const patch: Partial<typeof tradeContracts.$inferInsert> = {
        status: rule.to,
        updatedAt: this.#clock.now(),
      };
      if (action === 'submit') patch.submittedByPerson = caller.personId;
      if (rule.gate) {
        const company = await this.#directory.company(row.companyId, tx);
        const counterparty = await this.#directory.counterparty(row.counterpartyId, tx);
        if (!company?.verified) throw notVerified('company', row.companyId, company?.name);
        if (!counterparty?.verified)
          throw notVerified('counterparty', row.counterpartyId, counterparty?.name);
      }
      if (action === 'approve') {
        const scheme = await loadSettings(tx, SCHEME_SETTINGS_ID);
        const unit = contractUnit(row);
        const threshold = scheme.supervisorThresholds[unit];
        patch.supervisorApproval =
          threshold !== undefined && contractTotal(row) > threshold ? 'pending' : 'notRequired';
      }
      if (action === 'activate' && row.supervisorApproval === 'pending') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `contract ${id} is above the supervisor's threshold and awaits the supervisor's approval`,
        );
      }
      if (action === 'cancel' && row.status === 'active') {
        const reserved = await this.#reserved(tx, id);
        if (reserved > 0n || row.settledAmount > 0n) {
          throw new AppError(
            'INVALID_STATE_TRANSITION',
            `contract ${id} has payments in flight or settled; dispute it instead`,
          );
        }
      }
      await tx.update(tradeContracts).set(patch).where(eq(tradeContracts.id, id));
      const after = await this.#view(tx, caller, id);
      await recordAudit(tx, caller, this.#clock, {
        action: `contract.${rule.to}`,
        entityType: 'contract',
        entityId: id,
        before,
        after,
      });
      return after;
    });
  }

  /**
   * Inside a payment's transaction: locks the contract, checks it is active and that `amount`
   * (in the contract's unit) fits its open amount plus the tolerance. Returns the locked row.
   */
  /**
   * The first step of every payment against a contract (an invoice or a payout): the contract as
   * the caller may see it (CONTRACT_NOT_FOUND otherwise), `amountText` read in the contract's
   * unit (sats for a fixed-BTC contract, minor units of its currency otherwise), and that amount
   * reserved against the open amount (which locks the contract row for the transaction).
   */
  async reserveForPayment(
    tx: Orm,
    caller: Caller,
    contractId: string,
    amountText: string,
    direction: Direction,
  ): Promise<{
    contract: ContractRow;
    fixedBtc: boolean;
    contractAmount: bigint;
    reservation: { contract: ContractRow; open: bigint; tolerance: bigint };
  }> {
    const [contract] = await tx
      .select()
      .from(tradeContracts)
      .where(
        and(
          eq(tradeContracts.id, contractId),
          scopeTo(caller, {
            participant: tradeContracts.companyId,
            platform: tradeContracts.platformId,
          }),
        ),
      );
    if (!contract)
      throw new AppError('CONTRACT_NOT_FOUND', `no contract ${contractId} visible to you`);
    const fixedBtc = contract.pricingMode === 'fixedBtc';
    const contractAmount = fixedBtc
      ? sats(amountText, 'amount')
      : parseMoney(amountText, contract.currency, 'amount').minor;
    if (contractAmount <= 0n)
      throw invalid('amount', `must be greater than zero, got "${amountText}"`);
    const reservation = await this.reserve(tx, caller, contract.id, contractAmount, direction);
    return { contract, fixedBtc, contractAmount, reservation };
  }

  async reserve(
    tx: Orm,
    caller: Caller,
    contractId: string,
    amount: bigint,
    direction: Direction,
  ): Promise<{ contract: ContractRow; open: bigint; tolerance: bigint }> {
    const row = await this.#lock(tx, caller, contractId);
    if (row.status !== 'active') {
      throw new AppError(
        'CONTRACT_NOT_ACTIVE',
        `contract ${contractId} is ${row.status}; payments need an active contract`,
      );
    }
    if (row.direction !== direction) {
      throw new AppError(
        'VALIDATION_FAILED',
        `contract ${contractId} is an ${row.direction} contract: ${direction === 'export' ? 'invoices are for export contracts' : 'payouts are for import contracts'}`,
      );
    }
    const settings = await loadSettings(tx, row.platformId);
    const total = contractTotal(row);
    const reserved = await this.#reserved(tx, contractId);
    const tolerance = (total * BigInt(settings.toleranceBps)) / 10_000n;
    const allowed = total + tolerance;
    const open = allowed - row.settledAmount - reserved;
    if (amount > open) {
      throw new AppError(
        'AMOUNT_EXCEEDS_OPEN',
        `amount ${amount} exceeds the open amount ${open < 0n ? 0n : open} of contract ${contractId} (${contractUnit(row)}, tolerance ${settings.toleranceBps} bp)`,
        { details: { open: (open < 0n ? 0n : open).toString(), unit: contractUnit(row) } },
      );
    }
    return { contract: row, open: open - tolerance, tolerance };
  }

  /**
   * A payment's standing against its contract at a later step (the gate decided again): the
   * contract row and what is open of it, the payment's own reservation `ownAmount` counted as
   * open (contract unit). Reads only; refuses nothing (the caller holds on what it finds).
   */
  async standing(
    tx: Orm,
    contractId: string,
    ownAmount: bigint,
  ): Promise<{ contract: ContractRow; open: bigint; tolerance: bigint }> {
    const [row] = await tx.select().from(tradeContracts).where(eq(tradeContracts.id, contractId));
    if (!row) throw new AppError('CONTRACT_NOT_FOUND', `no contract ${contractId}`);
    const settings = await loadSettings(tx, row.platformId);
    const total = contractTotal(row);
    const tolerance = (total * BigInt(settings.toleranceBps)) / 10_000n;
    const reserved = await this.#reserved(tx, contractId);
    const open = total - row.settledAmount - reserved + ownAmount;
    return { contract: row, open, tolerance };
  }

  /** A settlement counts against the contract; the contract settles when nothing is open. */
  async applySettlement(tx: Orm, caller: Caller, contractId: string, delta: bigint): Promise<void> {
    const [row] = await tx
      .select()
      .from(tradeContracts)
      .where(eq(tradeContracts.id, contractId))
      .for('update');
    if (!row) throw new AppError('CONTRACT_NOT_FOUND', `no contract ${contractId}`);
    const settled = row.settledAmount + delta;
    const total = contractTotal(row);
    let status = row.status;
    if (delta > 0n && row.status === 'active' && settled >= total) status = 'settled';
    if (delta < 0n && row.status === 'settled' && settled < total) status = 'active';
    await tx
      .update(tradeContracts)
      .set({ settledAmount: settled < 0n ? 0n : settled, status, updatedAt: this.#clock.now() })
      .where(eq(tradeContracts.id, contractId));
    if (status !== row.status) {
      await recordAudit(tx, caller, this.#clock, {
        action: `contract.${status}`,
        entityType: 'contract',
        entityId: contractId,
        before: { status: row.status, settledAmount: row.settledAmount },
        after: { status, settledAmount: settled },
      });
    }
  }

  async #lock(tx: Orm, caller: Caller, id: string): Promise<ContractRow> {
    const [row] = await tx
      .select()
      .from(tradeContracts)
      .where(
        and(
          eq(tradeContracts.id, id),
          scopeTo(caller, {
            participant: tradeContracts.companyId,
            platform: tradeContracts.platformId,
          }),
        ),
      )
      .for('update');
    if (!row) throw new AppError('CONTRACT_NOT_FOUND', `no contract ${id} visible to you`);
    noteLock(tx, 'contract', id);
    return row;
  }

  #authorize(caller: Caller, row: ContractRow, action: ContractAction): void {
    const platformSide = caller.role === 'platform' && caller.participantId === row.platformId;
    const companySide = caller.role === 'company' && caller.participantId === row.companyId;
    const allowed =
      action === 'submit' || action === 'cancel' || action === 'dispute'
        ? platformSide || companySide
        : action === 'resume'
          ? platformSide || caller.role === 'supervisor'
          : platformSide;
    if (!allowed)
      throw new AppError('FORBIDDEN', `a ${caller.role} may not ${action} this contract`);
  }

  /** In-flight amounts (contract unit): open invoices and payouts not yet settled or cancelled. */
  async #reserved(tx: Orm, contractId: string): Promise<bigint> {
    return (await this.#reservedBy(tx, [contractId])).get(contractId) ?? 0n;
  }

  /** What open invoices and unfinished payouts reserve of each contract: two queries for all. */
  async #reservedBy(orm: Orm, contractIds: readonly string[]): Promise<Map<string, bigint>> {
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

  async #view(orm: Orm, caller: Caller, id: string): Promise<ContractView> {
    const [row] = await orm
      .select()
      .from(tradeContracts)
      .where(
        and(
          eq(tradeContracts.id, id),
          scopeTo(caller, {
            participant: tradeContracts.companyId,
            platform: tradeContracts.platformId,
          }),
        ),
      );
    if (!row) throw new AppError('CONTRACT_NOT_FOUND', `no contract ${id} visible to you`);
    const [view] = await this.#views(orm, [row]);
    return view!;
  }

  /** The views of contract rows: their schedules and reservations in three queries for all. */
  async #views(orm: Orm, rows: readonly ContractRow[]): Promise<ContractView[]> {
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
    const reserved = await this.#reservedBy(orm, ids);
    return rows.map((row) => viewOf(row, schedules.get(row.id) ?? [], reserved.get(row.id) ?? 0n));
  }
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

/** A party of the contract not verified: named, with its id for the screen that verifies it. */
function notVerified(
  party: 'company' | 'counterparty',
  participantId: string,
  name: string | undefined,
): AppError {
  const check = party === 'company' ? 'KYB' : 'KYC';
  return new AppError(
    'KYC_NOT_VERIFIED',
    `${party} ${name ?? participantId} has not passed ${check} verification`,
    { details: { party, participantId, participantName: name ?? participantId } },
  );
}
