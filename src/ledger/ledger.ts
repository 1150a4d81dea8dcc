import { and, asc, eq, gt, gte, inArray, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { AuditLog } from '../audit';
import {
  RAISE_EXCEPTION,
  UNIQUE_VIOLATION,
  keysetOn,
  scopeTo,
  sqlState,
  violatedConstraint,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import {
  AppError,
  newId,
  satsToFiat,
  type Caller,
  type Clock,
  type Random,
  type Rate,
} from '../kernel';
import {
  ledgerAccounts,
  ledgerPostings,
  ledgerSettledOutputs,
  ledgerTransactions,
  type AccountPurpose,
} from './schema';
import { balancePage, toPurpose, type AccountBalance, type BalanceFilter } from './balances';

export interface AccountRef {
  readonly participantId: string;
  readonly purpose: AccountPurpose;
  /** The platform holding the participant's funds. */
  readonly platformId: string | null;
}

export interface PostingInput {
  readonly account: AccountRef;
  /** Positive debits the account, negative credits it. */
  readonly amountSats: bigint;
}

export interface PostRequest {
  readonly kind: string;
  readonly reference: string;
  readonly platformId: string | null;
  /** The settlement rate: every posting carries its fiat value at this rate. */
  readonly rate: { readonly id: string; readonly rate: Rate } | null;
  readonly memo?: string;
  readonly postings: readonly PostingInput[];
  /** On-chain outputs this entry settles; a live settlement of the same output is refused. */
  readonly settles?: readonly { readonly txid: string; readonly vout: number }[];
}

export type { AccountBalance, BalanceFilter } from './balances';

export interface StatementLine {
  readonly transactionId: string;
  readonly at: Date;
  readonly kind: string;
  readonly reference: string;
  readonly amountSats: bigint;
  readonly fiatMinor: bigint | null;
  readonly fiatCurrency: string | null;
  readonly balanceSats: bigint;
}

/** A page of a statement's lines (`items`, by posting), with the whole period's totals. */
export interface Statement extends Page<StatementLine> {
  readonly participantId: string;
  readonly purpose: AccountPurpose;
  readonly from: Date;
  readonly to: Date;
  readonly openingSats: bigint;
  readonly closingSats: bigint;
  readonly debitsSats: bigint;
  readonly creditsSats: bigint;
}

export function accountId(participantId: string, purpose: AccountPurpose): string {
  return `${purpose}:${participantId}`;
}

/** The fiat value of a signed sats amount: the magnitude is rounded half-even, the sign kept. */
export function fiatValue(amountSats: bigint, rate: Rate): bigint {
  const magnitude = satsToFiat(amountSats < 0n ? -amountSats : amountSats, rate, 'halfEven').minor;
  return amountSats < 0n ? -magnitude : magnitude;
}

/**
 * Double-entry postings. `post` is called by the trade services INSIDE the transaction that
 * changes an invoice's or payout's state, so the entry and the state change commit together.
 * The database is the last word: the deferred trigger refuses an unbalanced entry and the
 * partial unique index refuses a second live settlement of an output; both are checked before
 * `post` returns (SET CONSTRAINTS … IMMEDIATE) and translated into LEDGER_UNBALANCED and
 * ALREADY_SETTLED.
 */
export class LedgerService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #random: Random;

  constructor(ports: { db: Database; clock: Clock; random: Random }) {
    this.#db = ports.db;
    this.#clock = ports.clock;
    this.#audit = new AuditLog(ports);
    this.#random = ports.random;
  }

  /**
   * Posts a balanced entry in the caller's unit of work, so that it commits with the state
   * change it records; refused outside one (it would commit on its own).
   */
  async post(caller: Caller, request: PostRequest): Promise<string> {
    const tx = this.#db.currentUnit('post');
    if (request.postings.length < 2) {
      throw new AppError('LEDGER_UNBALANCED', 'a ledger entry needs at least two postings');
    }
    const total = request.postings.reduce((sum, p) => sum + p.amountSats, 0n);
    if (total !== 0n) {
      throw new AppError(
        'LEDGER_UNBALANCED',
        `ledger entry ${request.kind} for ${request.reference} does not balance: postings sum to ${total} sats`,
      );
    }
    const now = this.#clock.now();
    const id = newId('ledgerTransaction', now, this.#random);
    await this.#ensureAccounts(
      tx,
      request.postings.map((p) => p.account),
    );
    await tx.insert(ledgerTransactions).values({
      id,
      at: now,
      kind: request.kind,
      reference: request.reference,
      platformId: request.platformId,
      rateId: request.rate?.id ?? null,
      memo: request.memo ?? '',
    });
    await tx.insert(ledgerPostings).values(
      request.postings
        .filter((p) => p.amountSats !== 0n)
        .map((p) => ({
          transactionId: id,
          accountId: accountId(p.account.participantId, p.account.purpose),
          amountSats: p.amountSats,
          fiatMinor: request.rate ? fiatValue(p.amountSats, request.rate.rate) : null,
          fiatCurrency: request.rate ? request.rate.rate.quote : null,
        })),
    );
    for (const output of request.settles ?? []) {
      await this.#guard(() =>
        tx
          .insert(ledgerSettledOutputs)
          .values({ txid: output.txid, vout: output.vout, transactionId: id }),
      );
    }
    await this.#checkNow(tx);
    await this.#audit.record(caller, {
      action: 'ledger.posted',
      entityType: 'ledgerTransaction',
      entityId: id,
      after: {
        kind: request.kind,
        reference: request.reference,
        rateId: request.rate?.id ?? null,
        postings: request.postings.map((p) => ({
          account: accountId(p.account.participantId, p.account.purpose),
          sats: p.amountSats.toString(),
        })),
      },
    });
    return id;
  }

  /**
   * Undoes an entry (a reorg took its payment away): posts the negated postings and releases the
   * outputs it settled. Each entry is reversed at most once (unique `reverses`). In the caller's
   * unit of work, as `post`; refused outside one.
   */
  async reverse(caller: Caller, transactionId: string, memo: string): Promise<string> {
    const tx = this.#db.currentUnit('reverse');
    const [original] = await tx
      .select()
      .from(ledgerTransactions)
      .where(eq(ledgerTransactions.id, transactionId));
    if (!original) throw new AppError('NOT_FOUND', `no ledger transaction ${transactionId}`);
    const postings = await tx
      .select()
      .from(ledgerPostings)
      .where(eq(ledgerPostings.transactionId, transactionId));
    const now = this.#clock.now();
    const id = newId('ledgerTransaction', now, this.#random);
    await this.#guard(() =>
      tx.insert(ledgerTransactions).values({
        id,
        at: now,
        kind: 'reversal',
        reference: original.reference,
        platformId: original.platformId,
        rateId: original.rateId,
        reverses: original.id,
        memo,
      }),
    );
    await tx.insert(ledgerPostings).values(
      postings.map((p) => ({
        transactionId: id,
        accountId: p.accountId,
        amountSats: -p.amountSats,
        fiatMinor: p.fiatMinor === null ? null : -p.fiatMinor,
        fiatCurrency: p.fiatCurrency,
      })),
    );
    await tx
      .update(ledgerSettledOutputs)
      .set({ releasedBy: id })
      .where(
        and(
          eq(ledgerSettledOutputs.transactionId, transactionId),
          isNull(ledgerSettledOutputs.releasedBy),
        ),
      );
    await this.#checkNow(tx);
    await this.#audit.record(caller, {
      action: 'ledger.reversed',
      entityType: 'ledgerTransaction',
      entityId: id,
      after: { reverses: transactionId, memo },
    });
    return id;
  }

  /**
   * Balances of the accounts the caller may see, optionally of one participant or platform, or
   * of some participants' accounts of some purposes (reconciliation's page of companies).
   */
  async balances(
    caller: Caller,
    filter: {
      participantId?: string;
      platformId?: string;
      participantIds?: readonly string[];
      purposes?: readonly AccountPurpose[];
    } = {},
  ): Promise<AccountBalance[]> {
    if (filter.participantIds?.length === 0 || filter.purposes?.length === 0) return [];
    const rows = await this.#db
      .current()
      .select({
        accountId: ledgerAccounts.id,
        participantId: ledgerAccounts.participantId,
        platformId: ledgerAccounts.platformId,
        purpose: ledgerAccounts.purpose,
        balance: sql<string>`coalesce(sum(${ledgerPostings.amountSats}), 0)`,
      })
      .from(ledgerAccounts)
      .leftJoin(ledgerPostings, eq(ledgerPostings.accountId, ledgerAccounts.id))
      .where(
        and(
          scopeTo(caller, {
            participant: ledgerAccounts.participantId,
            platform: ledgerAccounts.platformId,
          }),
          filter.participantId ? eq(ledgerAccounts.participantId, filter.participantId) : undefined,
          filter.platformId ? eq(ledgerAccounts.platformId, filter.platformId) : undefined,
          filter.participantIds
            ? inArray(ledgerAccounts.participantId, [...filter.participantIds])
            : undefined,
          filter.purposes ? inArray(ledgerAccounts.purpose, [...filter.purposes]) : undefined,
        ),
      )
      .groupBy(ledgerAccounts.id)
      .orderBy(asc(ledgerAccounts.id));
    return rows.map((row) => ({
      accountId: row.accountId,
      participantId: row.participantId,
      platformId: row.platformId,
      purpose: toPurpose(row.purpose),
      balanceSats: BigInt(row.balance),
    }));
  }

  /**
   * The next `limit` distinct holders (participant ids, ascending) after `after` of accounts of
   * the given purposes the caller sees, through the accounts' (participant, purpose) index: a
   * page of the companies reconciliation covers, however deep.
   */
  async accountHolders(
    caller: Caller,
    filter: { purposes: readonly AccountPurpose[]; after: string | null; limit: number },
  ): Promise<string[]> {
    if (filter.purposes.length === 0) return [];
    const rows = await this.#db
      .current()
      .selectDistinct({ participantId: ledgerAccounts.participantId })
      .from(ledgerAccounts)
      .where(
        and(
          inArray(ledgerAccounts.purpose, [...filter.purposes]),
          scopeTo(caller, {
            participant: ledgerAccounts.participantId,
            platform: ledgerAccounts.platformId,
          }),
          filter.after === null ? undefined : gt(ledgerAccounts.participantId, filter.after),
        ),
      )
      .orderBy(asc(ledgerAccounts.participantId))
      .limit(filter.limit);
    return rows.map((r) => r.participantId);
  }

  /**
   * A page of the account balances visible to the caller, by account id (what the API serves:
   * `balances` reads those of given participants, for reconciliation, or all, for tests).
   */
  balancePage(
    caller: Caller,
    filter: BalanceFilter = {},
    page: PageRequest = {},
  ): Promise<Page<AccountBalance>> {
    return balancePage(this.#db.current(), caller, filter, page);
  }

  /** A participant's account statement over [from, to): opening balance, lines, closing. */
  async statement(
    caller: Caller,
    participantId: string,
    purpose: AccountPurpose,
    from: Date,
    to: Date,
    page: PageRequest = {},
  ): Promise<Statement> {
    if (!(from < to)) {
      throw new AppError('VALIDATION_FAILED', 'from: must be before to');
    }
    const id = accountId(participantId, purpose);
    const [account] = await this.#db
      .current()
      .select()
      .from(ledgerAccounts)
      .where(
        and(
          eq(ledgerAccounts.id, id),
          scopeTo(caller, {
            participant: ledgerAccounts.participantId,
            platform: ledgerAccounts.platformId,
          }),
        ),
      );
    if (!account) {
      throw new AppError('NOT_FOUND', `no ${purpose} account for ${participantId} visible to you`);
    }
    // The lines a page at a time, by posting (keyset on the account's postings by id); the
    // totals of the whole period and the balance before the page in one aggregate.
    const key = keysetOn<{ postingId: bigint }>(
      [{ column: ledgerPostings.id, kind: 'int', value: (row) => row.postingId }],
      'asc',
      page,
    );
    const amount = ledgerPostings.amountSats;
    const inPeriod = sql`${ledgerTransactions.at} >= ${from.toISOString()}::timestamptz`;
    const beforePage = key.position
      ? sql`${inPeriod} and ${ledgerPostings.id} <= ${key.position[0]}::bigint`
      : sql`false`;
    const [totals] = await this.#db
      .current()
      .select({
        opening: sql<string>`coalesce(sum(${amount}) filter (where not (${inPeriod})), 0)`,
        beforePage: sql<string>`coalesce(sum(${amount}) filter (where ${beforePage}), 0)`,
        debits: sql<string>`coalesce(sum(${amount}) filter (where ${inPeriod} and ${amount} > 0), 0)`,
        credits: sql<string>`coalesce(-sum(${amount}) filter (where ${inPeriod} and ${amount} < 0), 0)`,
      })
      .from(ledgerPostings)
      .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerPostings.transactionId))
      .where(and(eq(ledgerPostings.accountId, id), lt(ledgerTransactions.at, to)));
    const rows = await this.#db
      .current()
      .select({
        postingId: ledgerPostings.id,
        transactionId: ledgerTransactions.id,
        at: ledgerTransactions.at,
        kind: ledgerTransactions.kind,
        reference: ledgerTransactions.reference,
        amountSats: ledgerPostings.amountSats,
        fiatMinor: ledgerPostings.fiatMinor,
        fiatCurrency: ledgerPostings.fiatCurrency,
      })
      .from(ledgerPostings)
      .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerPostings.transactionId))
      .where(
        and(
          eq(ledgerPostings.accountId, id),
          gte(ledgerTransactions.at, from),
          lt(ledgerTransactions.at, to),
          key.after,
        ),
      )
      .orderBy(...key.orderBy)
      .limit(key.read);
    const openingSats = BigInt(totals?.opening ?? '0');
    const debits = BigInt(totals?.debits ?? '0');
    const credits = BigInt(totals?.credits ?? '0');
    let balance = openingSats + BigInt(totals?.beforePage ?? '0');
    const lines = await key.page(rows, (shown) =>
      shown.map(({ postingId: _posting, ...row }) => {
        balance += row.amountSats;
        return { ...row, balanceSats: balance };
      }),
    );
    return {
      participantId,
      purpose,
      from,
      to,
      openingSats,
      closingSats: openingSats + debits - credits,
      debitsSats: debits,
      creditsSats: credits,
      ...lines,
    };
  }

  /**
   * Of `outpoints`, those a live settlement credited ("txid:vout"): on-chain coins that are client
   * funds in the ledger. A reorg's reversal releases them (no longer credited).
   */
  async settledAmong(outpoints: readonly { txid: string; vout: number }[]): Promise<Set<string>> {
    if (outpoints.length === 0) return new Set();
    const rows = await this.#db
      .current()
      .select({ txid: ledgerSettledOutputs.txid, vout: ledgerSettledOutputs.vout })
      .from(ledgerSettledOutputs)
      .where(
        and(
          inArray(ledgerSettledOutputs.txid, [...new Set(outpoints.map((o) => o.txid))]),
          isNull(ledgerSettledOutputs.releasedBy),
        ),
      );
    return new Set(rows.map((row) => `${row.txid}:${row.vout}`));
  }

  /**
   * Of `outpoints`, those a live entry of `kind` settled ("txid:vout"): e.g. the invoice payments
   * an `invoice.settled` entry credited as client funds and no reversal released since.
   */
  async settledBy(
    kind: string,
    outpoints: readonly { txid: string; vout: number }[],
  ): Promise<Set<string>> {
    if (outpoints.length === 0) return new Set();
    const rows = await this.#db
      .current()
      .select({ txid: ledgerSettledOutputs.txid, vout: ledgerSettledOutputs.vout })
      .from(ledgerSettledOutputs)
      .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerSettledOutputs.transactionId))
      .where(
        and(
          inArray(ledgerSettledOutputs.txid, [...new Set(outpoints.map((o) => o.txid))]),
          isNull(ledgerSettledOutputs.releasedBy),
          eq(ledgerTransactions.kind, kind),
        ),
      );
    return new Set(rows.map((row) => `${row.txid}:${row.vout}`));
  }

  /**
   * Entries on the participants' accounts of the given purposes whose kind (and, for a reversal,
   * the reversed entry's kind) is none of `exceptKinds`, summed per entry and participant: what
   * a module that posts `exceptKinds` did not post there.
   */
  async entriesExcept(filter: {
    participantIds: readonly string[];
    purposes: readonly AccountPurpose[];
    exceptKinds: readonly string[];
  }): Promise<
    { id: string; kind: string; reference: string; participantId: string; sats: bigint }[]
  > {
    if (filter.participantIds.length === 0) return [];
    const reversed = alias(ledgerTransactions, 'reversed');
    const except = [...filter.exceptKinds];
    const rows = await this.#db
      .current()
      .select({
        id: ledgerTransactions.id,
        kind: ledgerTransactions.kind,
        reference: ledgerTransactions.reference,
        participantId: ledgerAccounts.participantId,
        sats: sql<string>`sum(${ledgerPostings.amountSats})`,
      })
      .from(ledgerPostings)
      .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerPostings.transactionId))
      .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerPostings.accountId))
      .leftJoin(reversed, eq(reversed.id, ledgerTransactions.reverses))
      .where(
        and(
          inArray(ledgerAccounts.participantId, [...filter.participantIds]),
          inArray(ledgerAccounts.purpose, [...filter.purposes]),
          except.length ? notInArray(ledgerTransactions.kind, except) : undefined,
          except.length ? or(isNull(reversed.kind), notInArray(reversed.kind, except)) : undefined,
        ),
      )
      .groupBy(
        ledgerTransactions.id,
        ledgerTransactions.kind,
        ledgerTransactions.reference,
        ledgerAccounts.participantId,
      );
    return rows.map((r) => ({ ...r, sats: BigInt(r.sats) }));
  }

  /** Sum of all postings (must be zero: the trial balance). */
  async trialBalance(): Promise<bigint> {
    const [row] = await this.#db
      .current()
      .select({ total: sql<string>`coalesce(sum(${ledgerPostings.amountSats}), 0)` })
      .from(ledgerPostings);
    return BigInt(row?.total ?? '0');
  }

  async #ensureAccounts(tx: Orm, accounts: readonly AccountRef[]): Promise<void> {
    const unique = new Map(accounts.map((a) => [accountId(a.participantId, a.purpose), a]));
    const existing = await tx
      .select({ id: ledgerAccounts.id })
      .from(ledgerAccounts)
      .where(inArray(ledgerAccounts.id, [...unique.keys()]));
    const have = new Set(existing.map((row) => row.id));
    const missing = [...unique.entries()].filter(([id]) => !have.has(id));
    if (missing.length === 0) return;
    await tx
      .insert(ledgerAccounts)
      .values(
        missing.map(([id, a]) => ({
          id,
          participantId: a.participantId,
          platformId: a.platformId,
          purpose: a.purpose,
          createdAt: this.#clock.now(),
        })),
      )
      .onConflictDoNothing();
  }

  /** Runs the deferred balance check now, so the error is ours to translate, not the commit's. */
  async #checkNow(tx: Orm): Promise<void> {
    await this.#guard(async () => {
      await tx.execute(sql`set constraints ledger_postings_balanced immediate`);
      await tx.execute(sql`set constraints ledger_postings_balanced deferred`);
    });
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw translateLedgerError(error);
    }
  }
}

/** Database refusals of the ledger, as domain errors. */
export function translateLedgerError(error: unknown): unknown {
  const state = sqlState(error);
  if (state === UNIQUE_VIOLATION) {
    const constraint = violatedConstraint(error) ?? '';
    if (constraint.includes('settled_outputs')) {
      return new AppError('ALREADY_SETTLED', 'that on-chain output is already settled', {
        cause: error,
      });
    }
    if (constraint.includes('reverses')) {
      return new AppError('CONFLICT', 'that ledger entry is already reversed', { cause: error });
    }
  }
  if (state === RAISE_EXCEPTION && messageOf(error).includes('LEDGER_UNBALANCED')) {
    return new AppError('LEDGER_UNBALANCED', 'the database refused an unbalanced ledger entry', {
      cause: error,
    });
  }
  return error;
}

function messageOf(error: unknown): string {
  let current: unknown = error;
  let text = '';
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    if ('message' in current && typeof current.message === 'string') text += current.message;
    current = 'cause' in current ? current.cause : undefined;
  }
  return text;
}
