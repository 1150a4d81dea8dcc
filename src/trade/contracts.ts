import { AuditLog } from '../audit';
import { and, eq } from 'drizzle-orm';
import {
  keyset,
  pageOf,
  scopeTo,
  startsWith,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import {
  AppError,
  countsAsPerson,
  invalid,
  newId,
  parseMoney,
  sats,
  type Caller,
  type Clock,
  type Random,
} from '../kernel';
import type { ContractAction, ContractStatus } from './lifecycle';
import type { PartyDirectory } from './ports';
import { tradeContractInstalments, tradeContracts } from './schema';
import { loadSettings } from './settings';
import {
  checkContractInput,
  contractTotal,
  contractUnit,
  type ContractInput,
  type ContractRow,
  type ContractView,
  type Direction,
} from './contract-terms';
import { transitionContract } from './contract-transitions';
import {
  contractView,
  contractViews,
  lockContract,
  reservedOf,
  visibleContract,
} from './contract-views';

/**
 * Trade contracts, the service: registering one, reading them, moving one along its lifecycle
 * (contract-transitions.ts), and the reservations and settlements payments count against it.
 * Its terms and input checks are contract-terms.ts; its reads and views contract-views.ts.
 */

export { CONTRACT_STATUSES } from './lifecycle';
export type { ContractAction, ContractStatus } from './lifecycle';
export { INCOTERMS, contractTotal, contractUnit } from './contract-terms';
export type {
  ContractInput,
  ContractView,
  Direction,
  Incoterm,
  PricingMode,
} from './contract-terms';
export { lockContracts } from './contract-views';

/** A payment's figures against its contract, as `reserveForPayment` and `quotePayment` find them. */
export interface PaymentTerms {
  contract: ContractRow;
  fixedBtc: boolean;
  /** The amount in the contract's unit (sats for a fixed-BTC contract, else minor units). */
  contractAmount: bigint;
  reservation: { contract: ContractRow; open: bigint; tolerance: bigint };
}

/** The contract as the caller may see it and `amountText` read in its unit (refused unless > 0). */
async function paymentAmount(orm: Orm, caller: Caller, contractId: string, amountText: string) {
  const contract = await visibleContract(orm, caller, contractId);
  const fixedBtc = contract.pricingMode === 'fixedBtc';
  const contractAmount = fixedBtc
    ? sats(amountText, 'amount')
    : parseMoney(amountText, contract.currency, 'amount').minor;
  if (contractAmount <= 0n)
    throw invalid('amount', `must be greater than zero, got "${amountText}"`);
  return { contract, fixedBtc, contractAmount };
}

export class ContractService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #random: Random;
  readonly #directory: PartyDirectory;

  constructor(ports: { db: Database; clock: Clock; random: Random; directory: PartyDirectory }) {
    this.#db = ports.db;
    this.#audit = new AuditLog(ports);
    this.#clock = ports.clock;
    this.#random = ports.random;
    this.#directory = ports.directory;
  }

  async create(caller: Caller, input: ContractInput): Promise<ContractView> {
    // The creator is one of four eyes' persons (never its approver): a named person, never the
    // operator channel (kernel `countsAsPerson`).
    if (!countsAsPerson(caller))
      throw new AppError(
        'FORBIDDEN',
        'a contract is registered by a named person (four eyes); the operator channel is not one',
      );
    const terms = checkContractInput(caller, input);
    const { companyId } = terms;
    return this.#db.transaction(async (tx) => {
      const company = await this.#directory.company(companyId);
      if (!company || (caller.role === 'platform' && company.platformId !== caller.participantId)) {
        throw new AppError('PARTICIPANT_NOT_FOUND', `no company ${companyId} visible to you`);
      }
      const counterparty = await this.#directory.counterparty(input.counterpartyId);
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
        currency: terms.currency,
        amountMinor: terms.amountMinor,
        pricingMode: input.pricingMode,
        btcAmountSats: terms.btcAmountSats,
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
        .values(terms.schedule.map((s) => ({ contractId: id, ...s })));
      const view = await contractView(tx, caller, id);
      await this.#audit.record(caller, {
        action: 'contract.created',
        entityType: 'contract',
        entityId: id,
        after: view,
      });
      return view;
    });
  }

  /** The contract as the caller may see it, read in the caller's unit of work (if any). */
  async get(caller: Caller, id: string): Promise<ContractView> {
    return contractView(this.#db.current(), caller, id);
  }

  /**
   * A page of the contracts visible to the caller, newest first (keyset on created_at, id).
   * `q` keeps those whose goods description starts with it, whatever its case (a picker's
   * search, through trade_contracts_goods_prefix_idx); a status is read through the reader's
   * `(owner, status, created_at, id)` index, so the active few are found behind many settled.
   */
  async list(
    caller: Caller,
    filter: {
      status?: ContractStatus;
      companyId?: string;
      direction?: Direction;
      q?: string;
    } = {},
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
          filter.direction ? eq(tradeContracts.direction, filter.direction) : undefined,
          filter.q ? startsWith(tradeContracts.goodsDescription, filter.q) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => contractViews(this.#db.orm, shown));
  }

  /** Moves a contract along draft → submitted → approved → active → settled / cancelled / disputed. */
  async transition(caller: Caller, id: string, action: ContractAction): Promise<ContractView> {
    const ports = {
      db: this.#db,
      clock: this.#clock,
      audit: this.#audit,
      directory: this.#directory,
    };
    return transitionContract(ports, caller, id, action);
  }

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
  ): Promise<PaymentTerms> {
    const { contract, fixedBtc, contractAmount } = await paymentAmount(
      tx,
      caller,
      contractId,
      amountText,
    );
    const reservation = await this.reserve(tx, caller, contract.id, contractAmount, direction);
    return { contract, fixedBtc, contractAmount, reservation };
  }

  /**
   * `reserveForPayment`'s checks and figures without the lock: what a payment against the
   * contract would reserve as things stand (a creation decided ahead of its transaction, which
   * reserves it again, locked, and fails if it no longer fits).
   */
  async quotePayment(
    orm: Orm,
    caller: Caller,
    contractId: string,
    amountText: string,
    direction: Direction,
  ): Promise<PaymentTerms> {
    const { contract, fixedBtc, contractAmount } = await paymentAmount(
      orm,
      caller,
      contractId,
      amountText,
    );
    const reservation = await this.#fits(orm, contract, contractAmount, direction);
    return { contract, fixedBtc, contractAmount, reservation };
  }

  /**
   * Inside a payment's transaction: locks the contract, checks it is active and that `amount`
   * (in the contract's unit) fits its open amount plus the tolerance. Returns the locked row.
   */
  async reserve(
    tx: Orm,
    caller: Caller,
    contractId: string,
    amount: bigint,
    direction: Direction,
  ): Promise<{ contract: ContractRow; open: bigint; tolerance: bigint }> {
    return this.#fits(tx, await lockContract(tx, caller, contractId), amount, direction);
  }

  /** Whether `amount` fits the contract `row` (active, of `direction`), and what is open of it. */
  async #fits(
    tx: Orm,
    row: ContractRow,
    amount: bigint,
    direction: Direction,
  ): Promise<{ contract: ContractRow; open: bigint; tolerance: bigint }> {
    const contractId = row.id;
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
    const reserved = await reservedOf(tx, contractId);
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
    const reserved = await reservedOf(tx, contractId);
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
      await this.#audit.record(caller, {
        action: `contract.${status}`,
        entityType: 'contract',
        entityId: contractId,
        before: { status: row.status, settledAmount: row.settledAmount },
        after: { status, settledAmount: settled },
      });
    }
  }
}
