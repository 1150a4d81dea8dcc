/*
 * `registerSite` runs a little past 60 lines: the site's field checks and its transaction, kept
 * whole when the mining service was split by concern.
 */
import { and, count, eq, inArray } from 'drizzle-orm';
import { parseAddress, toHex } from '../bitcoin';
import {
  keyset,
  keysetOn,
  pageOf,
  scopeTo,
  sqlState,
  startsWith,
  UNIQUE_VIOLATION,
  type Page,
  type PageRequest,
} from '../db';
import { AppError, invalid, newId, type Caller } from '../kernel';
import { miningPayoutAddresses, miningSites } from './schema';
import { type PayoutAddressView, type RegisterSiteInput, type SiteView } from './types';
import { forbidden, type MiningContext } from './shared';
import { siteView } from './views';

function parseMegawatts(value: string): number {
  const match = /^(\d{1,6})(?:\.(\d{1,3}))?$/.exec(value);
  if (!match)
    throw invalid(
      'powerCapacityMw',
      `must be a decimal number of MW with at most 3 decimals, like "12.5", got "${value}"`,
    );
  const kw = Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0'));
  if (kw <= 0) throw invalid('powerCapacityMw', `must be greater than zero, got "${value}"`);
  return kw;
}

/** Mining sites (a miner's, in a region) and the payout addresses their coinbase outputs arrive at. */
export class Sites {
  readonly #ctx: MiningContext;

