import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Badge, Button, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { NameCell } from '../../components/NameCell';
import { Page } from '../../components/Page';
import { ErrorState, Loading } from '../../components/States';
import { formatBtc, formatDateTime, formatFiat } from '../../format';

type Loop = components['schemas']['ClearingLoop'];
type Trace = components['schemas']['LoopTrace'];
type Window = components['schemas']['LoopWindow'];
type Stuck = Loop['stuck']['items'][number];
type MinedGroup = Loop['mined']['byMonthRegion'][number];
type PartnerGroup = Loop['paidAbroad']['byPartner'][number];
type StageValue = Loop['valuations'][number]['stages'][number];
type FixingUsed = Loop['fixings'][number];

interface Stage {
  stage: string;
  count: number;
  amount: string;
  detail: string;
}

const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const DAY = 86_400_000;
/** An asset's amount: bitcoin in BTC, a currency from its minor units. */
const assetAmount = (value: string, asset: string) =>
  asset === 'BTC' ? formatBtc(value) : formatFiat(value, asset);

/** One row per stage of the loop, in order. */
function stagesOf(r: Loop): Stage[] {
  const c = r.clearance;
  const cross = r.sold.routes.filter((x) => x.crossPlatform).reduce((n, x) => n + x.deals, 0);
  const stage = (name: string, count: number, amount: string, detail = '') => ({
    stage: name,
    count,
    amount,
    detail,
  });
  return [
    stage('Mined', r.mined.lots, formatBtc(r.mined.sats), `${r.mined.miners} miner(s)`),
    stage('Cleared', c.cleared.count, formatBtc(c.cleared.sats)),
    stage('Quarantined', c.quarantined.count, formatBtc(c.quarantined.sats)),
    stage('Released', c.released.count, formatBtc(c.released.sats)),
    stage('Offered on a market', c.offers, formatBtc(c.offeredSats)),
    stage(
      'Sold',
      r.sold.deals,
      formatBtc(r.sold.sats),
      `${cross} to an importer at another platform`,
    ),
    ...r.sold.currencies.map((x) =>
      stage(`Paid for in ${x.currency}`, x.deals, formatFiat(x.fiatMinor, x.currency)),
    ),
    stage('Delivered', r.paidAbroad.deliveredCoins, formatBtc(r.paidAbroad.deliveredSats)),
    ...r.netted.totals.map((t) =>
      stage(
        `Netted (${t.asset})`,
        r.netted.windows.length,
        `${assetAmount(t.gross, t.asset)} gross`,
        `${assetAmount(t.net, t.asset)} net, ${assetAmount(t.unpaid, t.asset)} unpaid`,
      ),
    ),
    stage(
      'Paid abroad',
      r.paidAbroad.payouts,
      formatBtc(r.paidAbroad.payoutSats),
      `${formatBtc(r.paidAbroad.spentSats)} of the delivered coins spent`,
    ),
  ];
}

const STAGE_COLUMNS: Column<Stage>[] = [
  { key: 'stage', header: 'Stage', value: (s) => s.stage, sortable: false },
  { key: 'count', header: 'Count', value: (s) => String(s.count), align: 'right' },
  { key: 'amount', header: 'Amount', value: (s) => s.amount, align: 'right' },
  { key: 'detail', header: 'Detail', value: (s) => s.detail, sortable: false },
];

