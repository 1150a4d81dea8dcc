/*
 * Output statistics. `statistics` runs past 60 lines: one pass over the attributions that values
 * each output at its day's rate and rolls it into five groupings at once; kept whole.
 */
import { and, asc, gte, lt } from 'drizzle-orm';
import { scopeTo } from '../db';
import {
  addMoney,
  currency as parseCurrency,
  money,
  satsToFiat,
  type Caller,
  type Money,
  type Rate,
} from '../kernel';
import { miningAttributions } from './schema';
import { type OutputStatistics, type OutputStatisticsRow } from './types';
import { forbidden, type MiningContext } from './shared';

/** Output per miner, site, region and month, in sats and in fiat at each day's rate. */
export class Statistics {
  readonly #ctx: MiningContext;

  constructor(ctx: MiningContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ statistics

  /**
   * Output per miner, site, region and month (UTC), in sats and in `currency` at each output's
   * day's rate (UTC date of the block), each output converted half-even to the minor unit and
   * then summed. A miner sees its own output only.
   */
  async statistics(
    caller: Caller,
    options: { currency: string; from?: Date | undefined; to?: Date | undefined },
  ): Promise<OutputStatistics> {
    const code = parseCurrency(options.currency);
    if (caller.role === 'company' || caller.role === 'platform') {
      throw forbidden('mining statistics are for the supervisor, auditors and miners');
    }
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningAttributions)
      .where(
        and(
          options.from ? gte(miningAttributions.blockTime, options.from) : undefined,
          options.to ? lt(miningAttributions.blockTime, options.to) : undefined,
          scopeTo(caller, { participant: miningAttributions.minerId }),
        ),
      )
      .orderBy(asc(miningAttributions.blockTime));
    const missing = new Set<string>();
    const rateCache = new Map<string, Rate | null>();
    const groups = new Map<string, OutputStatisticsRow & { blockHashes: Set<string> }>();
    const roll = <K extends string>(
      map: Map<string, { sats: bigint; fiat: Money | null } & Record<K, string>>,
      keyName: K,
      key: string,
      sats: bigint,
      fiat: Money | null,
    ) => {
      const entry =
        map.get(key) ??
        ({ [keyName]: key, sats: 0n, fiat: money(0n, code) } as {
          sats: bigint;
          fiat: Money | null;
        } & Record<K, string>);
      entry.sats += sats;
      entry.fiat = entry.fiat && fiat ? addMoney(entry.fiat, fiat) : null;
      map.set(key, entry);
    };
    const byMiner = new Map<string, { minerId: string; sats: bigint; fiat: Money | null }>();
    const bySite = new Map<string, { siteId: string; sats: bigint; fiat: Money | null }>();
    const byRegion = new Map<string, { regionCode: string; sats: bigint; fiat: Money | null }>();
    const byMonth = new Map<string, { month: string; sats: bigint; fiat: Money | null }>();
    for (const row of rows) {
      const day = row.blockTime.toISOString().slice(0, 10);
      if (!rateCache.has(day))
        rateCache.set(day, this.#ctx.rates ? await this.#ctx.rates(code, day) : null);
      const rate = rateCache.get(day) ?? null;
      if (!rate) missing.add(day);
      const fiat = rate ? satsToFiat(row.valueSats, rate, 'halfEven') : null;
      const month = day.slice(0, 7);
      const key = `${row.minerId}|${row.siteId}|${row.regionCode}|${month}`;
      const group = groups.get(key) ?? {
        minerId: row.minerId,
        siteId: row.siteId,
        regionCode: row.regionCode,
        month,
        blocks: 0,
        sats: 0n,
        fiat: money(0n, code),
        blockHashes: new Set<string>(),
      };
      group.blockHashes.add(row.blockHash);
      group.blocks = group.blockHashes.size;
      group.sats += row.valueSats;
      group.fiat = group.fiat && fiat ? addMoney(group.fiat, fiat) : null;
      groups.set(key, group);
      roll(byMiner, 'minerId', row.minerId, row.valueSats, fiat);
      roll(bySite, 'siteId', row.siteId, row.valueSats, fiat);
      roll(byRegion, 'regionCode', row.regionCode, row.valueSats, fiat);
      roll(byMonth, 'month', month, row.valueSats, fiat);
    }
    return {
      currency: code,
      rows: [...groups.values()].map(({ blockHashes: _hashes, ...row }) => row),
      byMiner: [...byMiner.values()],
      bySite: [...bySite.values()],
      byRegion: [...byRegion.values()],
      byMonth: [...byMonth.values()],
      missingRateDays: [...missing].sort(),
    };
  }
}
