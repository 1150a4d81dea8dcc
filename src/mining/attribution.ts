import { and, eq, gte, inArray, lt } from 'drizzle-orm';
import type { ChainBlock } from '../chain';
import { toHex } from '../bitcoin';
import { keyset, pageOf, scopeTo, type Orm, type Page, type PageRequest } from '../db';
import { AppError, invalid, newId, systemCaller, type Caller } from '../kernel';
import {
  miningAttributions,
  miningBlocks,
  miningPayoutAddresses,
  miningSites,
  miningViolations,
  provenanceOutputs,
} from './schema';
import {
  MINING_BAN_VIOLATION,
  VIOLATION_STATUSES,
  type AttributionView,
  type MiningChainConsumer,
  type ViolationStatus,
  type ViolationView,
} from './types';
import { forbidden, type MiningContext } from './shared';
import { attributionView, violationView, type ViolationRecord } from './views';
import { namesOf } from './names';
import type { BanCalendar } from './bans';
import { tagCoinbaseOutput, traceTransaction } from './provenance';

/**
 * Attribution: the chain consumer that attributes coinbase outputs to registered payout
 * addresses (recording MINING_BAN_VIOLATION when mined inside a ban) and hands each block's
 * spends to the provenance tracer; the attribution and violation lists; moving a violation along.
 */
export class Attribution {
  readonly #ctx: MiningContext;
  readonly #bans: BanCalendar;

  constructor(ctx: MiningContext, bans: BanCalendar) {
    this.#ctx = ctx;
    this.#bans = bans;
  }

  // ------------------------------------------------------------------ attribution and provenance (chain consumer)

  /**
   * The chain consumer: attribution of coinbase outputs to registered payout addresses (with ban
   * violations) and the provenance tracer, in one consumer so that they see blocks in one order.
   * Runs inside the watcher's cursor transaction; idempotent by block hash (a block already
   * recorded in mining_blocks is skipped); a disconnected block's rows are deleted by cascade.
   */
  chainConsumer(options: { name?: string } = {}): MiningChainConsumer {
    return {
      name: options.name ?? 'mining',
      blockConnected: (block, tx) => this.#connect(block, tx),
      blockDisconnected: (block, tx) => this.#disconnect(block, tx),
    };
  }
  async #connect(block: ChainBlock, tx: Orm): Promise<void> {
    const blockTime = new Date(block.time * 1000);
    const inserted = await tx
      .insert(miningBlocks)
      .values({ hash: block.hash, height: block.height, time: blockTime })
      .onConflictDoNothing()
      .returning({ hash: miningBlocks.hash });
    if (inserted.length === 0) return;
    const now = this.#ctx.clock.now();

    // 1. Attribution: coinbase outputs paying registered payout addresses.
    await this.#attribute(block, tx, blockTime, now);