function traceColumns(names: Record<string, string>): Column<Trace>[] {
  const party = (id: string) => <NameCell name={names[id]} id={id} />;
  return [
    {
      key: 'at',
      header: 'Matched',
      value: (t) => t.createdAt,
      render: (t) => formatDateTime(t.createdAt),
    },
    {
      key: 'lot',
      header: 'Lot (block)',
      value: (t) => String(t.lotHeight ?? ''),
      render: (t) => <span title={t.lotId}>{t.lotHeight ?? '—'}</span>,
      align: 'right',
    },
    {
      key: 'miner',
      header: 'Miner',
      value: (t) => names[t.minerId] ?? t.minerId,
      render: (t) => party(t.minerId),
    },
    {
      key: 'importer',
      header: 'Importer',
      value: (t) => names[t.companyId] ?? t.companyId,
      render: (t) => party(t.companyId),
    },
    {
      key: 'route',
      header: 'Market → importer’s platform',
      value: (t) => `${names[t.minerPlatformId] ?? ''} ${names[t.importerPlatformId] ?? ''}`,
      render: (t) => (
        <Stack gap={0}>
          {party(t.minerPlatformId)}
          {t.importerPlatformId !== t.minerPlatformId && party(t.importerPlatformId)}
        </Stack>
      ),
    },
    {
      key: 'amount',
      header: 'Amount',
      value: (t) => t.amountSats,
      render: (t) => formatBtc(t.amountSats),
      align: 'right',
    },
    {
      key: 'fiat',
      header: 'Paid',
      value: (t) => t.fiatMinor,
      render: (t) => formatFiat(t.fiatMinor, t.currency),
      align: 'right',
    },
    {
      key: 'status',
      header: 'Deal',
      value: (t) => t.status,
      render: (t) => (
        <Badge
          variant="light"
          color={t.status === 'settled' ? 'green' : t.status === 'held' ? 'red' : 'blue'}
        >
          {t.status}
        </Badge>
      ),
    },
    {
      key: 'windows',
      header: 'Netted in',
      value: (t) => String(t.windowIds.length),
      render: (t) => `${t.windowIds.length} window(s)`,
      align: 'right',
    },
    {
      key: 'payouts',
      header: 'Payouts abroad',
      value: (t) => String(t.payoutIds.length),
      align: 'right',
    },
  ];
}

interface WindowRow {
  window: Window;
  asset: Window['assets'][number] | null;
}

function windowRows(windows: Window[]): WindowRow[] {
  return windows.flatMap((w): WindowRow[] =>
    w.assets.length === 0
      ? [{ window: w, asset: null }]
      : w.assets.map((asset) => ({ window: w, asset })),
  );
}

const WINDOW_COLUMNS: Column<WindowRow>[] = [
  { key: 'sequence', header: 'Window', value: (r) => String(r.window.sequence), align: 'right' },
  { key: 'status', header: 'Status', value: (r) => r.window.status },
  {
    key: 'closed',
    header: 'Closed',
    value: (r) => r.window.closedAt ?? '',
    render: (r) => (r.window.closedAt ? formatDateTime(r.window.closedAt) : 'open'),
  },
  { key: 'asset', header: 'Asset', value: (r) => r.asset?.asset ?? '—' },
  {
    key: 'obligations',
    header: 'Obligations',
    value: (r) => String(r.asset?.obligations ?? 0),
    align: 'right',
  },
  {
    key: 'gross',
    header: 'Gross',
    value: (r) => r.asset?.gross ?? '0',
    render: (r) => (r.asset ? assetAmount(r.asset.gross, r.asset.asset) : '—'),
    align: 'right',
  },
  {
    key: 'net',
    header: 'Net',
    value: (r) => r.asset?.net ?? '0',
    render: (r) => (r.asset ? assetAmount(r.asset.net, r.asset.asset) : '—'),
    align: 'right',
  },
  {
    key: 'unpaid',
    header: 'Unpaid',
    value: (r) => r.asset?.unpaid ?? '0',
    render: (r) => (r.asset ? assetAmount(r.asset.unpaid, r.asset.asset) : '—'),
    align: 'right',
  },
  {
    key: 'value',
    header: 'Net value',
    value: (r) => r.asset?.netValueMinor ?? '',
    render: (r) => {
      const currency = r.window.valuation?.currency;
      const value = r.asset?.netValueMinor;
      return currency && value != null ? formatFiat(value, currency) : '—';
    },
    align: 'right',
  },
  {
    key: 'valuation',
    header: 'Valued at',
    value: (r) => r.window.valuation?.fixingId ?? r.window.valuation?.rate ?? '',
    render: (r) => valuationOf(r.window),
    sortable: false,
  },
];

/** A window's valuation: its rate and the fixing it came from, or why there is none. */
function valuationOf(w: Window): string {
  const v = w.valuation;
  if (!v) return w.closedAt ? 'not valued' : 'valued at close';
  if (v.rate === null || v.currency === null) return v.unavailableReason ?? 'no rate';
  const basis = v.fixingId ? `fixing ${v.fixingId}` : 'live rate before the fixing';
  return `${v.rate} ${v.currency} per BTC (${basis})`;
}

const STAGE_NAMES: Record<StageValue['stage'], string> = {
  cleared: 'Cleared lots',
  quarantined: 'Quarantined lots',
  released: 'Released lots',
  sold: 'Sold (the deals’ bitcoin)',
};

