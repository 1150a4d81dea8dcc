import type { Command } from 'commander';
import type { LoopReport } from '../../clearing';
import { formatBtc, invalid, systemCaller } from '../../kernel';
import { formatTable, toJson, type CliIo, type TableColumn } from '../io';
import type { CliContext } from '../program';

const MOMENT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A date (midnight UTC) or an ISO 8601 date-time with its offset; anything else is refused. */
export function parseMoment(text: string, field: string): Date {
  const when = new Date(text);
  if (!MOMENT.test(text.trim()) || Number.isNaN(when.getTime()))
    throw invalid(field, `must be a date (2026-07-01) or an ISO 8601 date-time, got "${text}"`);
  return when;
}

interface StageLine {
  stage: string;
  count: string;
  amount: string;
  detail: string;
}

const btc = (sats: bigint) => `${formatBtc(sats)} BTC`;

/** One line per stage of the loop, in order, with its total. */
export function stageLines(r: LoopReport): StageLine[] {
  const line = (stage: string, count: number, amount: string, detail = '') => ({
    stage,
    count: String(count),
    amount,
    detail,
  });
  const c = r.clearance;
  const cross = r.sold.routes.filter((x) => x.crossPlatform).reduce((n, x) => n + x.deals, 0);
  return [
    line('mined', r.mined.lots, btc(r.mined.sats), `${r.mined.miners} miner(s)`),
    line('cleared', c.cleared.count, btc(c.cleared.sats)),
    line('quarantined', c.quarantined.count, btc(c.quarantined.sats)),
    line('released', c.released.count, btc(c.released.sats)),
    line('offered', c.offers, btc(c.offeredSats)),
    line('sold', r.sold.deals, btc(r.sold.sats), `${cross} at another platform`),
    ...r.sold.currencies.map((x) => line(`  paid ${x.currency}`, x.deals, `${x.fiatMinor} minor`)),
    line('delivered', r.paidAbroad.deliveredCoins, btc(r.paidAbroad.deliveredSats)),
    ...r.netted.totals.map((t) =>
      line(
        `netted ${t.asset}`,
        r.netted.windows.length,
        `${t.gross} gross`,
        `${t.net} net, ${t.unpaid} unpaid`,
      ),
    ),
    line(
      'paid abroad',
      r.paidAbroad.payouts,
      btc(r.paidAbroad.payoutSats),
      `${btc(r.paidAbroad.spentSats)} of delivered coins spent`,
    ),
    line(
      'stuck',
      r.stuck.quarantinedLots + r.stuck.unsettledDeals + r.stuck.unpaidWindows,
      '',
      `${r.stuck.quarantinedLots} quarantined lot(s), ${r.stuck.heldDeals} held deal(s), ` +
        `${r.stuck.unsettledDeals} unsettled deal(s), ${r.stuck.unpaidWindows} unpaid window(s)`,
    ),
  ];
}

const STAGE_COLUMNS: readonly TableColumn<StageLine>[] = [
  { header: 'stage', value: (l) => l.stage },
  { header: 'count', value: (l) => l.count, align: 'right' },
  { header: 'amount', value: (l) => l.amount, align: 'right' },
  { header: 'detail', value: (l) => l.detail },
];

function traceColumns(r: LoopReport): TableColumn<LoopReport['trace'][number]>[] {
  const name = (id: string) => r.names[id] ?? id;
  return [
    { header: 'deal', value: (t) => t.dealId },
    { header: 'status', value: (t) => t.status },
    { header: 'lot', value: (t) => t.lotId },
    { header: 'miner', value: (t) => name(t.minerId) },
    { header: 'importer', value: (t) => name(t.companyId) },
    { header: 'at platform', value: (t) => name(t.importerPlatformId) },
    { header: 'BTC', value: (t) => formatBtc(t.amountSats), align: 'right' },
    { header: 'fixing', value: (t) => t.fixingId ?? 'live rate' },
    { header: 'windows', value: (t) => t.windowIds.join(' ') || '-' },
    { header: 'payouts', value: (t) => t.payoutIds.join(' ') || '-' },
  ];
}

const percent = (basisPoints: number) => `${(basisPoints / 100).toFixed(2)} %`;

