import { and, eq, gte, isNull, lte, sql, type SQL } from 'drizzle-orm';
import { keyset, pageOf, type Page, type PageRequest } from '../db';
import { AppError, invalid, newId, type Caller } from '../kernel';
import {
  assertNoOverlap,
  localTime,
  normalizeBan,
  type BanInput,
  type LocalTime,
} from './calendar';
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
      await this.#ctx.registry.lockRegion(regionCode);
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
      await this.#ctx.audit.record(caller, {
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
      await this.#ctx.audit.record(caller, {
        action: 'mining_ban.lifted',
        entityType: 'ban',
        entityId: banId,
        before,
        after,
      });
      return after;
    });
  }

  /**
   * A page of the ban calendar (of one region), the latest declared first; with `during`, only
   * the bans whose dates overlap those days (a calendar's month: `from_date <= to` and
   * `to_date >= from`, through `mining_bans_dates_idx`). Both days, `from` not after `to`.
   */
  async listBans(
    regionCode?: string,
    page: PageRequest = {},
    during?: { from?: string | undefined; to?: string | undefined },
  ): Promise<Page<BanView>> {
    const { from, to } = during ?? {};
    if ((from === undefined) !== (to === undefined))
      throw invalid(from === undefined ? 'from' : 'to', 'from and to go together (the days shown)');
    if (from !== undefined && to !== undefined) {
      for (const [field, day] of [
        ['from', from],
        ['to', to],
      ] as const)
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))
          throw invalid(field, 'must be a date YYYY-MM-DD');
      if (from > to) throw invalid('to', 'must not be before from');
    }
    const { after, orderBy, read, limit } = keyset(miningBans, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningBans)
      .where(
        and(
          regionCode ? eq(miningBans.regionCode, regionCode) : undefined,
          to !== undefined ? lte(miningBans.fromDate, to) : undefined,
          from !== undefined ? gte(miningBans.toDate, from) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(banView));
  }

  /**
   * Is region R banned at time T? With a page of the bans in force (the latest declared first)
   * and the region's local time then. Whether a ban covers the local date and time is a
   * condition of the query (`covers`, the same test as `banCovers`), so the page is read through
   * the region's (created_at, id) index and `banned` is one more query, never the rows read.
   * Read in the caller's unit of work (autocommit outside one).
   */
  async isBanned(
    regionCode: string,
    at: Date,
    page: PageRequest = {},
  ): Promise<{
    banned: boolean;
    bans: BanView[];
    nextCursor: string | null;
    regionCode: string;
    timeZone: string;
    localDate: string;
    localTime: string;
  }> {
    const orm = this.#ctx.db.current();
    const region = await this.#ctx.registry.getRegion(regionCode);
    const local = localTime(at, region.timeZone);
    const inForce = and(
      eq(miningBans.regionCode, regionCode),
      isNull(miningBans.liftedAt),
      covers(local),
    );
    const { after, orderBy, read, limit } = keyset(miningBans, page);
    const rows = await orm
      .select()
      .from(miningBans)
      .where(and(inForce, after))
      .orderBy(...orderBy)
      .limit(read);
    const shown = await pageOf(rows, limit, (r) => r.map(banView));
    const banned =
      shown.items.length > 0 ||
      (page.cursor
        ? (await orm.select({ id: miningBans.id }).from(miningBans).where(inForce).limit(1))
            .length > 0
        : false);
    return {
      banned,
      bans: shown.items,
      nextCursor: shown.nextCursor,
      regionCode,
      timeZone: region.timeZone,
      localDate: local.date,
      localTime: local.time,
    };
  }
}

/**
 * `banCovers` as a condition on a ban's row: the local date inside its dates, the month-day
 * inside its season (which may wrap the new year), the time inside its daily hours (which may
 * wrap midnight). `MM-DD` and `HH:MM` strings compare as text in the same order as in time.
 */
function covers(local: LocalTime): SQL {
  const monthDay = local.date.slice(5);
  const b = miningBans;
  return sql`${b.fromDate} <= ${local.date}::date and ${local.date}::date <= ${b.toDate}
    and (${b.seasonStart} is null
      or (${b.seasonStart} <= ${b.seasonEnd} and ${b.seasonStart} <= ${monthDay} and ${monthDay} <= ${b.seasonEnd})
      or (${b.seasonStart} > ${b.seasonEnd} and (${monthDay} >= ${b.seasonStart} or ${monthDay} <= ${b.seasonEnd})))
    and (${b.dailyStart} is null
      or (${b.dailyStart} < ${b.dailyEnd} and ${b.dailyStart} <= ${local.time} and ${local.time} < ${b.dailyEnd})
      or (${b.dailyStart} >= ${b.dailyEnd} and (${local.time} >= ${b.dailyStart} or ${local.time} < ${b.dailyEnd})))`;
}
