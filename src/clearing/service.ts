import { and, eq, inArray, sql } from 'drizzle-orm';
import { AuditLog } from '../audit';
import {
  keyset,
  pageOf,
  startsWith,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import {
  AppError,
  cryptoRandom,
  invalid,
  seesEverything,
  type Caller,
  type Clock,
  type Random,
} from '../kernel';
import type { CoinOrigin, CoinOrigins, OriginRule } from '../trade';
import { connectBlock, disconnectBlock, type ClearingBlock, type WalletLookup } from './follow';
import {
  ruleAt,
  ruleState,
  setRule,
  type RuleInput,
  type RuleState,
  type RuleVersionView,
} from './rule';
import { checkLoopPeriod, loopReport, type LoopReport } from './loop';
import { clearingHoldings, clearingLots, clearingOutputs } from './schema';

export const LOT_STATUSES = ['cleared', 'quarantined', 'released', 'spent'] as const;
export type LotStatus = (typeof LOT_STATUSES)[number];
export type LotClearance = 'cleared' | 'quarantined' | 'released';
export const QUARANTINE_REASONS = ['MINED_IN_BAN', 'SITE_NOT_REGISTERED'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface LotView {
  id: string;
  attributionId: string;
  minerId: string;
  siteId: string;
  regionCode: string;
  blockHash: string;
  height: number;
  blockTime: Date;
  txid: string;
  vout: number;
  valueSats: bigint;
  status: LotStatus;
  clearance: LotClearance;
  quarantineReason: QuarantineReason | null;
  banId: string | null;
  releasedAt: Date | null;
  releasedBy: string | null;
  releaseReason: string | null;
  spentByTxid: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An output's stored clearance; the cleared share is clearedSats ÷ valueSats. */
export interface ClearedShareView {
  txid: string;
  vout: number;
  height: number;
  blockHash: string;
  valueSats: bigint;
  clearedSats: bigint;
  quarantinedSats: bigint;
  undeterminedSats: bigint;
  /** Cleared share in basis points, rounded down. */
  clearedShareBasisPoints: number;
  spentByTxid: string | null;
}

/** The chain watcher's consumer shape (ChainConsumer), structurally. */
export interface ClearingChainConsumer {
  readonly name: string;
  blockConnected(block: ClearingBlock, tx: Orm): Promise<void>;
  blockDisconnected(block: ClearingBlock, tx: Orm): Promise<void>;
}

export interface ClearingServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  /** Company wallet addresses (the registry's walletAddressOwners): their coins are watched. */
  wallets: { walletAddressOwners: WalletLookup };
}

function lotView(row: typeof clearingLots.$inferSelect): LotView {
  const { spentInBlock: _block, ...rest } = row;
  return {
    ...rest,
    status: row.status as LotStatus,
    clearance: row.clearance as LotClearance,
    quarantineReason: row.quarantineReason as QuarantineReason | null,
  };
}

/**
 * A lot search: digits are a block height (the lots of that block, through
 * `clearing_lots_height_page_idx`), anything else the start of a lot's id, whatever its case
 * (through `clearing_lots_id_prefix_idx` on `lower(id)`). A lot's id starts with `lot_`, never a
 * digit, so the two never meet.
 */
function lotSearch(q: string) {
  if (/^\d{1,10}$/.test(q)) {
    const height = Number(q);
    // Beyond an integer column's range no block is: no lot, not an error of the database.
    return height <= 2_147_483_647 ? eq(clearingLots.height, height) : sql`false`;
  }
  return startsWith(clearingLots.id, q);
}

function shareView(row: typeof clearingOutputs.$inferSelect): ClearedShareView {
  return {
    txid: row.txid,
    vout: row.vout,
    height: row.height,
    blockHash: row.blockHash,
    valueSats: row.valueSats,
    clearedSats: row.clearedSats,
    quarantinedSats: row.quarantinedSats,
    undeterminedSats: row.undeterminedSats,
    clearedShareBasisPoints: Number((row.clearedSats * 10_000n) / row.valueSats),
    spentByTxid: row.spentByTxid,
  };
}

/**
 * Regulatory clearing: the lots of registered miners' output (cleared or quarantined), their
 * clearance followed through spends to every watched output, the supervisor's releases, and the
 * cleared-origin rule that trade's coin selection applies (this service is its CoinOrigins port).
 */
export class ClearingService implements CoinOrigins {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #random: Random;
  readonly #wallets: WalletLookup;

  constructor(deps: ClearingServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = new AuditLog(deps);
    this.#random = deps.random ?? cryptoRandom;
    this.#wallets = (addresses) => deps.wallets.walletAddressOwners(addresses);
  }

  /**
   * The consumer to register with the chain watcher AFTER mining's: it reads the attributions and
   * provenance mining wrote for the same block, in the same transaction.
   */
  chainConsumer(options: { name?: string } = {}): ClearingChainConsumer {
    return {
      name: options.name ?? 'clearing',
      blockConnected: (block, tx) =>
        connectBlock(tx, block, {
          clock: this.#clock,
          audit: this.#audit,
          random: this.#random,
          wallets: this.#wallets,
        }),
      blockDisconnected: (block, tx) =>
        disconnectBlock(tx, block, { clock: this.#clock, audit: this.#audit }),
    };
  }

  // ------------------------------------------------------------------ lots

  /**
   * The loop of mined coins over [from, to) (supervisor and auditors): mined → cleared or
   * quarantined → sold → netted → paid abroad, traced per deal, with what is stuck where.
   * Seven queries at most, whatever the period holds.
   */
  async loop(caller: Caller, period: { from: Date; to: Date }): Promise<LoopReport> {
    const checked = checkLoopPeriod(caller, period.from, period.to);
    return loopReport(this.#db.orm, checked, this.#clock.now());
  }

  /** Lots, newest first: the supervisor and auditors see all, a miner its own; others 403. */
  async listLots(
    caller: Caller,
    filter: {
      /** One status, or several (the offer form's sellable lots: cleared and released). */
      status?: LotStatus | readonly LotStatus[] | undefined;
      minerId?: string | undefined;
      siteId?: string | undefined;
      /** A block height (digits: the lots mined in that block), or the start of a lot's id. */
      q?: string | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<LotView>> {
    const minerId = this.#minerScope(caller, filter.minerId);
    const statuses =
      filter.status === undefined
        ? undefined
        : typeof filter.status === 'string'
          ? [filter.status]
          : [...new Set(filter.status)];
    if (
      statuses &&
      (statuses.length === 0 ||
        statuses.some((s) => !(LOT_STATUSES as readonly string[]).includes(s)))
    )
      throw invalid('status', `must be one or more of ${LOT_STATUSES.join(', ')}`);
    const { after, orderBy, read, limit } = keyset(clearingLots, page);
    const rows = await this.#db.orm
      .select()
      .from(clearingLots)
      .where(
        and(
          minerId ? eq(clearingLots.minerId, minerId) : undefined,
          filter.siteId !== undefined ? eq(clearingLots.siteId, filter.siteId) : undefined,
          statuses ? inArray(clearingLots.status, statuses) : undefined,
          filter.q !== undefined ? lotSearch(filter.q) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(lotView));
  }

  /**
   * The lots of the given attributions (coinbase outputs) visible to the caller, in no particular
   * order: the explorer shows each origin's lot beside it. Roles that see no lots get none.
   */
  async lotsOfAttributions(caller: Caller, attributionIds: readonly string[]): Promise<LotView[]> {
    if (attributionIds.length === 0) return [];
    if (!seesEverything(caller) && caller.role !== 'miner') return [];
    const minerId = this.#minerScope(caller, undefined);
    const rows = await this.#db.orm
      .select()
      .from(clearingLots)
      .where(
        and(
          inArray(clearingLots.attributionId, [...attributionIds]),
          minerId ? eq(clearingLots.minerId, minerId) : undefined,
        ),
      );
    return rows.map(lotView);
  }

  async getLot(caller: Caller, id: string): Promise<LotView> {
    const minerId = this.#minerScope(caller, undefined);
    const [row] = await this.#db.orm
      .select()
      .from(clearingLots)
      .where(and(eq(clearingLots.id, id), minerId ? eq(clearingLots.minerId, minerId) : undefined));
    if (!row) throw new AppError('NOT_FOUND', `no lot ${id} visible to you`);
    return lotView(row);
  }

  /** The miner a caller is limited to (null: every lot); FORBIDDEN for roles that see none. */
  #minerScope(caller: Caller, asked: string | undefined): string | null {
    if (seesEverything(caller)) return asked ?? null;
    if (caller.role === 'miner') {
      if (asked && asked !== caller.participantId)
        throw new AppError('FORBIDDEN', 'a miner sees its own lots only');
      return caller.participantId;
    }
    throw new AppError('FORBIDDEN', `a ${caller.role} does not see mined lots`);
  }

  /**
   * The supervisor releases a quarantined lot, with a reason (audited): its coins count as cleared
   * from now on, in the lot and in every watched output that carries them (one statement over the
   * lot's holdings, no walk of the chain). LOT_NOT_QUARANTINED when it is not quarantined.
   */
  async release(caller: Caller, id: string, reason: string): Promise<LotView> {
    if (caller.role !== 'supervisor')
      throw new AppError('FORBIDDEN', 'only the supervisor releases quarantined lots');
    const why = reason.trim();
    if (why.length < 10) throw invalid('reason', 'must say why, in at least 10 characters');
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(clearingLots)
        .where(eq(clearingLots.id, id))
        .for('update');
      if (!row) throw new AppError('NOT_FOUND', `no lot ${id}`);
      if (row.clearance !== 'quarantined') {
        throw new AppError(
          'LOT_NOT_QUARANTINED',
          `lot ${id} is ${row.clearance}, not quarantined; only a quarantined lot is released`,
          { details: { status: row.status, clearance: row.clearance } },
        );
      }
      const after = {
        ...row,
        clearance: 'released',
        status: row.status === 'spent' ? 'spent' : 'released',
        releasedAt: now,
        releasedBy: caller.personId,
        releaseReason: why,
        updatedAt: now,
      };
      await tx.update(clearingLots).set(after).where(eq(clearingLots.id, id));
      const moved = await tx.execute(sql`update clearing_outputs as o
        set cleared_sats = o.cleared_sats + h.sats, quarantined_sats = o.quarantined_sats - h.sats
        from clearing_holdings as h
        where h.lot_id = ${id} and o.txid = h.txid and o.vout = h.vout`);
      await tx.delete(clearingHoldings).where(eq(clearingHoldings.lotId, id));
      const view = lotView(after);
      await this.#audit.record(caller, {
        action: 'clearing_lot.released',
        entityType: 'lot',
        entityId: id,
        before: { status: row.status, clearance: row.clearance },
        after: {
          status: view.status,
          clearance: view.clearance,
          reason: why,
          outputs: affectedRows(moved),
        },
      });
      return view;
    });
  }

  // ------------------------------------------------------------------ cleared shares

  /** An output's stored clearance: one primary-key read. Companies and miners: 403. */
  async clearedShare(caller: Caller, txid: string, vout: number): Promise<ClearedShareView> {
    // Any output's share is readable, so only those who see the whole scheme read it: a platform
    // could otherwise probe other platforms' clients' wallets for quarantined coins.
    if (caller.role !== 'supervisor' && caller.role !== 'auditor')
      throw new AppError('FORBIDDEN', 'cleared shares are for the supervisor and auditors');
    if (!/^[0-9a-f]{64}$/.test(txid))
      throw invalid('txid', `must be 64 lower-case hex characters, got "${txid}"`);
    if (!Number.isInteger(vout) || vout < 0)
      throw invalid('vout', `must be a non-negative integer, got ${vout}`);
    const row = await readOutput(this.#db.orm, txid, vout);
    if (!row)
      throw new AppError(
        'NOT_FOUND',
        `output ${txid}:${vout} is not watched by the scheme (no mined coins, no company wallet)`,
      );
    return shareView(row);
  }

  /**
   * CoinOrigins: the stored clearance of coins, by `txid:vout`, in one indexed query, read in the
   * caller's unit of work (the pool outside one).
   */
  async coinOrigins(
    coins: readonly { txid: string; vout: number }[],
  ): Promise<ReadonlyMap<string, CoinOrigin>> {
    const found = new Map<string, CoinOrigin>();
    if (coins.length === 0) return found;
    const rows = await this.#db
      .current()
      .select()
      .from(clearingOutputs)
      .where(
        sql`(${clearingOutputs.txid}, ${clearingOutputs.vout}) in (${sql.join(
          coins.map((c) => sql`(${c.txid}, ${c.vout})`),
          sql`, `,
        )})`,
      );
    for (const row of rows) found.set(`${row.txid}:${row.vout}`, row);
    return found;
  }

  // ------------------------------------------------------------------ the cleared-origin rule

  /** CoinOrigins: the rule in force at `at` (null when off), read in the caller's unit. */
  async ruleAt(at: Date): Promise<OriginRule | null> {
    const version = await ruleAt(this.#db.current(), at);
    return version && version.thresholdBasisPoints !== null
      ? { version: version.id, thresholdBasisPoints: version.thresholdBasisPoints }
      : null;
  }

  async rule(caller: Caller, page: PageRequest = {}): Promise<RuleState> {
    if (!seesEverything(caller) && caller.role !== 'platform')
      throw new AppError(
        'FORBIDDEN',
        'the cleared-origin rule is for the supervisor, auditors and platforms',
      );
    return ruleState(this.#db.orm, this.#clock.now(), page);
  }

  async setRule(caller: Caller, input: RuleInput): Promise<RuleVersionView> {
    return this.#db.transaction((tx) =>
      setRule(tx, caller, { clock: this.#clock, audit: this.#audit }, input),
    );
  }
}

/** One output's stored clearance, by primary key (what a decision reads). */
export async function readOutput(
  orm: Orm,
  txid: string,
  vout: number,
): Promise<typeof clearingOutputs.$inferSelect | undefined> {
  const [row] = await orm
    .select()
    .from(clearingOutputs)
    .where(and(eq(clearingOutputs.txid, txid), eq(clearingOutputs.vout, vout)));
  return row;
}

function affectedRows(result: unknown): number | null {
  const r = result as { rowCount?: number | null; affectedRows?: number | null };
  return r.rowCount ?? r.affectedRows ?? null;
}