function valuationColumns(currency: string): Column<StageValue>[] {
  return [
    { key: 'stage', header: 'Stage', value: (v) => STAGE_NAMES[v.stage], sortable: false },
    btcColumn('sats', 'Amount', (v) => v.sats),
    btcColumn('valued', 'Valued', (v) => v.valuedSats),
    {
      key: 'value',
      header: `Value (${currency})`,
      value: (v) => v.valueMinor,
      render: (v) => formatFiat(v.valueMinor, currency),
      align: 'right',
    },
    {
      key: 'unvalued',
      header: 'Days without a fixing',
      value: (v) => v.unvaluedDays.join(' '),
      render: (v) => v.unvaluedDays.join(', ') || '—',
      sortable: false,
    },
    {
      key: 'fixings',
      header: 'Fixings',
      value: (v) => v.fixingIds.join(' '),
      render: (v) => v.fixingIds.join(', ') || '—',
      sortable: false,
    },
  ];
}

const USED_BY: Record<FixingUsed['usedBy'][number], string> = {
  deals: 'deal prices',
  windows: 'window nets',
  stages: 'stage values',
};

const FIXING_COLUMNS: Column<FixingUsed>[] = [
  { key: 'id', header: 'Fixing', value: (f) => f.fixingId },
  { key: 'quote', header: 'Currency', value: (f) => f.quote },
  { key: 'date', header: 'Date', value: (f) => f.date },
  { key: 'version', header: 'Version', value: (f) => String(f.version), align: 'right' },
  {
    key: 'usedBy',
    header: 'Used for',
    value: (f) => f.usedBy.map((u) => USED_BY[u]).join(', '),
    sortable: false,
  },
];

const btcColumn = <T,>(key: string, header: string, sats: (row: T) => string): Column<T> => ({
  key,
  header,
  value: sats,
  render: (row) => formatBtc(sats(row)),
  align: 'right',
});

const MINED_COLUMNS: Column<MinedGroup>[] = [
  { key: 'month', header: 'Month', value: (g) => g.month },
  { key: 'region', header: 'Region', value: (g) => g.regionCode },
  { key: 'lots', header: 'Lots', value: (g) => String(g.lots), align: 'right' },
  btcColumn('sats', 'Mined', (g) => g.sats),
  btcColumn('cleared', 'Cleared', (g) => g.cleared.sats),
  btcColumn('quarantined', 'Quarantined', (g) => g.quarantined.sats),
  btcColumn('released', 'Released', (g) => g.released.sats),
];

/** Basis points as a percentage with two decimals: 9950 → "99.50 %". */
const percent = (basisPoints: number) => `${(basisPoints / 100).toFixed(2)} %`;

const PARTNER_COLUMNS: Column<PartnerGroup>[] = [
  { key: 'country', header: 'Partner country', value: (g) => g.country },
  { key: 'hs', header: 'HS chapter', value: (g) => g.hsChapter },
  { key: 'payouts', header: 'Payouts', value: (g) => String(g.payouts), align: 'right' },
  btcColumn('sats', 'Paid', (g) => g.sats),
  {
    key: 'share',
    header: 'Cleared share',
    value: (g) => String(g.clearedShareBasisPoints),
    render: (g) => percent(g.clearedShareBasisPoints),
    align: 'right',
  },
];

const STUCK_KINDS: Record<Stuck['kind'], string> = {
  deal: 'Deal',
  quarantinedLot: 'Quarantined lot',
  heldPayIn: 'Held pay-in',
};

function stuckColumns(names: Record<string, string>): Column<Stuck>[] {
  return [
    { key: 'kind', header: 'What', value: (s) => STUCK_KINDS[s.kind] },
    { key: 'detail', header: 'Why', value: (s) => s.detail },
    {
      key: 'party',
      header: 'Miner, importer or platform',
      value: (s) => names[s.partyId] ?? s.partyId,
      render: (s) => <NameCell name={names[s.partyId]} id={s.partyId} />,
    },
    {
      key: 'sats',
      header: 'Amount',
      value: (s) => s.sats,
      render: (s) => formatBtc(s.sats),
      align: 'right',
    },
    { key: 'at', header: 'Since', value: (s) => s.at, render: (s) => formatDateTime(s.at) },
  ];
}

