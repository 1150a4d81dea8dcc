import { z } from 'zod';
import {
  parsePeriod,
  REPORT_FORMATS,
  REPORT_KINDS,
  SETTLEMENT_SORTS,
  type Report,
  type ReportKind,
  type SettlementRow,
} from '../../oversight';
import { formatBtc, invalid } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

const OVERSIGHT = ['supervisor', 'auditor'] as const;

const sectionSchema = z.object({
  id: z.string(),
  title: z.string(),
  columns: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      kind: z.enum(['text', 'count', 'sats', 'btc', 'fiat']),
    }),
  ),
  rows: z.array(z.record(z.string(), z.string())),
});

const reportSchema = z
  .object({
    kind: z.enum(REPORT_KINDS),
    title: z.string(),
    scheme: z.string(),
    period: z.string(),
    from: z.string(),
    to: z.string(),
    generatedAt: z.string(),
    sections: z.array(sectionSchema),
  })
  .meta({ id: 'Report' });

const reportFile = z
  .custom<Buffer>((value) => Buffer.isBuffer(value))
  .describe('the report as a CSV, ZIP of CSVs, XLSX or PDF file');

const period = z
  .string()
  .max(16)
  .describe('a month like 2026-07, a quarter like 2026-Q3 or a year like 2026 (UTC)');

const amount = {
  count: z.number().int(),
  sats: z.string(),
  btc: z.string(),
  currency: z.string(),
  fiatMinor: z.string(),
  fiat: z.string(),
  direction: z.enum(['export', 'import']),
};

const dashboardSchema = z
  .object({
    generatedAt: z.string(),
    period: z
      .object({ label: z.string(), from: z.string(), to: z.string(), months: z.array(z.string()) })
      .nullable(),
    settledByMonth: z.array(z.object({ month: z.string(), ...amount })),
    byCountry: z.array(z.object({ country: z.string(), ...amount })),
    byHsChapter: z.array(z.object({ hsChapter: z.string(), ...amount })),
    mining: z.object({
      byRegionMonth: z.array(
        z.object({
          region: z.string(),
          month: z.string(),
          outputs: z.number().int(),
          sats: z.string(),
          btc: z.string(),
          violations: z.number().int(),
          violationSats: z.string(),
        }),
      ),
      bans: z.array(
        z.object({
          id: z.string(),
          region: z.string(),
          kind: z.string(),
          from: z.string(),
          to: z.string(),
          reason: z.string(),
          liftedAt: z.string().nullable(),
        }),
      ),
    }),
    open: z.object({
      alertsBySeverity: z.array(z.object({ severity: z.string(), count: z.number().int() })),
      casesBySeverity: z.array(z.object({ severity: z.string(), count: z.number().int() })),
    }),
    participantsByLicenceStatus: z.array(
      z.object({ kind: z.string(), status: z.string(), count: z.number().int() }),
    ),
  })
  .meta({ id: 'OversightDashboard' });

const settlementSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    reference: z.string(),
    direction: z.enum(['export', 'import']),
    platformId: z.string(),
    companyId: z.string(),
    companyName: z.string(),
    contractId: z.string(),
    counterpartyId: z.string(),
    counterpartyName: z.string(),
    country: z.string(),
    hsCode: z.string(),
    hsChapter: z.string(),
    amountSats: z.string(),
    btc: z.string(),
    fiatMinor: z.string(),
    currency: z.string(),
    txid: z.string(),
    settledAt: z.string(),
    rateId: z.string().meta({ description: 'the stored rate the settlement was valued at' }),
    fixingId: z
      .string()
      .nullable()
      .meta({ description: 'the published fixing that rate came from; null: the live source' }),
  })
  .meta({ id: 'OversightSettlement' });

function presentReport(report: Report) {
  return {
    ...report,
    sections: report.sections.map((section) => ({
      ...section,
      columns: section.columns.map((c) => ({ ...c })),
      rows: section.rows.map((row) => ({ ...row })),
    })),
  };
}

function presentSettlement(row: SettlementRow) {
  return {
    ...row,
    amountSats: row.amountSats.toString(),
    btc: formatBtc(row.amountSats),
    fiatMinor: row.fiatMinor.toString(),
    settledAt: row.settledAt.toISOString(),
  };
}

const ROLES_BY_REPORT: Record<ReportKind, readonly ('supervisor' | 'auditor' | 'platform')[]> = {
  bop: OVERSIGHT,
  mining: OVERSIGHT,
  alerts: OVERSIGHT,
  'platform-activity': [...OVERSIGHT, 'platform'],
};