    // 2. Provenance: spends of tagged outputs pass their tags on by the haircut rule (each
    // input's value comes with the block: no chain call inside the block's transaction).
    for (const transaction of block.transactions) await traceTransaction(tx, block, transaction);
  }

  async #attribute(block: ChainBlock, tx: Orm, blockTime: Date, now: Date): Promise<void> {
    const coinbase = block.transactions.find((t) => t.coinbase);
    if (coinbase) {
      const scripts = coinbase.outputs.map((o) => toHex(o.script));
      const payouts = scripts.length
        ? await tx
            .select()
            .from(miningPayoutAddresses)
            .where(inArray(miningPayoutAddresses.scriptHex, scripts))
        : [];
      const byScript = new Map(payouts.map((p) => [p.scriptHex, p]));
      for (const output of coinbase.outputs) {
        const payout = byScript.get(toHex(output.script));
        if (!payout) continue;
        const [site] = await tx.select().from(miningSites).where(eq(miningSites.id, payout.siteId));
        if (!site) continue;
        const attribution = {
          id: newId('attribution', now, this.#ctx.random),
          blockHash: block.hash,
          height: block.height,
          blockTime,
          txid: coinbase.txid,
          vout: output.vout,
          valueSats: output.valueSats,
          address: payout.address,
          minerId: payout.minerId,
          siteId: site.id,
          regionCode: site.regionCode,
          payoutKind: payout.kind,
          poolName: payout.poolName,
        };
        await tx.insert(miningAttributions).values(attribution);
        // Provenance starts here: the coinbase output is wholly of this origin.
        if (output.valueSats > 0n) {
          await tagCoinbaseOutput(tx, block, coinbase.txid, output, attribution.id);
        }
        const ban = await this.#bans.isBanned(site.regionCode, blockTime);
        const first = ban.bans[0];
        if (first) await this.#recordViolation(tx, attribution, first.id, now);
      }
    }
  }

  /** A coinbase output mined inside a ban in force: its MINING_BAN_VIOLATION record, audited. */
  async #recordViolation(
    tx: Orm,
    attribution: typeof miningAttributions.$inferInsert,
    banId: string,
    now: Date,
  ): Promise<void> {
    await tx.insert(miningViolations).values({
      attributionId: attribution.id,
      code: MINING_BAN_VIOLATION,
      banId,
      minerId: attribution.minerId,
      siteId: attribution.siteId,
      regionCode: attribution.regionCode,
      blockHash: attribution.blockHash,
      height: attribution.height,
      blockTime: attribution.blockTime,
      valueSats: attribution.valueSats,
      status: 'open',
      alertId: null,
      note: null,
      createdAt: now,
      updatedAt: now,
    });
    await this.#ctx.audit.record(systemCaller('mining-attributor'), {
      action: 'mining_violation.detected',
      entityType: 'attribution',
      entityId: attribution.id,
      after: {
        code: MINING_BAN_VIOLATION,
        banId,
        minerId: attribution.minerId,
        siteId: attribution.siteId,
        blockHash: attribution.blockHash,
      },
    });
  }

  async #disconnect(block: ChainBlock, tx: Orm): Promise<void> {
    // Outputs this block's transactions spent are unspent again; everything the block added
    // (attributions with their violations, provenance outputs, tags and inputs) goes by cascade.
    await tx
      .update(provenanceOutputs)
      .set({ spentByTxid: null, spentInBlock: null })
      .where(eq(provenanceOutputs.spentInBlock, block.hash));
    const removed = await tx
      .delete(miningViolations)
      .where(eq(miningViolations.blockHash, block.hash))
      .returning({ attributionId: miningViolations.attributionId });
    await tx.delete(miningBlocks).where(eq(miningBlocks.hash, block.hash));
    for (const violation of removed) {
      await this.#ctx.audit.record(systemCaller('mining-attributor'), {
        action: 'mining_violation.withdrawn',
        entityType: 'attribution',
        entityId: violation.attributionId,
        after: {
          reason: `block ${block.hash} at height ${block.height} was disconnected by a reorganization`,
        },
      });
    }
  }

  /** A page of the attributions visible to the caller, newest block first (keyset on block_time, id). */
  async listAttributions(
    caller: Caller,
    filter: { minerId?: string | undefined; regionCode?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<AttributionView>> {
    const { after, orderBy, read, limit } = keyset(
      { createdAt: miningAttributions.blockTime, id: miningAttributions.id },
      page,
    );
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningAttributions)
      .where(
        and(
          filter.minerId ? eq(miningAttributions.minerId, filter.minerId) : undefined,
          filter.regionCode ? eq(miningAttributions.regionCode, filter.regionCode) : undefined,
          scopeTo(caller, { participant: miningAttributions.minerId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(attributionView),
      (row) => ({ createdAt: row.blockTime, id: row.id }),
    );
  }

  /**
   * A page of the ban violations visible to the caller, newest block first (keyset on block_time,
   * attribution id).
   */
  async listViolations(
    caller: Caller,
    filter: {
      status?: ViolationStatus | undefined;
      minerId?: string | undefined;
      regionCode?: string | undefined;
      /** Mined at or after this time. */
      from?: Date | undefined;
      /** Mined before this time. */
      to?: Date | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<ViolationView>> {
    const { after, orderBy, read, limit } = keyset(
      { createdAt: miningViolations.blockTime, id: miningViolations.attributionId },
      page,
    );
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningViolations)
      .where(
        and(
          filter.status ? eq(miningViolations.status, filter.status) : undefined,
          filter.minerId ? eq(miningViolations.minerId, filter.minerId) : undefined,
          filter.regionCode ? eq(miningViolations.regionCode, filter.regionCode) : undefined,
          filter.from ? gte(miningViolations.blockTime, filter.from) : undefined,
          filter.to ? lt(miningViolations.blockTime, filter.to) : undefined,
          scopeTo(caller, { participant: miningViolations.minerId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => this.#withNames(caller, shown.map(violationView)),
      (row) => ({ createdAt: row.blockTime, id: row.attributionId }),
    );
  }

  /** Violations with the coinbase outpoint they were mined in and the names behind their ids. */
  async #withNames(caller: Caller, records: ViolationRecord[]): Promise<ViolationView[]> {
    const ids = records.map((r) => r.attributionId);
    const outpoints = new Map(
      ids.length === 0
        ? []
        : (
            await this.#ctx.db.orm
              .select({
                id: miningAttributions.id,
                txid: miningAttributions.txid,
                vout: miningAttributions.vout,
              })
              .from(miningAttributions)
              .where(inArray(miningAttributions.id, ids))
          ).map((a) => [a.id, a] as const),
    );
    const names = await namesOf(this.#ctx, caller, records);
    return records.map((r) => ({
      ...r,
      txid: outpoints.get(r.attributionId)?.txid ?? '',
      vout: outpoints.get(r.attributionId)?.vout ?? 0,
      minerName: names.miner(r.minerId),
      siteName: names.site(r.siteId),
      regionName: names.region(r.regionCode),
    }));
  }

  /** The supervisor (or compliance, with the alert it opened) moves a violation along. */
  async updateViolation(
    caller: Caller,
    attributionId: string,
    input: {
      status: ViolationStatus;
      alertId?: string | null | undefined;
      note?: string | null | undefined;
    },
  ): Promise<ViolationView> {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor updates mining violations');
    if (!(VIOLATION_STATUSES as readonly string[]).includes(input.status)) {
      throw invalid(
        'status',
        `must be one of ${VIOLATION_STATUSES.join(', ')}, got "${input.status}"`,
      );
    }
    const now = this.#ctx.clock.now();
    return this.#ctx.db
      .transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(miningViolations)
          .where(eq(miningViolations.attributionId, attributionId))
          .for('update');
        if (!row)
          throw new AppError('NOT_FOUND', `no mining violation for attribution ${attributionId}`);
        const after = {
          ...row,
          status: input.status,
          alertId: input.alertId === undefined ? row.alertId : input.alertId,
          note: input.note === undefined ? row.note : input.note,
          updatedAt: now,
        };
        await tx
          .update(miningViolations)
          .set(after)
          .where(eq(miningViolations.attributionId, attributionId));
        await this.#ctx.audit.record(caller, {
          action: `mining_violation.${input.status}`,
          entityType: 'attribution',
          entityId: attributionId,
          before: violationView(row),
          after: violationView(after),
        });
        return violationView(after);
      })
      .then(async (record) => (await this.#withNames(caller, [record]))[0]!);
  }
}