  constructor(ctx: MiningContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ sites and payout addresses

  async registerSite(caller: Caller, input: RegisterSiteInput): Promise<SiteView> {
    let minerId: string;
    if (caller.role === 'miner') {
      if (input.minerId && input.minerId !== caller.participantId)
        throw forbidden('a miner registers its own sites');
      minerId = caller.participantId;
    } else if (caller.role === 'supervisor') {
      if (!input.minerId) throw invalid('minerId', 'is required');
      minerId = input.minerId;
    } else throw forbidden(`a ${caller.role} cannot register mining sites`);
    const powerCapacityKw = parseMegawatts(input.powerCapacityMw);
    if (!/^[1-9]\d{0,15}$/.test(input.declaredHashrateThs)) {
      throw invalid(
        'declaredHashrateThs',
        `must be a positive whole number of TH/s, got "${input.declaredHashrateThs}"`,
      );
    }
    const commissioningDate = input.commissioningDate;
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(commissioningDate) ||
      Number.isNaN(Date.parse(`${commissioningDate}T00:00:00Z`))
    ) {
      throw invalid(
        'commissioningDate',
        `must be a date like "2025-03-01", got "${commissioningDate}"`,
      );
    }
    const name = input.name.trim();
    const gridConnection = input.gridConnection.trim();
    if (!name) throw invalid('name', 'must not be empty');
    if (!gridConnection) throw invalid('gridConnection', 'must not be empty');
    const poolName = input.poolName?.trim() || null;
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const miner = await this.#ctx.registry.getParticipant(caller, minerId);
      if (miner.kind !== 'miner')
        throw invalid('minerId', `sites belong to miners, not to a ${miner.kind}`);
      await this.#ctx.registry.requireActiveLicence(minerId, now);
      await this.#ctx.registry.getRegion(input.regionCode);
      const row = {
        id: newId('site', now, this.#ctx.random),
        minerId,
        regionCode: input.regionCode,
        name,
        gridConnection,
        powerCapacityKw,
        declaredHashrateThs: BigInt(input.declaredHashrateThs),
        commissioningDate,
        poolName,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insert(miningSites).values(row);
      const view = siteView(row);
      await this.#ctx.audit.record(caller, {
        action: 'mining_site.registered',
        entityType: 'site',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  /**
   * A page of the sites visible to the caller (a miner's own), newest first. `ids` is a name
   * lookup (by primary key); `q` a prefix of the site's name (`mining_sites_name_prefix_idx`).
   */
  async listSites(
    caller: Caller,
    filter: {
      minerId?: string | undefined;
      regionCode?: string | undefined;
      ids?: readonly string[] | undefined;
      q?: string | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<SiteView>> {
    const { after, orderBy, read, limit } = keyset(miningSites, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningSites)
      .where(
        and(
          filter.minerId ? eq(miningSites.minerId, filter.minerId) : undefined,
          filter.regionCode ? eq(miningSites.regionCode, filter.regionCode) : undefined,
          filter.ids ? inArray(miningSites.id, [...filter.ids]) : undefined,
          filter.q !== undefined ? startsWith(miningSites.name, filter.q) : undefined,
          scopeTo(caller, { participant: miningSites.minerId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(siteView));
  }

  /**
   * The regions of the sites visible to the caller (a miner's own), with how many sites each,
   * by region code: what the miner's ban calendar draws, read whole on the server rather than
   * from the sites a page has loaded. Grouped in SQL through `mining_sites_miner_region_idx`
   * (a miner's) or `mining_sites_region_page_idx` (everyone's), keyset on the region code.
   */
  async listSiteRegions(
    caller: Caller,
    filter: { minerId?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<{ regionCode: string; sites: number }>> {
    const {
      after,
      orderBy,
      read,
      page: pageFrom,
    } = keysetOn<{ regionCode: string }>(
      [{ column: miningSites.regionCode, kind: 'text', value: (r) => r.regionCode }],
      'asc',
      page,
    );
    const rows = await this.#ctx.db.orm
      .select({ regionCode: miningSites.regionCode, sites: count() })
      .from(miningSites)
      .where(
        and(
          filter.minerId ? eq(miningSites.minerId, filter.minerId) : undefined,
          scopeTo(caller, { participant: miningSites.minerId }),
          after,
        ),
      )
      .groupBy(miningSites.regionCode)
      .orderBy(...orderBy)
      .limit(read);
    return pageFrom(rows, (shown) => [...shown]);
  }

  /** The site as the caller may see it, read in the caller's unit of work (if any). */
  async getSite(caller: Caller, id: string): Promise<SiteView> {
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(miningSites)
      .where(and(eq(miningSites.id, id), scopeTo(caller, { participant: miningSites.minerId })));
    if (!row) throw new AppError('NOT_FOUND', `no mining site ${id} visible to you`);
    return siteView(row);
  }

  /**
   * Registers an address at which a site's coinbase payouts arrive: from its pool (kind pool, with
   * the pool's name) or, mining solo, the coinbase address itself. An address belongs to one
   * miner: a second registration is ADDRESS_ALREADY_ASSIGNED.
   */
  async registerPayoutAddress(
    caller: Caller,
    siteId: string,
    input: { address: string; kind: 'pool' | 'solo'; poolName?: string | null | undefined },
  ): Promise<PayoutAddressView> {
    if (caller.role !== 'miner' && caller.role !== 'supervisor')
      throw forbidden('payout addresses are registered by the miner');
    const parsed = parseAddress(input.address, this.#ctx.network);
    if (input.kind !== 'pool' && input.kind !== 'solo')
      throw invalid('kind', `must be "pool" or "solo", got "${String(input.kind)}"`);
    const poolName = input.kind === 'pool' ? input.poolName?.trim() || null : null;
    if (input.kind === 'pool' && !poolName)
      throw invalid('poolName', 'is required for a pool payout address');
    if (input.kind === 'solo' && input.poolName)
      throw invalid('poolName', 'must be absent for a solo coinbase address');
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const site = await this.getSite(caller, siteId);
      await this.#ctx.registry.requireActiveLicence(site.minerId, now);
      // One address, one owner across the registry: not a counterparty's or a company's address.
      await this.#ctx.registry.claimAddress({
        address: parsed.canonical,
        ownerId: site.minerId,
        role: 'payout_address',
      });
      const row = {
        id: newId('address', now, this.#ctx.random),
        minerId: site.minerId,
        siteId: site.id,
        kind: input.kind,
        poolName,
        address: parsed.canonical,
        scriptHex: toHex(parsed.scriptPubKey),
        createdAt: now,
      };
      try {
        await tx.insert(miningPayoutAddresses).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError(
            'ADDRESS_ALREADY_ASSIGNED',
            `address ${parsed.canonical} is already registered as a payout address; an address belongs to one miner`,
          );
        }
        throw error;
      }
      const view: PayoutAddressView = { ...row, kind: input.kind };
      await this.#ctx.audit.record(caller, {
        action: 'mining_payout_address.registered',
        entityType: 'site',
        entityId: site.id,
        after: view,
      });
      await this.#ctx.registry.screenOwnedAddress(caller, {
        ownerId: site.minerId,
        address: parsed.canonical,
      });
      return view;
    });
  }

  /** A page of the payout addresses visible to the caller (a miner's own), newest first. */
  async listPayoutAddresses(
    caller: Caller,
    siteId?: string,
    page: PageRequest = {},
  ): Promise<Page<PayoutAddressView>> {
    const { after, orderBy, read, limit } = keyset(miningPayoutAddresses, page);
    const rows = await this.#ctx.db.orm
      .select()
      .from(miningPayoutAddresses)
      .where(
        and(
          siteId ? eq(miningPayoutAddresses.siteId, siteId) : undefined,
          scopeTo(caller, { participant: miningPayoutAddresses.minerId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) =>
      shown.map(({ scriptHex: _script, ...row }) => ({
        ...row,
        kind: row.kind as 'pool' | 'solo',
      })),
    );
  }
}