const SUMMARIES: Record<ReportKind, string> = {
  bop: 'Balance of payments of bitcoin-settled trade, by partner country and month',
  mining: 'Mining output by region and month, with ban violations and bans',
  'platform-activity': 'Invoices and payouts settled and companies onboarded, per platform',
  alerts: 'Alerts by rule and severity, cases by state and outcome',
};

/** What a report route answers: the report (format=json) or a file to download. */
const reportOrFile = z.union([reportSchema, reportFile]).meta({ id: 'ReportOrFile' });

export function registerReportsRoutes(app: TypedApp, deps: AppDeps): void {
  for (const kind of REPORT_KINDS) {
    app.get(
      `/v1/reports/${kind}`,
      {
        config: { roles: ROLES_BY_REPORT[kind] },
        schema: {
          tags: ['oversight'],
          summary: SUMMARIES[kind],
          description:
            'format=json returns the report; the others return a file to download ' +
            '(Content-Disposition: attachment): csv one section (named by `section`) with one ' +
            'header row, csv-zip every section as its own CSV in a ZIP, xlsx a workbook with a ' +
            'sheet per section, pdf the printable report (page numbers, formatted figures).',
          querystring: z
            .object({
              period,
              format: z.enum(REPORT_FORMATS).default('json'),
              section: z
                .string()
                .min(1)
                .max(64)
                .optional()
                .describe('format=csv only: the section to download (its id, e.g. byCountry)'),
              platform: z
                .string()
                .min(1)
                .max(64)
                .optional()
                .describe('platform-activity only: one platform (a platform sees its own only)'),
            })
            .strict(),
          // 200 is the Report (format=json) or a file; fastify sends a Buffer as is, unserialized.
          response: { 200: reportOrFile, ...commonErrors },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request, ROLES_BY_REPORT[kind]);
        const query = request.query;
        if (query.platform !== undefined && kind !== 'platform-activity') {
          throw invalid('platform', `applies to platform-activity only, not to ${kind}`);
        }
        if (query.section !== undefined && query.format !== 'csv') {
          throw invalid('section', `applies to format csv only, not to ${query.format}`);
        }
        const parsed = parsePeriod(query.period, 'period');
        const report = await deps.services.oversight.report(caller, kind, parsed, {
          platformId: query.platform,
        });
        if (query.format === 'json') return reply.send(presentReport(report));
        const file = await deps.services.oversight.render(report, query.format, {
          section: query.section,
          sectionField: 'section',
        });
        return reply
          .header('content-type', file.contentType)
          .header('content-disposition', `attachment; filename="${file.filename}"`)
          .send(file.body);
      },
    );
  }

  app.get(
    '/v1/oversight/dashboard',
    {
      config: { roles: OVERSIGHT },
      schema: {
        tags: ['oversight'],
        summary: "The supervisor's dashboard: volumes, partners, HS chapters, mining, alerts",
        description:
          "The supervisor's dashboard: trade volumes by partner country and HS chapter, mining output, open alerts and cases.",
        querystring: z.object({ period: period.optional() }).strict(),
        response: { 200: dashboardSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, OVERSIGHT);
      const text = request.query.period;
      return deps.services.oversight.dashboard(
        caller,
        text === undefined ? null : parsePeriod(text, 'period'),
      );
    },
  );

  app.get(
    '/v1/oversight/settlements',
    {
      config: { roles: OVERSIGHT },
      schema: {
        tags: ['oversight'],
        summary: 'The settlements behind a dashboard point (filtered, sorted, paginated)',
        description:
          'A page at a time: pass `nextCursor` as `cursor` for the next, with the same filters and sort.',
        querystring: z
          .object({
            country: z
              .string()
              .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code like DE')
              .optional(),
            hsChapter: z
              .string()
              .regex(/^\d{2}$/, 'must be a two-digit HS chapter like 84')
              .optional(),
            month: z
              .string()
              .regex(/^\d{4}-\d{2}$/, 'must be a month like 2026-07')
              .optional(),
            direction: z.enum(['export', 'import']).optional(),
            platformId: z.string().min(1).max(64).optional(),
            ...pageQuery,
            sort: z.enum(SETTLEMENT_SORTS).default('settledAt'),
            order: z.enum(['asc', 'desc']).default('desc'),
          })
          .strict(),
        response: { 200: pageSchema(settlementSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, OVERSIGHT);
      const { limit, cursor, ...query } = request.query;
      const page = await deps.services.oversight.settlements(caller, query, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: page.items.map(presentSettlement) };
    },
  );
}
