import { z } from 'zod';
import { ACCOUNT_PURPOSES } from '../../ledger';
import { RECONCILE_CATEGORIES, type ReconcileReferences } from '../../trade';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, dateTime, pageQuery, pageSchema } from '../schemas';

export function registerLedgerRoutes(app: TypedApp, deps: AppDeps): void {
  const { ledger, trade } = deps.services;

  app.get(
    '/v1/ledger/balances',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['ledger'],
        summary: 'Ledger account balances visible to the caller (sats; positive = debit)',
        description:
          'A page of accounts by account id, each with its balance: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          participantId: z.string().max(64).optional(),
          platformId: z.string().max(64).optional(),
          purpose: z.enum(ACCOUNT_PURPOSES).optional(),
          ...pageQuery,
        }),
        response: {
          200: pageSchema(
            z
              .object({
                accountId: z.string(),
                participantId: z.string(),
                platformId: z.string().nullable(),
                purpose: z.enum(ACCOUNT_PURPOSES),
                balanceSats: z.string(),
              })
              .meta({ id: 'LedgerBalance' }),
          ),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { participantId, platformId, purpose, limit, cursor } = request.query;
      const filter = {
        ...(participantId ? { participantId } : {}),
        ...(platformId ? { platformId } : {}),
        ...(purpose ? { purpose } : {}),
      };
      const page = await ledger.balancePage(callerOf(request), filter, { limit, cursor });
      return {
        items: page.items.map((a) => ({ ...a, balanceSats: a.balanceSats.toString() })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/v1/ledger/statements/:participantId',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['ledger'],
        summary: "A company's statement for a period: its totals, and its lines by posting",
        description:
          'The lines (`items`) a page at a time, each with the running balance: pass `nextCursor` as `cursor` for the next.',
        params: z.object({ participantId: z.string().min(1).max(64) }),
        querystring: z.object({
          from: dateTime,
          to: dateTime,
          purpose: z.enum(ACCOUNT_PURPOSES).default('clientFunds'),
          ...pageQuery,
        }),
        response: {
          200: z
            .object({
              participantId: z.string(),
              purpose: z.string(),
              from: z.string(),
              to: z.string(),
              openingSats: z.string(),
              closingSats: z.string(),
              debitsSats: z.string(),
              creditsSats: z.string(),
              nextCursor: pageSchema(z.unknown()).shape.nextCursor,
              items: z.array(
                z.object({
                  transactionId: z.string(),
                  at: z.string(),
                  kind: z.string(),
                  reference: z.string(),
                  amountSats: z.string(),
                  fiatMinor: z.string().nullable(),
                  fiatCurrency: z.string().nullable(),
                  balanceSats: z.string(),
                }),
              ),
            })
            .meta({ id: 'LedgerStatement' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const s = await ledger.statement(
        callerOf(request),
        request.params.participantId,
        request.query.purpose,
        new Date(request.query.from),
        new Date(request.query.to),
        { limit: request.query.limit, cursor: request.query.cursor ?? null },
      );
      return {
        participantId: s.participantId,
        purpose: s.purpose,
        from: s.from.toISOString(),
        to: s.to.toISOString(),
        openingSats: s.openingSats.toString(),
        closingSats: s.closingSats.toString(),
        debitsSats: s.debitsSats.toString(),
        creditsSats: s.creditsSats.toString(),
        nextCursor: s.nextCursor,
        items: s.items.map((l) => ({
          ...l,
          at: l.at.toISOString(),
          amountSats: l.amountSats.toString(),
          fiatMinor: l.fiatMinor?.toString() ?? null,
          balanceSats: l.balanceSats.toString(),
        })),
      };
    },
  );

  app.get(
    '/v1/ledger/reconciliation',
    {
      config: { roles: ['supervisor', 'auditor', 'platform'] },
      schema: {
        tags: ['ledger'],
        summary:
          "Ledger balances against the wallets' unspent coins, each company's difference explained by category",
        description:
          'A page of lines (`items`) by company id, pass `nextCursor` as `cursor` for the next. Per company: clientFunds + inTransit against the unspent coins the chain watcher tracked, and the difference (coins − ledger) item by item: reviewHeldReceipt, blockedReceipt, unsettledConfirmation, unconfirmedSettlement, inTransitBatch, watcherLag, or unexplained. The totals (totalDifferenceSats, unexplainedSats, byCategory) are over the page lines; trialBalanceSats is the whole ledger trial balance. `pageReconciled` is true when nothing on this page is unexplained and the trial balance is zero; it says nothing of the other pages: the ledger is reconciled only when every page is (the CLI `ledger reconcile` walks them all and exits non-zero otherwise). A platform sees its own companies.',
        querystring: z.object({ ...pageQuery }),
        response: {
          200: z
            .object({
              view: z.enum(['chain', 'tracked']),
              tipHeight: z.number().int().nullable(),
              cursorHeight: z.number().int().nullable(),
              nextCursor: pageSchema(z.unknown()).shape.nextCursor,
              items: z.array(
                z.object({
                  companyId: z.string(),
                  platformId: z.string(),
                  clientFundsSats: z.string(),
                  inTransitSats: z.string(),
                  ledgerSats: z.string(),
                  trackedSats: z.string(),
                  chainSats: z.string().nullable(),
                  differenceSats: z.string(),
                  explainedSats: z.string(),
                  unexplainedSats: z.string(),
                  explained: z.boolean(),
                  items: z.array(
                    z.object({
                      category: z.enum(RECONCILE_CATEGORIES),
                      sats: z.string(),
                      note: z.string(),
                      references: z.object({
                        invoiceId: z.string().optional(),
                        decisionId: z.string().optional(),
                        batchId: z.string().optional(),
                        payoutIds: z.array(z.string()).optional(),
                        txid: z.string().optional(),
                        outpoints: z.array(z.string()).optional(),
                        height: z.number().int().optional(),
                        confirmations: z.number().int().optional(),
                        requiredConfirmations: z.number().int().optional(),
                        ledgerTransactionIds: z.array(z.string()).optional(),
                      }),
                    }),
                  ),
                }),
              ),
              totalDifferenceSats: z.string(),
              unexplainedSats: z.string(),
              byCategory: z.record(z.enum(RECONCILE_CATEGORIES), z.string()),
              trialBalanceSats: z.string(),
              pageReconciled: z.boolean(),
            })
            .meta({ id: 'LedgerReconciliation' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const report = await trade.reconcilePage(
        callerOf(request, ['supervisor', 'auditor', 'platform']),
        { limit: request.query.limit, cursor: request.query.cursor ?? null },
      );
      const text = (n: bigint) => n.toString();
      return {
        view: report.view,
        tipHeight: report.tipHeight,
        cursorHeight: report.cursorHeight,
        nextCursor: report.nextCursor,
        items: report.items.map((l) => ({
          companyId: l.companyId,
          platformId: l.platformId,
          clientFundsSats: text(l.clientFundsSats),
          inTransitSats: text(l.inTransitSats),
          ledgerSats: text(l.ledgerSats),
          trackedSats: text(l.trackedSats),
          chainSats: l.chainSats === null ? null : text(l.chainSats),
          differenceSats: text(l.differenceSats),
          explainedSats: text(l.explainedSats),
          unexplainedSats: text(l.unexplainedSats),
          explained: l.explained,
          items: l.items.map((i) => ({
            category: i.category,
            sats: text(i.sats),
            note: i.note,
            references: referencesOf(i.references),
          })),
        })),
        totalDifferenceSats: text(report.totalDifferenceSats),
        unexplainedSats: text(report.unexplainedSats),
        byCategory: Object.fromEntries(
          Object.entries(report.byCategory).map(([k, v]) => [k, text(v)]),
        ) as Record<(typeof RECONCILE_CATEGORIES)[number], string>,
        trialBalanceSats: text(report.trialBalanceSats),
        pageReconciled: report.reconciled,
      };
    },
  );
}

/** An item's references as JSON: only the fields that apply. */
function referencesOf(r: ReconcileReferences) {
  return {
    ...(r.invoiceId !== undefined ? { invoiceId: r.invoiceId } : {}),
    ...(r.decisionId !== undefined ? { decisionId: r.decisionId } : {}),
    ...(r.batchId !== undefined ? { batchId: r.batchId } : {}),
    ...(r.payoutIds !== undefined ? { payoutIds: [...r.payoutIds] } : {}),
    ...(r.txid !== undefined ? { txid: r.txid } : {}),
    ...(r.outpoints !== undefined ? { outpoints: [...r.outpoints] } : {}),
    ...(r.height !== undefined ? { height: r.height } : {}),
    ...(r.confirmations !== undefined ? { confirmations: r.confirmations } : {}),
    ...(r.requiredConfirmations !== undefined
      ? { requiredConfirmations: r.requiredConfirmations }
      : {}),
    ...(r.ledgerTransactionIds !== undefined
      ? { ledgerTransactionIds: [...r.ledgerTransactionIds] }
      : {}),
  };
}
