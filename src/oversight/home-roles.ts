import type { SQL } from 'drizzle-orm';
import type { Caller } from '../kernel';
import { figure, int, json, str, type HomeFigure, type Row, type Shape } from './home';
import {
  auditorCounts,
  auditorQueues,
  companyCounts,
  companyQueues,
  minerCounts,
  minerQueues,
  platformCounts,
  platformQueues,
  supervisorCounts,
  supervisorQueues,
  type HomeWindow,
} from './home-sql';

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const AGES = { day: 'under a day', week: '1–7 days', older: 'over a week' } as const;

interface CaseCount {
  severity: string;
  age: keyof typeof AGES;
  n: number;
}

/** Open cases by severity (one figure each), then by age. */
function caseFigures(row: Row): HomeFigure[] {
  const cases = json<CaseCount[]>(row.cases, []);
  const sum = (keep: (c: CaseCount) => boolean) =>
    cases.filter(keep).reduce((total, c) => total + Number(c.n), 0);
  return [
    ...SEVERITIES.map((severity) =>
      figure(
        `cases.${severity}`,
        `Open cases, ${severity}`,
        sum((c) => c.severity === severity),
        '/compliance/cases',
        { attention: severity !== 'low' && sum((c) => c.severity === severity) > 0 },
      ),
    ),
    ...(Object.keys(AGES) as (keyof typeof AGES)[]).map((age) =>
      figure(
        `cases.age.${age}`,
        `Open cases open ${AGES[age]}`,
        sum((c) => c.age === age),
        null,
        {
          attention: age === 'older' && sum((c) => c.age === age) > 0,
        },
      ),
    ),
  ];
}

const supervisor: Shape = {
  figures: (row) => [
    figure('blocks.today', 'New blocks today', row.blocks_today, '/mining', { attention: false }),
    figure('blocks.tip', 'Chain tip height', row.tip_height ?? 0, null, { attention: false }),
    figure('refusals.today', 'Gate refusals today', row.refusals_today, '/compliance/decisions'),
    figure('violations.today', 'Ban violations today', row.violations_today, '/mining'),
    figure('violations.open', 'Ban violations unresolved', row.violations_open, '/mining'),
    figure('deals.held', 'Market deals held for a decision', row.deals_held, '/clearing/market'),
    figure(
      'licences.expiring',
      'Licences expiring in 30 days',
      row.licences_expiring,
      '/registry/licences?status=active',
    ),
    ...caseFigures(row),
  ],
  queues: [
    {
      key: 'cases',
      title: 'Open cases, oldest first',
      total: (r) => int(r.cases_open),
      href: '/compliance/cases',
      empty: 'No open cases.',
    },
    {
      key: 'refusals',
      title: 'Latest gate refusals',
      total: (r) => int(r.refusals),
      href: '/compliance/decisions',
      empty: 'The gate has refused nothing.',
    },
    {
      key: 'held',
      title: 'Market deals held, oldest first',
      total: (r) => int(r.deals_held),
      href: '/clearing/market',
      empty: 'No market deal is held.',
    },
    {
      key: 'violations',
      title: 'Unresolved ban violations',
      total: (r) => int(r.violations_open),
      href: '/mining',
      empty: 'No unresolved ban violations.',
    },
    {
      key: 'licences',
      title: 'Licences expiring in 30 days',
      total: (r) => int(r.licences_expiring),
      href: '/registry/licences?status=active',
      empty: 'No licence expires in the next 30 days.',
    },
  ],
};

const platform: Shape = {
  figures: (row) => [
    figure('approvals', 'Payouts awaiting my approval', row.approvals, '/trade/payouts'),
    figure('reviews', 'Payouts awaiting compliance review', row.reviews, '/trade/payouts'),
    figure('kyc.due', 'KYC reviews due', row.kyc_due, '/registry/participants'),
    figure('hits.open', 'Screening hits to resolve', row.hits_open, '/compliance/screening'),
    figure('batches.inFlight', 'Batches in flight', row.batches_in_flight, '/trade/payouts', {
      attention: false,
    }),
    figure('refusals.today', 'Gate refusals today', row.refusals_today, '/compliance/decisions'),
  ],
  queues: [
    {
      key: 'approvals',
      title: 'Payouts awaiting my approval',
      total: (r) => int(r.approvals),
      href: '/trade/payouts',
      empty: 'Nothing waits for your approval.',
    },
    {
      key: 'kyc',
      title: 'KYC reviews due',
      total: (r) => int(r.kyc_due),
      href: '/registry/participants',
      empty: 'No KYC review is due in the next 30 days.',
    },
    {
      key: 'hits',
      title: 'Screening hits to resolve',
      total: (r) => int(r.hits_open),
      href: '/compliance/screening',
      empty: 'No open screening hits.',
    },
    {
      key: 'batches',
      title: 'Batches in flight',
      total: (r) => int(r.batches_in_flight),
      href: '/trade/payouts',
      empty: 'No batch in flight.',
    },
  ],
};

const INVOICE_STATES = {
  new: 'Invoices awaiting payment',
  processing: 'Invoices paid, confirming',
  settled: 'Invoices settled',
  expired: 'Invoices expired',
  invalid: 'Invoices refused',
} as const;
const PAYOUT_STATES = {
  awaitingReview: 'Payouts in compliance review',
  awaitingApproval: 'Payouts awaiting approval',
  awaitingPayment: 'Payouts awaiting their batch',
  inProgress: 'Payouts being paid',
  held: 'Payouts held',
  completed: 'Payouts completed',
  cancelled: 'Payouts cancelled',
} as const;
const UNDER_WAY = ['awaitingReview', 'awaitingApproval', 'awaitingPayment', 'inProgress', 'held'];

