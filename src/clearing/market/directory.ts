import { and, eq, sql } from 'drizzle-orm';
import { keyset, pageOf, startsWith, type Page, type PageRequest } from '../../db';
import type { Caller } from '../../kernel';
import { registryLicenceFacts, registryParticipantFacts } from '../../registry';
import type { MarketContext } from './context';
import { marketSettings } from './schema';

/**
 * The markets' directory: the platforms that run a market, with their names, their terms and
 * their licence status, for every authenticated role. These are public facts of a licensed
 * platform (its price is its terms); nothing of a tenant's (no escrow descriptor, no offer, no
 * bid). Without it a company, which sees no licence, could enter a market only by its id.
 */

/** A platform's licence status as the register shows it (`bestLicenceStatus`'s order). */
export const MARKET_LICENCE_STATUSES = [
  'active',
  'suspended',
  'expired',
  'revoked',
  'none',
] as const;
export type MarketLicenceStatus = (typeof MARKET_LICENCE_STATUSES)[number];

export interface MarketListing {
  platformId: string;
  /** The platform's legal name (null only if the register lost it). */
  name: string | null;
  currency: string;
  spreadBasisPoints: number;
  deadlineSeconds: number;
  licenceStatus: MarketLicenceStatus;
  createdAt: Date;
}

const s = marketSettings;
const p = registryParticipantFacts;
const l = registryLicenceFacts;

/**
 * The markets, newest first, a page at a time (keyset on the settings' `(created_at,
 * platform_id)`, `market_settings_page_idx`); `q` keeps the platforms whose legal name starts
 * with it, whatever its case (`participants_name_prefix_idx` under the registry's read model).
 * The licence status is computed per page row, as `bestLicenceStatus` does: active when one
 * licence is in force now, else suspended, expired (or active past its end), revoked; active not
 * yet in force reads suspended; none without a licence.
 */
export async function listMarkets(
  ctx: MarketContext,
  _caller: Caller,
  filter: { q?: string | undefined },
  request: PageRequest,
): Promise<Page<MarketListing>> {
  const { after, orderBy, read, limit } = keyset(
    { createdAt: s.createdAt, id: s.platformId },
    request,
  );
  const now = ctx.clock.now().toISOString();
  const licenceStatus = sql<MarketLicenceStatus>`(select case
      when count(*) = 0 then 'none'
      when bool_or(${l.status} = 'active' and ${l.validFrom} <= ${now}::timestamptz
        and (${l.validTo} is null or ${l.validTo} > ${now}::timestamptz)) then 'active'
      when bool_or(${l.status} = 'suspended') then 'suspended'
      when bool_or(${l.status} = 'expired'
        or (${l.status} = 'active' and ${l.validTo} <= ${now}::timestamptz)) then 'expired'
      when bool_or(${l.status} = 'revoked') then 'revoked'
      else 'suspended'
    end
    from ${l} where ${l.participantId} = ${s.platformId})`;
  const rows = await ctx.db.orm
    .select({
      platformId: s.platformId,
      name: p.legalName,
      currency: s.currency,
      spreadBasisPoints: s.spreadBasisPoints,
      deadlineSeconds: s.deadlineSeconds,
      licenceStatus,
      createdAt: s.createdAt,
    })
    .from(s)
    .leftJoin(p, eq(p.id, s.platformId))
    .where(and(filter.q !== undefined ? startsWith(p.legalName, filter.q) : undefined, after))
    .orderBy(...orderBy)
    .limit(read);
  return pageOf(
    rows,
    limit,
    (shown) => [...shown],
    (row) => ({ createdAt: row.createdAt, id: row.platformId }),
  );
}