function LoopBody({ report }: { report: Loop }) {
  const s = report.stuck;
  return (
    <Stack gap="lg">
      <DataTable
        caption="Stages of the loop"
        rows={stagesOf(report)}
        rowKey={(r) => r.stage}
        columns={STAGE_COLUMNS}
        csvName="loop-stages"
      />
      <Title order={2} size="h4">
        Mined by month and region
      </Title>
      <DataTable
        caption="Mined by month and region"
        rows={report.mined.byMonthRegion}
        rowKey={(g) => `${g.month}:${g.regionCode}`}
        columns={MINED_COLUMNS}
        empty="Nothing mined in the period."
        csvName="loop-mined"
      />
      <Title order={2} size="h4">
        Paid abroad by partner country and HS chapter
      </Title>
      <Text size="sm" data-testid="loop-cleared-share">
        {report.paidAbroad.settled.payouts} payout(s) abroad settled,{' '}
        {percent(report.paidAbroad.settled.clearedShareBasisPoints)} paid with cleared coins.
      </Text>
      <DataTable
        caption="Paid abroad by partner country and HS chapter"
        rows={report.paidAbroad.byPartner}
        rowKey={(g) => `${g.country}:${g.hsChapter}`}
        columns={PARTNER_COLUMNS}
        empty="No payout abroad settled in the period."
        csvName="loop-paid-abroad"
      />
      <Title order={2} size="h4">
        Deals traced from lot to payout
      </Title>
      {report.traceTruncated && (
        <Text size="sm">The newest {report.trace.length} deals of the period.</Text>
      )}
      <DataTable
        caption="Deals traced"
        rows={report.trace}
        rowKey={(t) => t.dealId}
        columns={traceColumns(report.names)}
        empty="No deals in the period."
        csvName="loop-deals"
      />
      <Title order={2} size="h4">
        Settlement windows: gross against net
      </Title>
      <DataTable
        caption="Settlement windows"
        rows={windowRows(report.netted.windows)}
        rowKey={(r) => `${r.window.id}:${r.asset?.asset ?? ''}`}
        columns={WINDOW_COLUMNS}
        empty="No settlement window in the period."
        csvName="loop-windows"
      />
      <Title order={2} size="h4">
        At the reference rate of each day
      </Title>
      {report.valuations.length === 0 && (
        <Text size="sm">No fixing was published on the days of the period’s lots and deals.</Text>
      )}
      {report.valuations.map((v) => (
        <DataTable
          key={v.currency}
          caption={`Valued in ${v.currency}`}
          rows={v.stages}
          rowKey={(x) => x.stage}
          columns={valuationColumns(v.currency)}
          csvName={`loop-valued-${v.currency}`}
        />
      ))}
      <DataTable
        caption="Fixings used"
        rows={report.fixings}
        rowKey={(f) => f.fixingId}
        columns={FIXING_COLUMNS}
        empty="No published fixing values the period."
        csvName="loop-fixings"
      />
      <Title order={2} size="h4">
        Stuck
      </Title>
      <Text size="sm">
        {s.quarantinedLots} quarantined lot(s), {s.heldDeals} held deal(s), {s.unsettledDeals}{' '}
        deal(s) not settled, {s.unpaidWindows} window(s) awaiting pay-ins.
      </Text>
      <DataTable
        caption="Stuck"
        rows={s.items}
        rowKey={(i) => `${i.kind}:${i.id}`}
        columns={stuckColumns(report.names)}
        empty="Nothing is stuck."
        csvName="loop-stuck"
      />
    </Stack>
  );
}

/** The supervisor's view of the loop: mined → cleared → sold → netted → paid abroad. */
export function LoopPage() {
  const today = new Date();
  const [from, setFrom] = useState(isoDate(new Date(today.getTime() - 365 * DAY)));
  const [to, setTo] = useState(isoDate(new Date(today.getTime() + DAY)));
  const [applied, setApplied] = useState({ from, to });
  const loop = useQuery({
    queryKey: ['clearing', 'loop', applied],
    queryFn: async () => unwrap(await api.GET('/v1/clearing/loop', { params: { query: applied } })),
  });
  return (
    <Page
      title="The loop of mined coins"
      description="Mined, cleared or quarantined, sold on a market, netted between platforms and paid abroad: each stage's total for the period, each deal traced, and what is stuck where."
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ from, to });
        }}
      >
        <Group align="flex-end">
          <TextInput
            type="date"
            label="From"
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
          />
          <TextInput
            type="date"
            label="To"
            description="Excluded"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
          <Button type="submit">Show</Button>
        </Group>
      </form>
      {loop.isPending ? (
        <Loading label="Loading the loop…" />
      ) : loop.error ? (
        <ErrorState error={loop.error} onRetry={() => void loop.refetch()} />
      ) : (
        <LoopBody report={loop.data} />
      )}
    </Page>
  );
}