const company: Shape = {
  figures: (row) => {
    const invoices = json<Record<string, number>>(row.invoices, {});
    const payouts = json<Record<string, number>>(row.payouts, {});
    const balances = json<{ currency: string; open: string; n: number }[]>(row.balances, []);
    return [
      ...Object.entries(INVOICE_STATES).map(([s, label]) =>
        figure(`invoices.${s}`, label, invoices[s] ?? 0, '/trade/invoices', { attention: false }),
      ),
      ...Object.entries(PAYOUT_STATES).map(([s, label]) =>
        figure(`payouts.${s}`, label, payouts[s] ?? 0, '/trade/payouts', {
          attention: s === 'held' && (payouts[s] ?? 0) > 0,
        }),
      ),
      ...balances.map((b) =>
        figure(
          `contracts.open.${b.currency}`,
          `Open on ${b.n} contracts (${b.currency})`,
          b.open,
          '/trade/contracts',
          { unit: 'fiat', currency: b.currency, attention: false },
        ),
      ),
    ];
  },
  queues: [
    {
      key: 'invoices',
      title: 'Invoices awaiting payment',
      total: (r) =>
        ['new', 'processing'].reduce(
          (t, s) => t + (json<Record<string, number>>(r.invoices, {})[s] ?? 0),
          0,
        ),
      href: '/trade/invoices',
      empty: 'No invoice awaits payment.',
    },
    {
      key: 'payouts',
      title: 'Payouts under way',
      total: (r) =>
        UNDER_WAY.reduce((t, s) => t + (json<Record<string, number>>(r.payouts, {})[s] ?? 0), 0),
      href: '/trade/payouts',
      empty: 'No payout under way.',
    },
    {
      key: 'contracts',
      title: 'Contract balances, largest open first',
      total: (r) => json<{ n: number }[]>(r.balances, []).reduce((t, b) => t + Number(b.n), 0),
      href: '/trade/contracts',
      empty: 'No approved or active contract.',
    },
  ],
};

const miner: Shape = {
  figures: (row) => {
    const lots = json<Record<string, number>>(row.lots, {});
    return [
      figure('output.month', 'Output this month', row.month_sats, '/mining', {
        unit: 'sats',
        attention: false,
      }),
      figure('outputs', 'Outputs attributed', row.outputs, '/mining', { attention: false }),
      figure('lots.cleared', 'Lots cleared', lots.cleared ?? 0, '/mining', { attention: false }),
      figure('lots.quarantined', 'Lots quarantined', lots.quarantined ?? 0, '/mining'),
      figure('lots.released', 'Lots released', lots.released ?? 0, '/mining', { attention: false }),
      figure('violations.open', 'Ban violations unresolved', row.violations_open, '/mining'),
    ];
  },
  queues: [
    {
      key: 'output',
      title: 'Output by month',
      total: () => 0,
      href: '/mining',
      empty: 'No output attributed to your sites yet.',
    },
    {
      key: 'lots',
      title: 'Latest lots',
      total: (r) =>
        Object.values(json<Record<string, number>>(r.lots, {})).reduce((t, n) => t + Number(n), 0),
      href: '/mining',
      empty: 'No lots yet.',
    },
    {
      key: 'violations',
      title: 'Ban violations',
      total: (r) => int(r.violations),
      href: '/mining',
      empty: 'No ban violations.',
    },
  ],
};

const auditor: Shape = {
  figures: (row) => [
    figure('audit.events', 'Audit events in the chain', row.events ?? 0, '/audit', {
      attention: false,
    }),
    figure('audit.head', 'Chain head hash', (str(row.last_hash) ?? '—').slice(0, 16), '/audit', {
      unit: 'text',
    }),
    figure('audit.lastAt', 'Last event', row.last_at ?? '—', '/audit', { unit: 'text' }),
    figure('cases.open', 'Open cases', row.cases_open, '/compliance/cases', { attention: false }),
    figure('refusals.today', 'Gate refusals today', row.refusals_today, '/compliance/decisions', {
      attention: false,
    }),
  ],
  queues: [
    {
      key: 'actions',
      title: 'Recent supervisor actions',
      total: () => 0,
      href: '/audit',
      empty: 'The supervisor has done nothing yet.',
    },
  ],
};

/** What the caller's role is shown, and the two statements that fill it. */
export function roleHome(
  caller: Caller,
  w: HomeWindow,
): { counts: SQL; queues: SQL; shape: Shape } {
  switch (caller.role) {
    case 'supervisor':
      return { counts: supervisorCounts(w), queues: supervisorQueues(w), shape: supervisor };
    case 'platform':
      return {
        counts: platformCounts(caller, w),
        queues: platformQueues(caller, w),
        shape: platform,
      };
    case 'company':
      return { counts: companyCounts(caller), queues: companyQueues(caller), shape: company };
    case 'miner':
      return { counts: minerCounts(caller, w), queues: minerQueues(caller), shape: miner };
    case 'auditor':
      return { counts: auditorCounts(w), queues: auditorQueues(), shape: auditor };
  }
}
