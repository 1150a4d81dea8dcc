import { and, eq, isNull } from 'drizzle-orm';
import { keyset, pageOf, type Orm, type Page, type PageRequest } from '../db';
import { recordAudit } from '../audit';
import { AppError, invalid, newId, type Caller } from '../kernel';
import { assertNoOverlap, bansInForce, localTime, normalizeBan, type BanInput } from './calendar';
import { miningBans } from './schema';
import { type BanView } from './types';
import { forbidden, type MiningContext } from './shared';
import { banView, ruleOf } from './views';

/** The regional ban calendar: bans declared and lifted by the supervisor, and whether a region is banned at a time. */
export class BanCalendar {
  readonly #ctx: MiningContext;

  constructor(ctx: MiningContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ ban calendar

  async declareBan(
    caller: Caller,
    regionCode: string,
    input: BanInput & { reason: string },
  ): Promise<BanView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor declares mining bans');
    const rule = normalizeBan(input);
    const reason = (input.reason ?? '').trim();
    if (!reason) throw invalid('reason', 'must not be empty');
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      // Serializes ban declarations per region, so two overlapping bans cannot both pass the check.
      await this.#ctx.registry.lockRegion(regionCode, tx);
      const existing = await tx
        .select()
        .from(miningBans)
        .where(and(eq(miningBans.regionCode, regionCode), isNull(miningBans.liftedAt)));
      assertNoOverlap(
        rule,
        existing.map((row) => ({ ...ruleOf(row), id: row.id })),
      );
      const row = {
        id: newId('ban', now, this.#ctx.random),
        regionCode,
        kind: rule.kind,
        fromDate: rule.fromDate,
        toDate: rule.toDate,
        seasonStart: rule.season?.start ?? null,
        seasonEnd: rule.season?.end ?? null,
        dailyStart: rule.daily?.start ?? null,
        dailyEnd: rule.daily?.end ?? null,
        reason,
        createdAt: now,
        liftedAt: null,
        liftReason: null,
      };
      await tx.insert(miningBans).values(row);
      const view = banView(row);
      await recordAudit(tx, caller, this.#ctx.clock, {
        action: 'mining_ban.declared',
        entityType: 'ban',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  async liftBan(caller: Caller, banId: string, reason: string): Promise<BanView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor lifts mining bans');
    const why = reason.trim();
    if (!why) throw invalid('reason', 'must not be empty');
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(miningBans)
        .where(eq(miningBans.id, banId))
        .for('update');
      if (!row) throw new AppError('NOT_FOUND', `no mining ban ${banId}`);
      if (row.liftedAt)
        throw new AppError('INVALID_STATE_TRANSITION', `ban ${banId} was already lifted`);
      const before = banView(row);
      await tx
        .update(miningBans)
        .set({ liftedAt: now, liftReason: why })
        .where(eq(miningBans.id, banId));
      const after = banView({ ...row, liftedAt: now, liftReason: why });
      await recordAudit(tx, caller, this.#ctx.clock, {
        action: 'mining_ban.lifted',
        entityType: 'ban',
        entityId: banId,
        before,
        after,
      });
      return after;
    });
  }

  /** A page of the ban calendar (of one region), the latest declared first. */
  async listBans(regionCode?: string, page: PageRequest = {}): Promise<Page<BanView>> {
    const { after, orderBy, read, limit } = keyset(miningBans, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningBans)
      .where(and(regionCode ? eq(miningBans.regionCode, regionCode) : undefined, after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(banView));
  }

  /** Is region R banned at time T? With the bans in force and the region's local time then. */
  async isBanned(
    regionCode: string,
    at: Date,
    orm: Orm = this.#ctx.db.orm,
  ): Promise<{
    banned: boolean;
    bans: BanView[];
    regionCode: string;
    timeZone: string;
    localDate: string;
    localTime: string;
  }> {
    const region = await this.#ctx.registry.getRegion(regionCode, orm);
    const rows = await orm
      .select()
      .from(miningBans)
      .where(and(eq(miningBans.regionCode, regionCode), isNull(miningBans.liftedAt)));
    const inForce = bansInForce(rows.map(banView), at, region.timeZone);
    const local = localTime(at, region.timeZone);
    return {
      banned: inForce.length > 0,
      bans: inForce,
      regionCode,
      timeZone: region.timeZone,
      localDate: local.date,
      localTime: local.time,
    };
  }
}
