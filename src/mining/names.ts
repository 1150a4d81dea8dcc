import { everyItem } from '../db';
import { inArray } from 'drizzle-orm';
import { AppError, type Caller } from '../kernel';
import { miningSites } from './schema';
import type { MiningContext } from './shared';

/** The names behind a page of mining rows: miners, sites and regions, by id or code. */
export interface MiningNames {
  miner(id: string): string | null;
  site(id: string): string | null;
  region(code: string): string | null;
}

/**
 * Names for the rows a caller already sees, so that screens show "Highland Hashworks SA" rather
 * than `par_…`. A miner's name is read as the caller (a name the caller may not see stays null:
 * the row then shows its id, as before); site names are mining's own, region names the scheme's
 * published list.
 */
export async function namesOf(
  ctx: MiningContext,
  caller: Caller,
  rows: readonly { minerId: string; siteId: string; regionCode: string }[],
): Promise<MiningNames> {
  const minerIds = [...new Set(rows.map((r) => r.minerId))];
  const siteIds = [...new Set(rows.map((r) => r.siteId))];
  const miners = new Map<string, string>();
  for (const id of minerIds) {
    try {
      miners.set(id, (await ctx.registry.getParticipant(caller, id)).legalName);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
  }
  const sites = new Map(
    siteIds.length === 0
      ? []
      : (
          await ctx.db.orm
            .select({ id: miningSites.id, name: miningSites.name })
            .from(miningSites)
            .where(inArray(miningSites.id, siteIds))
        ).map((s) => [s.id, s.name] as const),
  );
  const regions = new Map<string, string>();
  if (rows.length > 0)
    for await (const r of everyItem((page) => ctx.registry.listRegions(page)))
      regions.set(r.code, r.name);
  return {
    miner: (id) => miners.get(id) ?? null,
    site: (id) => sites.get(id) ?? null,
    region: (code) => regions.get(code) ?? null,
  };
}