const MINED_COLUMNS: readonly TableColumn<LoopReport['mined']['byMonthRegion'][number]>[] = [
  { header: 'month', value: (g) => g.month },
  { header: 'region', value: (g) => g.regionCode },
  { header: 'lots', value: (g) => String(g.lots), align: 'right' },
  { header: 'mined BTC', value: (g) => btc(g.sats), align: 'right' },
  { header: 'cleared', value: (g) => btc(g.cleared.sats), align: 'right' },
  { header: 'quarantined', value: (g) => btc(g.quarantined.sats), align: 'right' },
  { header: 'released', value: (g) => btc(g.released.sats), align: 'right' },
];

const PARTNER_COLUMNS: readonly TableColumn<LoopReport['paidAbroad']['byPartner'][number]>[] = [
  { header: 'country', value: (g) => g.country },
  { header: 'HS chapter', value: (g) => g.hsChapter },
  { header: 'payouts', value: (g) => String(g.payouts), align: 'right' },
  { header: 'paid BTC', value: (g) => btc(g.sats), align: 'right' },
  { header: 'cleared share', value: (g) => percent(g.clearedShareBasisPoints), align: 'right' },
];

const VALUATION_COLUMNS: readonly TableColumn<
  LoopReport['valuations'][number]['stages'][number]
>[] = [
  { header: 'stage', value: (v) => v.stage },
  { header: 'BTC', value: (v) => btc(v.sats), align: 'right' },
  { header: 'valued BTC', value: (v) => btc(v.valuedSats), align: 'right' },
  { header: 'value (minor)', value: (v) => String(v.valueMinor), align: 'right' },
  { header: 'days without a fixing', value: (v) => v.unvaluedDays.join(' ') || '-' },
  { header: 'fixings', value: (v) => v.fixingIds.join(' ') || '-' },
];

export function printLoop(io: Pick<CliIo, 'stdout'>, r: LoopReport): void {
  io.stdout(`The loop from ${r.from.toISOString()} to ${r.to.toISOString()}`);
  for (const l of formatTable(stageLines(r), STAGE_COLUMNS)) io.stdout(l);
  io.stdout('');
  if (r.mined.byMonthRegion.length > 0) {
    io.stdout('Mined by month and region');
    for (const l of formatTable(r.mined.byMonthRegion, MINED_COLUMNS)) io.stdout(l);
    io.stdout('');
  }
  const settled = r.paidAbroad.settled;
  if (settled.payouts > 0) {
    io.stdout(
      `Paid abroad by partner country and HS chapter (${percent(settled.clearedShareBasisPoints)} with cleared coins)`,
    );
    for (const l of formatTable(r.paidAbroad.byPartner, PARTNER_COLUMNS)) io.stdout(l);
    io.stdout('');
  }
  for (const v of r.valuations) {
    io.stdout(`Valued in ${v.currency} at the fixing of each day`);
    for (const l of formatTable(v.stages, VALUATION_COLUMNS)) io.stdout(l);
    io.stdout('');
  }
  if (r.fixings.length > 0) {
    io.stdout('Fixings used');
    for (const f of r.fixings)
      io.stdout(`  ${f.fixingId}  ${f.quote} ${f.date} v${f.version}  (${f.usedBy.join(', ')})`);
    io.stdout('');
  }
  if (r.trace.length === 0) io.stdout('no deals in the period');
  else for (const l of formatTable(r.trace, traceColumns(r))) io.stdout(l);
  if (r.traceTruncated) io.stdout(`(the newest ${r.trace.length} deals; --json for the figures)`);
}

export function registerClearingCommands(program: Command, context: CliContext): void {
  const clearing = program
    .command('clearing')
    .description('regulatory clearing of mined coins: the loop report');

  clearing
    .command('loop')
    .description(
      'the loop of mined coins over a period: mined, cleared, sold, netted, paid abroad, stuck',
    )
    .requiredOption('--from <date>', 'start (a date, midnight UTC, or an ISO 8601 date-time)')
    .requiredOption('--to <date>', 'end, exclusive')
    .option('--json', 'print JSON')
    .action(async (options: { from: string; to: string; json?: boolean }) => {
      const from = parseMoment(options.from, '--from');
      const to = parseMoment(options.to, '--to');
      if (to.getTime() <= from.getTime()) throw invalid('--to', 'must be after --from');
      const report = await context.withPlatform((platform) =>
        platform.services.clearing.loop(systemCaller('cli'), { from, to }),
      );
      if (options.json) context.io.stdout(toJson(report));
      else printLoop(context.io, report);
    });
}
