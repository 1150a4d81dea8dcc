import { Badge, Text, Tooltip } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { allPages, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { PICKER_PAGE, SearchPicker, type SearchPickerProps } from '../../components/SearchPicker';

/** Pieces the mining explorer's pages share: region and site lookups, lot chips, links. */

export type Site = components['schemas']['MiningSite'];
export type Lot = components['schemas']['ClearingLot'];
export type LotSummary = components['schemas']['ClearingLotSummary'];
export type Origin = components['schemas']['ProvenanceOrigin'];
export type Violation = components['schemas']['MiningViolation'];

// Live events name the audited entity type: a ban declared or lifted elsewhere refreshes these.
export const BAN_KEY = 'ban';
const SITE_KEY = 'miningSite';

/**
 * The scheme's regions (code and name), for pickers and the calendar's rows: every page, as the
 * list is bounded by nature (the scheme's regions, set by the supervisor, not grown by use).
 */
export function useRegions() {
  return useQuery({
    queryKey: ['region'],
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(await api.GET('/v1/regions', { params: { query: { limit: 500, cursor } } })),
      ),
  });
}

/**
 * The regions of the sites the caller sees (a miner, its own), every page: bounded by the
 * scheme's regions, not by the sites (`/v1/mining/site-regions`, grouped on the server), so a
 * miner's calendar draws every region it mines in whatever its sites' table has loaded.
 */
export function useSiteRegions() {
  return useQuery({
    queryKey: [SITE_KEY, 'regions'],
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(
          await api.GET('/v1/mining/site-regions', { params: { query: { limit: 500, cursor } } }),
        ),
      ),
  });
}

/**
 * The mining sites the caller sees (a miner, its own), a page at a time, newest first; in one
 * region when `regionCode` is given (the server's filter, so a region's sites are not read
 * behind every other's).
 */
export function useSitePages(queryKey: readonly unknown[], regionCode?: string | null) {
  return usePagedList([SITE_KEY, ...queryKey, regionCode ?? null], async (cursor) =>
    unwrap(
      await api.GET('/v1/mining/sites', {
        params: { query: { ...(regionCode ? { regionCode } : {}), ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
}

/** Site ids per name lookup: a hundred, so the URL stays short (as for participants). */
const SITE_IDS_PER_LOOKUP = 100;

/**
 * The names of the sites `ids` names (the rows shown), looked up by id (`/v1/mining/sites?ids=`),
 * never by reading every page of sites; an id the caller may not see stays an id.
 */
export function useSiteNamesOf(ids: readonly (string | null | undefined)[]) {
  const wanted = [
    ...new Set(ids.filter((id): id is string => !!id && id.startsWith('sit_'))),
  ].sort();
  const found = useQuery({
    queryKey: [SITE_KEY, 'ids', wanted],
    enabled: wanted.length > 0,
    queryFn: async () => {
      const names = new Map<string, string>();
      for (let start = 0; start < wanted.length; start += SITE_IDS_PER_LOOKUP) {
        const chunk = wanted.slice(start, start + SITE_IDS_PER_LOOKUP);
        const page = unwrap(
          await api.GET('/v1/mining/sites', {
            params: { query: { ids: chunk.join(','), limit: chunk.length } },
          }),
        );
        for (const site of page.items) names.set(site.id, site.name);
      }
      return names;
    },
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  return (id: string) => found.data?.get(id) ?? id;
}

/**
 * A site picker: the caller's sites (a miner, its own) whose name starts with what was typed
 * (`/v1/mining/sites?q=`), one page of matches, so it does not grow with the sites.
 */
export function SitePicker({
  onChange,
  ...props
}: {
  onChange: (id: string | null) => void;
} & Omit<
  SearchPickerProps<Site>,
  'queryKey' | 'search' | 'idOf' | 'labelOf' | 'onChange' | 'nothingFound'
>) {
  return (
    <SearchPicker
      {...props}
      queryKey={[SITE_KEY, 'search']}
      search={async (q) =>
        unwrap(
          await api.GET('/v1/mining/sites', {
            params: { query: { ...(q ? { q } : {}), limit: PICKER_PAGE } },
          }),
        ).items
      }
      idOf={(s) => s.id}
      labelOf={(s) => `${s.name} (${s.regionCode})`}
      onChange={(id) => onChange(id)}
      nothingFound="No site starts with that"
    />
  );
}

/** The first and last day of a month `YYYY-MM`. */
export function daysOf(month: string): { from: string; to: string } {
  const [year = 1970, m = 1] = month.split('-').map(Number);
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

/**
 * The bans whose dates overlap the month shown (`/v1/mining/bans?from=&to=`, of one region when
 * given), every page: bounded by the month (the bans of one month), not by every ban declared.
 */
export function useMonthBans(month: string, regionCode?: string | null) {
  return useQuery({
    queryKey: [BAN_KEY, regionCode ?? null, month],
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(
          await api.GET('/v1/mining/bans', {
            params: {
              query: {
                ...daysOf(month),
                ...(regionCode ? { regionCode } : {}),
                limit: 500,
                cursor,
              },
            },
          }),
        ),
      ),
    placeholderData: keepPreviousData,
  });
}

/** The miners a supervisor or auditor may filter by (a miner sees its own rows only). */
export function useMiners(enabled: boolean) {
  return useQuery({
    queryKey: ['participant', 'miners'],
    enabled,
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/participants', { params: { query: { kind: 'miner', limit: 500 } } }),
      ).items,
  });
}

/** A region's name with its code, or the code alone when the name is unknown. */
export function regionLabel(code: string, name: string | null | undefined): string {
  return name ? `${name} (${code})` : code;
}

/** `4f6c9d94…22f30d2`: enough of a hash to recognise, the whole on hover. */
export function shortHash(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 8)}…${hash.slice(-7)}` : hash;
}

const LOT_COLOUR: Record<LotSummary['status'], string> = {
  cleared: 'teal',
  quarantined: 'red',
  released: 'blue',
  spent: 'gray',
};

/**
 * A lot's status as a chip: cleared, quarantined (with why), released or spent (with the
 * clearance its coins carried when spent).
 */
export function LotChip({ lot }: { lot: LotSummary | Lot | null | undefined }) {
  if (!lot) return null;
  const reason =
    lot.quarantineReason === 'MINED_IN_BAN'
      ? 'mined under a ban'
      : lot.quarantineReason === 'SITE_NOT_REGISTERED'
        ? 'site not registered'
        : null;
  const spentAs = lot.status === 'spent' ? ` (${lot.clearance})` : '';
  const title = `Clearing lot ${lot.id}: ${lot.status}${spentAs}${reason ? `, ${reason}` : ''}`;
  return (
    <Tooltip label={title}>
      <Badge
        color={LOT_COLOUR[lot.status]}
        variant="light"
        data-lot-status={lot.status}
        style={{ textTransform: 'none', maxWidth: 'none' }}
      >
        {lot.status}
        {spentAs}
      </Badge>
    </Tooltip>
  );
}

/** A transaction's page in the explorer. */
export function TxLink({ txid, label }: { txid: string; label?: string }) {
  return (
    <Text
      component={Link}
      to={`/mining/tx/${txid}`}
      size="sm"
      ff="monospace"
      title={txid}
      c="blue.8"
    >
      {label ?? shortHash(txid)}
    </Text>
  );
}

/** An output's provenance graph in the explorer. */
export function outputPath(txid: string, vout: number): string {
  return `/mining/outputs/${txid}:${vout}`;
}
